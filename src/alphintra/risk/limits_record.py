"""Risk limits in the journal: `RiskLimitsChanged` written and read back.

A change of limits at run time (``PUT /api/v1/risk/limits``) is journaled as the whole
new set, in the configuration's form, so that a restart applies what was last set
rather than the limits the process started with.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from alphintra.domain.events import AnyEvent, RiskLimitsChanged
from alphintra.domain.identifiers import AccountId
from alphintra.risk.limits import RiskLimits, RiskLimitsError
from alphintra.risk.limits_mapping import limits_from_mapping, limits_to_mapping
from alphintra.risk.monitor_mapping import monitor_limits_from_mapping, monitor_limits_to_mapping
from alphintra.risk.monitors import MonitorLimits


def limits_changed(
    account_id: AccountId, ts: int, limits: RiskLimits, monitors: MonitorLimits
) -> RiskLimitsChanged:
    """Return the event recording ``limits`` and ``monitors`` as the account's limits."""
    return RiskLimitsChanged(
        account_id=account_id,
        ts_event=ts,
        ts_recv=ts,
        limits=json.dumps(limits_to_mapping(limits), sort_keys=True),
        monitors=json.dumps(monitor_limits_to_mapping(monitors), sort_keys=True),
    )


def recorded_limits(event: RiskLimitsChanged) -> tuple[RiskLimits, MonitorLimits]:
    """Return the limits and monitor thresholds ``event`` records.

    Raise `RiskLimitsError` naming the account when they no longer load: an account is
    better not started than started without the limits its risk officer set.
    """
    where = f"journaled risk limits of account {event.account_id} (ts {event.ts_event})"
    try:
        limits = limits_from_mapping(json.loads(event.limits), path="limits")
        monitors = monitor_limits_from_mapping(json.loads(event.monitors), path="monitors")
    except (RiskLimitsError, ValueError) as exc:
        raise RiskLimitsError(f"{where}: {exc}") from None
    return limits, monitors


def latest_limits(history: Sequence[AnyEvent]) -> tuple[RiskLimits, MonitorLimits] | None:
    """Return the limits last journaled in ``history`` (an account's events), or None."""
    for event in reversed(history):
        if type(event) is RiskLimitsChanged:
            return recorded_limits(event)
    return None
