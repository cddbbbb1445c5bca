"""IB error codes, translated at the boundary into what they mean for an order or a request.

TWS reports errors, warnings and notices alike through one ``error(reqId, code, text)``
message; ``reqId`` is the order ID when the message is about an order, and -1 when it
is about the session. The meanings below paraphrase IB's "TWS API Message Codes"
page; the warning set matches the one ``ib_async.wrapper.Wrapper.error`` uses.

One ib_async behaviour matters here: for any order-related code that ib_async does
not consider a warning, it marks the ``Trade`` as ``Cancelled`` locally, even when TWS
only refused a cancel request (10147, 10148) or merely warned (10349). The adapter
therefore never trusts that synthesized status and applies the ``effect`` below.

=========  =========================  ======================  ===========================
code       effect                     kind                    meaning
=========  =========================  ======================  ===========================
100        PACING                     TRANSIENT               more than 50 messages/s
102        REQUEST_FAILED             DEFINITIVE              duplicate ticker ID
103        REJECT                     DEFINITIVE              duplicate order ID
104        MODIFY_REFUSED             DEFINITIVE              cannot modify a filled order
105        MODIFY_REFUSED             DEFINITIVE              modify does not match order
106        REJECT                     DEFINITIVE              cannot transmit order ID
107        REJECT                     DEFINITIVE              incomplete order
109        REJECT                     DEFINITIVE              price outside percentage band
110        VALIDATION                 DEFINITIVE              price off the tick grid
111        REJECT                     DEFINITIVE              TIF and order type clash
116        REJECT                     DEFINITIVE              exchange is closed / dead
133        REJECT                     DEFINITIVE              submit new order failed
134        MODIFY_REFUSED             DEFINITIVE              modify order failed
135        CANCEL_REFUSED             DEFINITIVE              no order with that ID
136        CANCEL_REFUSED             DEFINITIVE              order cannot be cancelled
154        REJECT                     DEFINITIVE              security is halted
161        CANCEL_REFUSED             DEFINITIVE              order not cancellable now
162        REQUEST_FAILED             DEFINITIVE              historical data error
163        REJECT                     DEFINITIVE              price violates % constraint
165        IGNORE                     -                       historical data notice
200        REJECT                     DEFINITIVE              no security definition
201        REJECT                     DEFINITIVE              order rejected (reason)
202        CANCELLED                  DEFINITIVE              order cancelled (reason)
203        REJECT                     DEFINITIVE              security not allowed
321        VALIDATION                 DEFINITIVE              request failed validation
322        REQUEST_FAILED             DEFINITIVE              error processing request
326        CONNECT_FAILED             DEFINITIVE              client ID already in use
354        REQUEST_FAILED             DEFINITIVE              market data not subscribed
366        IGNORE                     -                       no historical query found
399        WARNING                    -                       order message (still live)
404        WARNING                    -                       short-sale locate, held
434        REJECT                     DEFINITIVE              order size zero
435        REJECT                     DEFINITIVE              account must be specified
502        CONNECT_FAILED             TRANSIENT               cannot connect to TWS
503        CONNECT_FAILED             DEFINITIVE              TWS out of date
504        CONNECTION_LOST            TRANSIENT               not connected
1100       CONNECTION_LOST            TRANSIENT / UNKNOWN     TWS lost IB's servers
1101       RESTORED_DATA_LOST         -                       restored, resubscribe data
1102       RESTORED                   -                       restored, data maintained
1300       CONNECTION_LOST            TRANSIENT / UNKNOWN     TWS socket port reset
2100-2199  IGNORE (except below)      -                       farm and session notices
2109       WARNING                    -                       outsideRth ignored
2110       CONNECTION_LOST            TRANSIENT / UNKNOWN     TWS to server broken
10089      REQUEST_FAILED             DEFINITIVE              needs API data subscription
10090      WARNING                    -                       part of data not subscribed
10147      CANCEL_REFUSED             DEFINITIVE              order to cancel not found
10148      CANCEL_REFUSED             DEFINITIVE              order to cancel is in state X
10149      REJECT                     DEFINITIVE              invalid order ID
10167      WARNING                    -                       delayed data shown instead
10168      REQUEST_FAILED             DEFINITIVE              no data, delayed not enabled
10197      REQUEST_FAILED             TRANSIENT               competing live session
10349      WARNING                    -                       TIF set to DAY by preset
other      UNKNOWN                    UNKNOWN / DEFINITIVE    see ``classify_error``
=========  =========================  ======================  ===========================

"TRANSIENT / UNKNOWN" means TRANSIENT for a read and UNKNOWN_OUTCOME for a write that
was in flight: the order may or may not have reached IB, and the execution client
resolves it by querying the client order ID (the order's ``orderRef``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from alphintra.venues.adapter import VenueError, VenueErrorKind


class IbErrorEffect(StrEnum):
    """What an IB error code does to the order or request it names."""

    IGNORE = "IGNORE"
    """A notice (data farm up or down, historical query notes): nothing to do."""
    WARNING = "WARNING"
    """The order is still live; TWS only warns."""
    REJECT = "REJECT"
    """A new order (or the order named) is refused: REJECTED."""
    VALIDATION = "VALIDATION"
    """A new order is refused (REJECTED); a modification of a live order is refused."""
    CANCELLED = "CANCELLED"
    """The order is cancelled (in answer to our cancel, or by IB): CANCELLED."""
    CANCEL_REFUSED = "CANCEL_REFUSED"
    """Our cancel was refused; the order's state is unchanged (query it)."""
    MODIFY_REFUSED = "MODIFY_REFUSED"
    """Our modification was refused; the order's state is unchanged."""
    CONNECTION_LOST = "CONNECTION_LOST"
    """TWS lost its link to IB (or the API socket is down)."""
    RESTORED = "RESTORED"
    """The link is back and subscriptions survived: poll what was missed."""
    RESTORED_DATA_LOST = "RESTORED_DATA_LOST"
    """The link is back but market data subscriptions were lost: resubscribe and poll."""
    REQUEST_FAILED = "REQUEST_FAILED"
    """A data or account request failed."""
    PACING = "PACING"
    """Too many messages per second."""
    CONNECT_FAILED = "CONNECT_FAILED"
    """The API session could not be opened."""
    UNKNOWN = "UNKNOWN"
    """A code this table does not know."""


@dataclass(frozen=True, slots=True)
class IbErrorRule:
    """One IB code: its effect, its error kind (None when it is not an error) and meaning."""

    code: int
    effect: IbErrorEffect
    kind: VenueErrorKind | None
    meaning: str


_E = IbErrorEffect
_T = VenueErrorKind.TRANSIENT
_D = VenueErrorKind.DEFINITIVE

_RULES: tuple[tuple[int, IbErrorEffect, VenueErrorKind | None, str], ...] = (
    (100, _E.PACING, _T, "max rate of messages per second exceeded"),
    (102, _E.REQUEST_FAILED, _D, "duplicate ticker ID"),
    (103, _E.REJECT, _D, "duplicate order ID"),
    (104, _E.MODIFY_REFUSED, _D, "cannot modify a filled order"),
    (105, _E.MODIFY_REFUSED, _D, "order being modified does not match the original order"),
    (106, _E.REJECT, _D, "cannot transmit order ID"),
    (107, _E.REJECT, _D, "cannot transmit incomplete order"),
    (109, _E.REJECT, _D, "price out of the range of the percentage setting"),
    (110, _E.VALIDATION, _D, "price does not conform to the minimum price variation"),
    (111, _E.REJECT, _D, "time in force and order type are incompatible"),
    (116, _E.REJECT, _D, "order cannot be transmitted to a dead exchange"),
    (133, _E.REJECT, _D, "submit new order failed"),
    (134, _E.MODIFY_REFUSED, _D, "modify order failed"),
    (135, _E.CANCEL_REFUSED, _D, "cannot find order with that ID"),
    (136, _E.CANCEL_REFUSED, _D, "this order cannot be cancelled"),
    (154, _E.REJECT, _D, "orders cannot be transmitted for a halted security"),
    (161, _E.CANCEL_REFUSED, _D, "cancel attempted when the order is not cancellable"),
    (162, _E.REQUEST_FAILED, _D, "historical market data service error"),
    (163, _E.REJECT, _D, "price would violate the percentage constraint"),
    (165, _E.IGNORE, None, "historical market data service query message"),
    (200, _E.REJECT, _D, "no security definition has been found for the request"),
    (201, _E.REJECT, _D, "order rejected"),
    (202, _E.CANCELLED, _D, "order cancelled"),
    (203, _E.REJECT, _D, "security not available or not allowed for this account"),
    (321, _E.VALIDATION, _D, "error validating request"),
    (322, _E.REQUEST_FAILED, _D, "error processing request"),
    (326, _E.CONNECT_FAILED, _D, "client ID already in use"),
    (354, _E.REQUEST_FAILED, _D, "requested market data is not subscribed"),
    (366, _E.IGNORE, None, "no historical data query found for ticker ID"),
    (399, _E.WARNING, None, "order message warning; the order is live"),
    (404, _E.WARNING, None, "shares not available for short sale; order held"),
    (434, _E.REJECT, _D, "order size cannot be zero"),
    (435, _E.REJECT, _D, "an account must be specified"),
    (502, _E.CONNECT_FAILED, _T, "could not connect to TWS"),
    (503, _E.CONNECT_FAILED, _D, "TWS is out of date and must be upgraded"),
    (504, _E.CONNECTION_LOST, _T, "not connected"),
    (1100, _E.CONNECTION_LOST, _T, "connectivity between IB and TWS has been lost"),
    (1101, _E.RESTORED_DATA_LOST, None, "connectivity restored; market data lost"),
    (1102, _E.RESTORED, None, "connectivity restored; data maintained"),
    (1300, _E.CONNECTION_LOST, _T, "TWS socket port reset; connection dropped"),
    (2109, _E.WARNING, None, "outside-regular-trading-hours attribute ignored"),
    (2110, _E.CONNECTION_LOST, _T, "connectivity between TWS and server is broken"),
    (10089, _E.REQUEST_FAILED, _D, "market data requires an additional API subscription"),
    (10090, _E.WARNING, None, "part of the requested market data is not subscribed"),
    (10147, _E.CANCEL_REFUSED, _D, "order to cancel not found"),
    (10148, _E.CANCEL_REFUSED, _D, "order to cancel cannot be cancelled in its state"),
    (10149, _E.REJECT, _D, "invalid order ID"),
    (10167, _E.WARNING, None, "market data not subscribed; delayed data shown"),
    (10168, _E.REQUEST_FAILED, _D, "market data not subscribed; delayed data not enabled"),
    (10197, _E.REQUEST_FAILED, _T, "no market data during a competing live session"),
    (10349, _E.WARNING, None, "order TIF was set to DAY by an order preset"),
)

IB_ERROR_RULES: dict[int, IbErrorRule] = {
    code: IbErrorRule(code, effect, kind, meaning) for code, effect, kind, meaning in _RULES
}
"""Every IB code the adapter knows, by code."""

_NOTICE_RANGE = range(2100, 2200)


def classify_error(code: int, *, write_in_flight: bool = False) -> IbErrorRule:
    """Return the rule for an IB error code.

    A lost connection is UNKNOWN_OUTCOME for a write that was in flight (TWS may have
    received it) and TRANSIENT otherwise. Codes 2100-2199 that the table does not name
    are notices. Any other unknown code is UNKNOWN_OUTCOME for an in-flight write (the
    order may live; a query by client order ID settles it) and DEFINITIVE for a read.
    """
    rule = IB_ERROR_RULES.get(code)
    if rule is None:
        if code in _NOTICE_RANGE:
            return IbErrorRule(code, IbErrorEffect.IGNORE, None, "notice")
        kind = VenueErrorKind.UNKNOWN_OUTCOME if write_in_flight else VenueErrorKind.DEFINITIVE
        return IbErrorRule(code, IbErrorEffect.UNKNOWN, kind, "unknown IB code")
    if rule.effect is IbErrorEffect.CONNECTION_LOST and write_in_flight:
        return IbErrorRule(code, rule.effect, VenueErrorKind.UNKNOWN_OUTCOME, rule.meaning)
    return rule


def is_pacing_message(code: int, message: str) -> bool:
    """Return True when a historical-data error is IB's pacing violation (retry later)."""
    return code == 162 and "pacing violation" in message.lower()


def venue_error(
    venue: str, code: int, message: str, *, write_in_flight: bool = False, what: str = ""
) -> VenueError | None:
    """Return the ``VenueError`` for an IB error, or None when the code is not an error."""
    rule = classify_error(code, write_in_flight=write_in_flight)
    kind = rule.kind
    retry_after: float | None = None
    if is_pacing_message(code, message) or rule.effect is IbErrorEffect.PACING:
        kind, retry_after = VenueErrorKind.TRANSIENT, 1.0 if code == 100 else 10.0
    if kind is None:
        return None
    prefix = f"{what}: " if what else ""
    return VenueError(
        kind,
        venue,
        f"{prefix}IB error {code} ({rule.meaning}): {message}",
        code=str(code),
        retry_after_s=retry_after,
    )
