"""Which sizing policy each account uses: from the configuration, or as last set.

The configuration's ``sizing`` setting is ``{"defaults": POLICY, "accounts": {ID:
POLICY}}``, each POLICY in the form of `sizing_policy_from_mapping` or ``null`` (no
policy: signals without a quantity are rejected with ``NO_SIZING_POLICY``). A policy
set at run time is journaled (`SizingPolicyChanged`) and replaces the configured one
from then on, across restarts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from alphintra.domain.events import AnyEvent, SizingPolicyChanged
from alphintra.domain.identifiers import AccountId
from alphintra.signals.sizing import (
    SizingError,
    SizingPolicy,
    sizing_policy_from_mapping,
    sizing_policy_to_mapping,
)

_PATH: Final = "sizing"


def policy_from_mapping(data: object, path: str) -> SizingPolicy | None:
    """Return the policy ``data`` describes (None for null); raise `SizingError`
    (``INVALID_POLICY``) naming ``path``, the key and the value of a bad entry."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise SizingError(
            "INVALID_POLICY",
            f"{path} must be a mapping or null, got {type(data).__name__} {data!r}",
        )
    try:
        return sizing_policy_from_mapping(data)
    except SizingError as exc:
        # The loader names its keys from "sizing"; name them from where they are.
        raise SizingError(exc.code, str(exc).replace(_PATH, path, 1)) from None


@dataclass(frozen=True, slots=True)
class SizingBook:
    """The configured default sizing policy and the accounts that override it."""

    defaults: SizingPolicy | None = None
    accounts: Mapping[str, SizingPolicy | None] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def for_account(self, account_id: str) -> SizingPolicy | None:
        """Return the policy of ``account_id`` (the default when it names none)."""
        return self.accounts.get(account_id, self.defaults)

    @classmethod
    def from_mapping(cls, data: object) -> SizingBook:
        """Build from ``{"defaults": POLICY, "accounts": {ID: POLICY}}``; raise
        `SizingError` (``INVALID_POLICY``) naming the path and value of a bad entry."""
        if not isinstance(data, Mapping):
            raise SizingError(
                "INVALID_POLICY", f"{_PATH}: expected a mapping, got {type(data).__name__} {data!r}"
            )
        unknown = sorted(str(key) for key in data if key not in ("defaults", "accounts"))
        if unknown:
            raise SizingError(
                "INVALID_POLICY",
                f"{_PATH}: unknown keys {unknown}; allowed: ['accounts', 'defaults']",
            )
        accounts = data.get("accounts") or {}
        if not isinstance(accounts, Mapping):
            raise SizingError(
                "INVALID_POLICY",
                f"{_PATH}.accounts: expected a mapping, got {type(accounts).__name__} {accounts!r}",
            )
        return cls(
            policy_from_mapping(data.get("defaults"), f"{_PATH}.defaults"),
            MappingProxyType(
                {
                    str(account): policy_from_mapping(spec, f"{_PATH}.accounts.{account}")
                    for account, spec in accounts.items()
                }
            ),
        )


def sizing_changed(
    account_id: AccountId, ts: int, policy: SizingPolicy | None
) -> SizingPolicyChanged:
    """Return the event recording ``policy`` as the account's sizing policy."""
    mapping = None if policy is None else sizing_policy_to_mapping(policy)
    return SizingPolicyChanged(
        account_id=account_id, ts_event=ts, ts_recv=ts, policy=json.dumps(mapping, sort_keys=True)
    )


def recorded_sizing(event: SizingPolicyChanged) -> SizingPolicy | None:
    """Return the policy ``event`` records; raise `SizingError` naming the account when
    it no longer loads (the account is better not started than sized otherwise)."""
    where = f"journaled sizing policy of account {event.account_id} (ts {event.ts_event})"
    try:
        return policy_from_mapping(json.loads(event.policy), "policy")
    except (SizingError, ValueError) as exc:
        raise SizingError("INVALID_POLICY", f"{where}: {exc}") from None


def latest_sizing(history: Sequence[AnyEvent]) -> tuple[bool, SizingPolicy | None]:
    """Return (found, policy): the sizing policy last journaled in ``history``."""
    for event in reversed(history):
        if type(event) is SizingPolicyChanged:
            return True, recorded_sizing(event)
    return False, None
