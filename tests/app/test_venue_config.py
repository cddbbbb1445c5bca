"""Live venue configuration: connections, per-account credentials, failover routes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphintra.app.config import ConfigError, Settings, load_settings
from alphintra.app.venue_config import (
    VenueConnection,
    VenueSettingsError,
    account_credentials,
    account_links,
    credentials_for,
)
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.security import CredentialVault, MasterKey
from alphintra.store.directory import Directory
from alphintra.store.migrate import upgrade
from alphintra.venues.ccxt import CcxtAdapter

BINANCE = VenueConnection(
    kind="ccxt",
    instruments=["BTCUSDT"],
    settings={"exchange_id": "binance", "base_url": "http://127.0.0.1:9"},
)
KRAKEN = VenueConnection(kind="ccxt", settings={"exchange_id": "kraken", "market_type": "spot"})
KEYS = {"api_key": "k", "secret": "s", "KRAKEN.api_key": "kk", "KRAKEN.secret": "ks"}


def test_credentials_for_venue_prefixed_keys_override_plain_ones() -> None:
    assert credentials_for(KEYS, "BINANCE") == {"api_key": "k", "secret": "s"}
    assert credentials_for(KEYS, "KRAKEN") == {"api_key": "kk", "secret": "ks"}


def test_account_links_failover_route_connects_every_venue_on_it() -> None:
    links, routes = account_links(
        "A1",
        "BINANCE",
        {"BINANCE": BINANCE, "KRAKEN": KRAKEN},
        {"BTCUSDT": ["BINANCE", "KRAKEN"], "ETHUSD": ["KRAKEN"]},
        KEYS,
        InstrumentRegistry(),
    )
    assert [link.adapter.venue_id for link in links] == ["BINANCE", "KRAKEN"]
    assert routes == {InstrumentId("BTCUSDT"): ("BINANCE", "KRAKEN")}
    primary = links[0].adapter
    assert isinstance(primary, CcxtAdapter)
    assert primary.config.api_key == "k"
    assert primary.config.instruments == ("BTCUSDT",)
    assert links[0].quotes == (InstrumentId("BTCUSDT"),)
    assert links[0].check_positions is False  # spot: balances, not positions


def test_account_links_simulated_account_has_no_live_venue() -> None:
    assert account_links("A1", "SIM", {"BINANCE": BINANCE}, {}, {}, InstrumentRegistry()) == (
        (),
        {},
    )


@pytest.mark.parametrize(
    ("venue", "venues", "failover", "message"),
    [
        ("NOPE", {"BINANCE": BINANCE}, {}, "venue 'NOPE' is neither 'SIM' nor a configured"),
        (
            "BINANCE",
            {"BINANCE": BINANCE},
            {"BTCUSDT": ["BINANCE", "GHOST"]},
            "names venue 'GHOST', which is not a configured venue connection",
        ),
        (
            "BINANCE",
            {
                "BINANCE": VenueConnection(
                    kind="ccxt", settings={"exchange_id": "binance", "secret": "x"}
                )
            },
            {},
            "settings ['secret'] are credentials",
        ),
        (
            "BINANCE",
            {"BINANCE": VenueConnection(kind="ccxt", settings={"exchange_id": "binance", "x": 1})},
            {},
            "unknown keys ['x']",
        ),
    ],
)
def test_account_links_bad_configuration_names_the_value(
    venue: str,
    venues: dict[str, VenueConnection],
    failover: dict[str, list[str]],
    message: str,
) -> None:
    with pytest.raises(VenueSettingsError) as caught:
        account_links("A1", venue, venues, failover, KEYS, InstrumentRegistry())
    assert message in str(caught.value)


def test_account_credentials_decrypts_only_for_its_account(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    upgrade(url)
    directory = Directory(url)
    vault = CredentialVault(MasterKey.generate())
    try:
        directory.add_user("u", "trader")
        blob = vault.encrypt(json.dumps(KEYS).encode(), b"A1")
        directory.add_account("A1", "u", "BINANCE", "USDT", "1000", blob)
        directory.add_account("A2", "u", "BINANCE", "USDT", "1000", blob)  # copied blob
        directory.add_account("A3", "u", "SIM", "USD", "1000", None)
        assert account_credentials(directory, vault, "A1") == KEYS
        assert account_credentials(directory, vault, "A3") == {}
        with pytest.raises(VenueSettingsError, match="account A2: credential blob failed"):
            account_credentials(directory, vault, "A2")
        with pytest.raises(VenueSettingsError, match="no master key is configured"):
            account_credentials(directory, None, "A1")
    finally:
        directory.close()


def test_settings_venues_from_environment_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHINTRA_VENUES", json.dumps({"BINANCE": BINANCE.model_dump()}))
    monkeypatch.setenv("ALPHINTRA_FAILOVER", '{"BTCUSDT": ["BINANCE"]}')
    settings = Settings()
    assert settings.venues == {"BINANCE": BINANCE}
    assert settings.failover == {"BTCUSDT": ["BINANCE"]}


def test_settings_unknown_venue_kind_is_refused_with_the_value() -> None:
    with pytest.raises(ConfigError, match="fix"):
        load_settings(None, venues={"X": {"kind": "fix"}})
