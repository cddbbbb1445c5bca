"""IB order statuses and error codes, translated."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ib_async.order import OrderStatus as IbStatus

from alphintra.domain.enums import OrderStatus
from alphintra.venues.adapter import VenueErrorKind
from alphintra.venues.ib.errors import (
    IB_ERROR_RULES,
    IbErrorEffect,
    classify_error,
    venue_error,
)
from alphintra.venues.ib.translation import (
    IB_ORDER_STATUS,
    IbTranslationError,
    order_status_from_ib,
)

D = Decimal
Z = D(0)

IB_STATUS_STRINGS = {
    value for name, value in vars(IbStatus).items() if name[:1].isupper() and isinstance(value, str)
}
"""Every status string ib_async knows (TWS's nine plus its ApiUpdate and ValidationError)."""


def test_status_map_covers_every_status_ib_async_knows() -> None:
    assert len(IB_STATUS_STRINGS) == 11
    assert set(IB_ORDER_STATUS) == IB_STATUS_STRINGS


@pytest.mark.parametrize(
    ("ib_status", "expected"),
    [
        ("ApiPending", OrderStatus.SUBMITTED),
        ("PendingSubmit", OrderStatus.SUBMITTED),
        ("PreSubmitted", OrderStatus.ACCEPTED),
        ("Submitted", OrderStatus.ACCEPTED),
        ("ApiUpdate", OrderStatus.ACCEPTED),
        ("PendingCancel", OrderStatus.PENDING_CANCEL),
        ("ApiCancelled", OrderStatus.CANCELLED),
        ("Cancelled", OrderStatus.CANCELLED),
        ("Filled", OrderStatus.FILLED),
        ("Inactive", OrderStatus.REJECTED),
        ("ValidationError", None),
    ],
)
def test_order_status_from_ib_without_fills_maps_directly(
    ib_status: str, expected: OrderStatus | None
) -> None:
    assert order_status_from_ib(ib_status, Z) is expected


def test_order_status_from_ib_working_with_fills_is_partially_filled() -> None:
    assert order_status_from_ib("Submitted", D(40)) is OrderStatus.PARTIALLY_FILLED
    assert order_status_from_ib("PreSubmitted", D(1)) is OrderStatus.PARTIALLY_FILLED


def test_order_status_from_ib_inactive_after_fills_is_cancelled() -> None:
    assert order_status_from_ib("Inactive", D(40)) is OrderStatus.CANCELLED


def test_order_status_from_ib_cancelled_after_fills_stays_cancelled() -> None:
    assert order_status_from_ib("Cancelled", D(40)) is OrderStatus.CANCELLED


def test_order_status_from_ib_unknown_string_raises() -> None:
    with pytest.raises(IbTranslationError, match="Rejected"):
        order_status_from_ib("Rejected", Z)


@pytest.mark.parametrize(
    ("code", "effect", "kind"),
    [
        (201, IbErrorEffect.REJECT, VenueErrorKind.DEFINITIVE),
        (202, IbErrorEffect.CANCELLED, VenueErrorKind.DEFINITIVE),
        (103, IbErrorEffect.REJECT, VenueErrorKind.DEFINITIVE),
        (200, IbErrorEffect.REJECT, VenueErrorKind.DEFINITIVE),
        (110, IbErrorEffect.VALIDATION, VenueErrorKind.DEFINITIVE),
        (10147, IbErrorEffect.CANCEL_REFUSED, VenueErrorKind.DEFINITIVE),
        (10148, IbErrorEffect.CANCEL_REFUSED, VenueErrorKind.DEFINITIVE),
        (161, IbErrorEffect.CANCEL_REFUSED, VenueErrorKind.DEFINITIVE),
        (104, IbErrorEffect.MODIFY_REFUSED, VenueErrorKind.DEFINITIVE),
        (100, IbErrorEffect.PACING, VenueErrorKind.TRANSIENT),
        (1100, IbErrorEffect.CONNECTION_LOST, VenueErrorKind.TRANSIENT),
        (2110, IbErrorEffect.CONNECTION_LOST, VenueErrorKind.TRANSIENT),
        (1101, IbErrorEffect.RESTORED_DATA_LOST, None),
        (1102, IbErrorEffect.RESTORED, None),
        (2104, IbErrorEffect.IGNORE, None),
        (2106, IbErrorEffect.IGNORE, None),
        (2158, IbErrorEffect.IGNORE, None),
        (2150, IbErrorEffect.IGNORE, None),  # unlisted 21xx: a notice
        (399, IbErrorEffect.WARNING, None),
        (10349, IbErrorEffect.WARNING, None),
        (354, IbErrorEffect.REQUEST_FAILED, VenueErrorKind.DEFINITIVE),
        (502, IbErrorEffect.CONNECT_FAILED, VenueErrorKind.TRANSIENT),
        (326, IbErrorEffect.CONNECT_FAILED, VenueErrorKind.DEFINITIVE),
    ],
)
def test_classify_error_known_code_has_its_effect_and_kind(
    code: int, effect: IbErrorEffect, kind: VenueErrorKind | None
) -> None:
    rule = classify_error(code)
    assert (rule.effect, rule.kind) == (effect, kind)


def test_classify_error_lost_link_during_a_write_is_unknown_outcome() -> None:
    assert classify_error(1100, write_in_flight=True).kind is VenueErrorKind.UNKNOWN_OUTCOME
    assert classify_error(1300, write_in_flight=True).kind is VenueErrorKind.UNKNOWN_OUTCOME


def test_classify_error_unknown_code_is_unknown_outcome_for_writes_definitive_for_reads() -> None:
    assert classify_error(99999, write_in_flight=True).kind is VenueErrorKind.UNKNOWN_OUTCOME
    assert classify_error(99999).kind is VenueErrorKind.DEFINITIVE
    assert classify_error(99999).effect is IbErrorEffect.UNKNOWN


def test_error_table_every_rule_is_consistent() -> None:
    for code, rule in IB_ERROR_RULES.items():
        assert rule.code == code
        assert rule.meaning
        quiet = rule.effect in (
            IbErrorEffect.IGNORE,
            IbErrorEffect.WARNING,
            IbErrorEffect.RESTORED,
            IbErrorEffect.RESTORED_DATA_LOST,
        )
        assert (rule.kind is None) == quiet, code


def test_venue_error_for_rejection_names_code_and_message() -> None:
    error = venue_error("IB", 201, "Order rejected - reason:MARGIN", write_in_flight=True)
    assert error is not None
    assert (error.kind, error.code, error.venue) == (VenueErrorKind.DEFINITIVE, "201", "IB")
    assert "MARGIN" in error.message and "201" in error.message


def test_venue_error_for_notice_is_none() -> None:
    assert venue_error("IB", 2104, "Market data farm connection is OK:usfarm") is None


def test_venue_error_for_historical_pacing_violation_is_transient_with_retry() -> None:
    error = venue_error("IB", 162, "Historical Market Data Service error message:Pacing violation")
    assert error is not None
    assert error.kind is VenueErrorKind.TRANSIENT
    assert error.retry_after_s == 10.0


def test_venue_error_for_message_rate_is_transient_after_one_second() -> None:
    error = venue_error("IB", 100, "Max rate of messages per second has been exceeded")
    assert error is not None and (error.kind, error.retry_after_s) == (
        VenueErrorKind.TRANSIENT,
        1.0,
    )
