"""Live venue connections: configuration, credentials per account, and adapter building.

A venue connection is named (the name is the venue ID orders are booked under) and
says which adapter family talks to it and how to reach it::

    ALPHINTRA_VENUES='{"BINANCE": {"kind": "ccxt", "instruments": ["BTCUSDT"],
                       "settings": {"exchange_id": "binance", "sandbox": true}}}'

An account trades on a live venue when its ``venue`` (``alphintra accounts add
--venue BINANCE``) names a connection. Its API keys come from the account's encrypted
credentials (a JSON object): plain keys (``api_key``, ``secret``) apply to every venue
of the account, keys prefixed with a venue name (``KRAKEN.api_key``) to that venue only.
Credentials in the configuration itself are refused.

``ALPHINTRA_FAILOVER='{"BTCUSDT": ["BINANCE", "KRAKEN"]}'`` lists, per instrument, the
venues new orders may go to (primary first); an account whose venue is on a route also
connects to the other venues of that route.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.registry import InstrumentRegistry, UnknownInstrumentError
from alphintra.security import CredentialDecryptionError, CredentialVault
from alphintra.service.live import VenueLink
from alphintra.store.directory import Directory
from alphintra.venues.adapter import VenueAdapter

SECRET_KEYS = frozenset({"api_key", "secret", "secret_key", "passphrase", "token", "password"})
SIMULATED = "SIM"


class VenueSettingsError(ValueError):
    """A venue connection or an account's credentials are unusable; says which and why."""


class VenueConnection(BaseModel):
    """How to reach one live venue (credentials excluded: they are per account)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["ccxt", "alpaca", "oanda", "ib"]
    settings: dict[str, Any] = Field(default_factory=dict)
    """The adapter's own configuration (``CcxtConfig``, ``AlpacaConfig``, ...) by field."""
    instruments: list[str] = Field(default_factory=list)
    """Instruments traded here: their quotes stream into the engine, their fills are read."""
    check_positions: bool | None = None
    """Compare positions at reconciliation; default: yes, except on ccxt spot markets."""


def credentials_for(blob: Mapping[str, str], venue: str) -> dict[str, str]:
    """Return the credentials of ``venue``: plain keys, overridden by ``VENUE.key`` ones."""
    plain = {k: v for k, v in blob.items() if "." not in k}
    prefix = f"{venue}."
    plain.update({k.removeprefix(prefix): v for k, v in blob.items() if k.startswith(prefix)})
    return plain


def account_credentials(
    directory: Directory, vault: CredentialVault | None, account_id: str
) -> dict[str, str]:
    """Decrypt an account's credentials; an empty mapping when it has none."""
    blob = directory.credentials(account_id)
    if blob is None:
        return {}
    if vault is None:
        raise VenueSettingsError(
            f"account {account_id} has encrypted credentials but no master key is configured "
            "(set ALPHINTRA_MASTER_KEY or ALPHINTRA_MASTER_KEY_FILE)"
        )
    try:
        data = json.loads(vault.decrypt(blob, account_id.encode()))
    except CredentialDecryptionError as exc:
        raise VenueSettingsError(f"account {account_id}: {exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise VenueSettingsError(
            f"account {account_id}: credentials must be a JSON object of strings"
        )
    return data


def account_links(
    account_id: str,
    venue: str,
    venues: Mapping[str, VenueConnection],
    failover: Mapping[str, list[str]],
    credentials: Mapping[str, str],
    registry: InstrumentRegistry,
) -> tuple[tuple[VenueLink, ...], dict[InstrumentId, tuple[VenueId, ...]]]:
    """Return the live venues (primary first) and failover routes of one account.

    An account on the simulated venue gets none.
    """
    if venue == SIMULATED and venue not in venues:
        return (), {}
    if venue not in venues:
        raise VenueSettingsError(
            f"account {account_id}: venue {venue!r} is neither {SIMULATED!r} nor a configured "
            f"venue connection; configured: {sorted(venues)}"
        )
    routes = {
        InstrumentId(instrument): tuple(VenueId(v) for v in route)
        for instrument, route in failover.items()
        if venue in route
    }
    names = [venue]
    for route in routes.values():
        for name in route:
            if name not in venues:
                raise VenueSettingsError(
                    f"failover route {list(route)} names venue {name!r}, which is not a "
                    f"configured venue connection; configured: {sorted(venues)}"
                )
            if name not in names:
                names.append(name)
    links = tuple(
        _link(account_id, name, venues[name], credentials_for(credentials, name), registry)
        for name in names
    )
    return links, routes


def _link(
    account_id: str,
    name: str,
    connection: VenueConnection,
    credentials: Mapping[str, str],
    registry: InstrumentRegistry,
) -> VenueLink:
    secrets = sorted(SECRET_KEYS & set(connection.settings))
    if secrets:
        raise VenueSettingsError(
            f"venue {name}: settings {secrets} are credentials; they belong in the account's "
            "encrypted credential store, not in the configuration"
        )
    instruments: list[InstrumentId] = []
    for symbol in connection.instruments:
        try:
            instruments.append(registry.get(symbol).id)
        except UnknownInstrumentError as exc:
            raise VenueSettingsError(f"venue {name}: instruments: {exc}") from None
    try:
        adapter, positions = _adapter(name, connection, credentials, instruments, registry)
    except (ValueError, TypeError) as exc:
        raise VenueSettingsError(f"account {account_id}, venue {name}: {exc}") from None
    if adapter.venue_id != name:
        raise VenueSettingsError(
            f"venue {name}: the adapter books under venue ID {adapter.venue_id!r}; "
            "name the connection after it"
        )
    check = connection.check_positions
    return VenueLink(adapter, positions if check is None else check, tuple(instruments))


def _adapter(
    name: str,
    connection: VenueConnection,
    credentials: Mapping[str, str],
    instruments: list[InstrumentId],
    registry: InstrumentRegistry,
) -> tuple[VenueAdapter, bool]:
    values: dict[str, Any] = {**connection.settings, **credentials, "venue_id": name}
    if connection.kind == "ccxt":
        from alphintra.venues.ccxt import CcxtAdapter, CcxtConfig, MarketType

        values["instruments"] = [*values.get("instruments", ()), *instruments]
        config = CcxtConfig.from_mapping(values)
        return CcxtAdapter(config), config.market_type is not MarketType.SPOT
    if connection.kind == "alpaca":
        from alphintra.venues.alpaca import AlpacaAdapter, AlpacaConfig

        return AlpacaAdapter(AlpacaConfig(**values), [registry.get(i) for i in instruments]), True
    if connection.kind == "oanda":
        from alphintra.venues.oanda import OandaAdapter, OandaConfig

        return OandaAdapter(OandaConfig.from_mapping(values)), True
    from alphintra.venues.ib import IbAdapter, IbConfig

    return IbAdapter(IbConfig.from_mapping(values), registry), True


__all__ = [
    "VenueConnection",
    "VenueSettingsError",
    "account_credentials",
    "account_links",
    "credentials_for",
]
