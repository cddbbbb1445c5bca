"""Recorded TWS message sequences: what TWS sends, step by step, in answer to the client.

Each recording in ``resources/*.json`` is::

    {"description": ..., "server_version": 178, "client_order_id": ...,
     "steps": [{"expect": "placeOrder"}, {"send": ["5", "$ORDER_ID", ...]}, ...]}

Steps, played by ``FakeTws.play``:

* ``{"expect": NAME}`` waits for the client's request NAME (``fake_tws.REQUEST_NAMES``)
  and remembers the ID it chose (order ID or request ID, ``fake_tws.ID_FIELD``);
* ``{"send": FIELDS}`` sends one raw message; ``$ORDER_ID`` and ``$REQ_ID`` stand for
  the IDs the client chose (they differ from session to session, so they are templated);
* ``{"drop": true}`` closes the socket (TWS restarted, network cut);
* ``{"mark": NAME}`` pauses until the test calls ``FakeTws.resume(NAME)``.

The raw field lists follow TWS's wire layout at server version 178 (see
``tws_messages.py``, which wrote them: ``cd tests && python -m venues.ib.recordings``); the
message orders are those TWS produces, including its usual reorderings (an execution
before the order's status, a commission report after the Filled status).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import tws_messages as m

RESOURCES = Path(__file__).resolve().parent / "resources"
ORDER = "$ORDER_ID"
REQ = "$REQ_ID"

Recording = dict[str, Any]


def load(name: str) -> Recording:
    """Return the recording ``resources/<name>.json``."""
    data: Recording = json.loads((RESOURCES / f"{name}.json").read_text())
    return data


def _send(*messages: list[str]) -> list[dict[str, Any]]:
    return [{"send": message} for message in messages]


def _recording(description: str, client_order_id: str, steps: list[dict[str, Any]]) -> Recording:
    return {
        "description": description,
        "server_version": m.SERVER_VERSION,
        "client_order_id": client_order_id,
        "steps": steps,
    }


def market_order_partial_fill() -> Recording:
    cid, perm = "O-20250115-0001", 1_811_237_501
    aapl = m.AAPL

    def opened(status: str) -> list[str]:
        return m.open_order(
            ORDER,
            aapl,
            action="BUY",
            quantity="100",
            order_type="MKT",
            status=status,
            perm_id=perm,
            order_ref=cid,
        )

    e1, e2 = "0000e0d5.6787a1b2.01.01", "0000e0d5.6787a1b3.01.01"
    return _recording(
        "AAPL BUY 100 MKT: PreSubmitted, Submitted, a 40-share fill, then 60 more with "
        "commissions; IB's usual order of openOrder, orderStatus, execDetails, commissionReport",
        cid,
        [
            {"expect": "placeOrder"},
            *_send(
                opened("PreSubmitted"),
                m.order_status(ORDER, "PreSubmitted", remaining="100", perm_id=perm),
                opened("Submitted"),
                m.order_status(ORDER, "Submitted", remaining="100", perm_id=perm),
                m.exec_details(
                    aapl,
                    order_id=ORDER,
                    exec_id=e1,
                    time="20250115 09:41:07 America/New_York",
                    side="BOT",
                    shares="40",
                    price="185.27",
                    perm_id=perm,
                    cum_qty="40",
                    avg_price="185.27",
                    order_ref=cid,
                ),
                m.order_status(
                    ORDER,
                    "Submitted",
                    filled="40",
                    remaining="60",
                    avg_fill_price="185.27",
                    perm_id=perm,
                    last_fill_price="185.27",
                ),
                m.commission_report(e1, "1.0", "USD"),
                m.exec_details(
                    aapl,
                    order_id=ORDER,
                    exec_id=e2,
                    time="20250115 09:41:08 America/New_York",
                    side="BOT",
                    shares="60",
                    price="185.3",
                    perm_id=perm,
                    cum_qty="100",
                    avg_price="185.288",
                    order_ref=cid,
                    exchange="ARCA",
                ),
                opened("Filled"),
                m.order_status(
                    ORDER,
                    "Filled",
                    filled="100",
                    remaining="0",
                    avg_fill_price="185.288",
                    perm_id=perm,
                    last_fill_price="185.3",
                ),
                m.commission_report(e2, "0.3", "USD"),
            ),
        ],
    )


def limit_order_cancelled() -> Recording:
    cid, perm = "O-20250115-0002", 1_811_237_502

    def opened(status: str) -> list[str]:
        return m.open_order(
            ORDER,
            m.EURUSD,
            action="BUY",
            quantity="20000",
            order_type="LMT",
            status=status,
            perm_id=perm,
            order_ref=cid,
            lmt_price="1.025",
            tif="GTC",
        )

    return _recording(
        "EURUSD BUY 20000 LMT 1.025 GTC rests, then is cancelled: PendingCancel, error 202, "
        "Cancelled",
        cid,
        [
            {"expect": "placeOrder"},
            *_send(
                opened("Submitted"),
                m.order_status(ORDER, "Submitted", remaining="20000", perm_id=perm),
            ),
            {"expect": "cancelOrder"},
            *_send(
                m.order_status(ORDER, "PendingCancel", remaining="20000", perm_id=perm),
                m.error(ORDER, 202, "Order Canceled - reason:"),
                m.order_status(ORDER, "Cancelled", remaining="20000", perm_id=perm),
            ),
        ],
    )


def rejected_201() -> Recording:
    cid, perm = "O-20250115-0003", 1_811_237_503
    reason = (
        "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED "
        "POSITION YOUR EQUITY WITH LOAN VALUE [100000.00 USD] MUST EXCEED THE INITIAL MARGIN "
        "[9263500.00 USD]"
    )
    return _recording(
        "AAPL BUY 50000 LMT 185.27 refused for margin: error 201, then the order Inactive",
        cid,
        [
            {"expect": "placeOrder"},
            *_send(
                m.error(ORDER, 201, reason),
                m.open_order(
                    ORDER,
                    m.AAPL,
                    action="BUY",
                    quantity="50000",
                    order_type="LMT",
                    status="Inactive",
                    perm_id=perm,
                    order_ref=cid,
                    lmt_price="185.27",
                ),
                m.order_status(ORDER, "Inactive", remaining="50000", perm_id=perm),
            ),
        ],
    )


def duplicate_order_id_103() -> Recording:
    return _recording(
        "An order sent under an IB order ID TWS already used: error 103, nothing else",
        "O-20250115-0004",
        [{"expect": "placeOrder"}, *_send(m.error(ORDER, 103, "Duplicate order id"))],
    )


def link_lost_1100_restored_1102() -> Recording:
    cid, perm = "O-20250115-0005", 1_811_237_505
    exec_id = "0000e0d5.6787a1c0.01.01"
    opened = m.open_order(
        ORDER,
        m.AAPL,
        action="BUY",
        quantity="50",
        order_type="LMT",
        status="Submitted",
        perm_id=perm,
        order_ref=cid,
        lmt_price="185.0",
    )
    return _recording(
        "AAPL BUY 50 LMT 185 rests; TWS loses IB (1100) and the order fills unseen; after "
        "1102 the client polls executions (one fill), open orders (none) and completed "
        "orders (Filled)",
        cid,
        [
            {"expect": "placeOrder"},
            *_send(opened, m.order_status(ORDER, "Submitted", remaining="50", perm_id=perm)),
            *_send(
                m.error(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")
            ),
            {"mark": "link-down"},
            *_send(
                m.error(
                    -1,
                    1102,
                    "Connectivity between IB and Trader Workstation has been restored - data "
                    "maintained. All data farms are connected: usfarm; ushmds; secdefnj.",
                )
            ),
            {"expect": "reqExecutions"},
            *_send(
                m.exec_details(
                    m.AAPL,
                    req_id=REQ,
                    order_id=ORDER,
                    exec_id=exec_id,
                    time="20250115 10:02:41 America/New_York",
                    side="BOT",
                    shares="50",
                    price="185.0",
                    perm_id=perm,
                    cum_qty="50",
                    avg_price="185.0",
                    order_ref=cid,
                    last_liquidity=1,
                ),
                m.commission_report(exec_id, "1.0", "USD"),
                m.exec_details_end(REQ),
            ),
            {"expect": "reqOpenOrders"},
            *_send(m.open_order_end()),
            {"expect": "reqCompletedOrders"},
            *_send(
                m.completed_order(
                    m.AAPL,
                    action="BUY",
                    quantity="50",
                    order_type="LMT",
                    status="Filled",
                    perm_id=perm,
                    order_ref=cid,
                    filled="50",
                    lmt_price="185.0",
                    completed_time="20250115 10:02:41 America/New_York",
                ),
                m.completed_orders_end(),
            ),
        ],
    )


def socket_dropped_reconnected() -> Recording:
    cid, perm = "O-20250115-0006", 1_811_237_506
    exec_id = "0000e0d5.6787a1d0.01.01"
    completed = m.completed_order(
        m.XAUUSD,
        action="BUY",
        quantity="10",
        order_type="LMT",
        status="Filled",
        perm_id=perm,
        order_ref=cid,
        filled="10",
        lmt_price="2650.0",
        completed_time="20250115 10:15:02 America/New_York",
    )
    return _recording(
        "XAUUSD BUY 10 LMT 2650 rests; the socket drops and the order fills meanwhile; the "
        "client reconnects (startup: open orders none, completed orders Filled), polls "
        "executions (one fill) and refreshes the order",
        cid,
        [
            {"expect": "placeOrder"},
            *_send(
                m.open_order(
                    ORDER,
                    m.XAUUSD,
                    action="BUY",
                    quantity="10",
                    order_type="LMT",
                    status="Submitted",
                    perm_id=perm,
                    order_ref=cid,
                    lmt_price="2650.0",
                    tif="GTC",
                ),
                m.order_status(ORDER, "Submitted", remaining="10", perm_id=perm),
            ),
            {"drop": True},
            {"expect": "reqOpenOrders"},
            *_send(m.open_order_end()),
            {"expect": "reqCompletedOrders"},
            *_send(completed, m.completed_orders_end()),
            {"expect": "reqExecutions"},
            *_send(
                m.exec_details(
                    m.XAUUSD,
                    req_id=REQ,
                    order_id=ORDER,
                    exec_id=exec_id,
                    time="20250115 10:15:02 America/New_York",
                    side="BOT",
                    shares="10",
                    price="2650.0",
                    perm_id=perm,
                    cum_qty="10",
                    avg_price="2650.0",
                    order_ref=cid,
                    exchange="SMART",
                    last_liquidity=1,
                ),
                m.commission_report(exec_id, "2.65", "USD"),
                m.exec_details_end(REQ),
            ),
            {"expect": "reqOpenOrders"},
            *_send(m.open_order_end()),
            {"expect": "reqCompletedOrders"},
            *_send(completed, m.completed_orders_end()),
        ],
    )


def execution_before_status() -> Recording:
    cid, perm = "O-20250115-0007", 1_811_237_507
    exec_id = "0000e0d5.6787a1e0.01.01"
    return _recording(
        "A marketable AAPL BUY 100 LMT 185.5: the execution arrives before any openOrder or "
        "orderStatus, the commission report last",
        cid,
        [
            {"expect": "placeOrder"},
            *_send(
                m.exec_details(
                    m.AAPL,
                    order_id=ORDER,
                    exec_id=exec_id,
                    time="20250115 09:45:00 America/New_York",
                    side="BOT",
                    shares="100",
                    price="185.5",
                    perm_id=perm,
                    cum_qty="100",
                    avg_price="185.5",
                    order_ref=cid,
                ),
                m.open_order(
                    ORDER,
                    m.AAPL,
                    action="BUY",
                    quantity="100",
                    order_type="LMT",
                    status="Filled",
                    perm_id=perm,
                    order_ref=cid,
                    lmt_price="185.5",
                ),
                m.order_status(
                    ORDER,
                    "Filled",
                    filled="100",
                    remaining="0",
                    avg_fill_price="185.5",
                    perm_id=perm,
                    last_fill_price="185.5",
                ),
                m.commission_report(exec_id, "1.0", "USD"),
            ),
        ],
    )


def commission_late() -> Recording:
    cid, perm = "O-20250115-0008", 1_811_237_508
    exec_id = "0000f1a2.6787a1f0.01.01"

    def opened(status: str) -> list[str]:
        return m.open_order(
            ORDER,
            m.ESZ5,
            action="BUY",
            quantity="2",
            order_type="MKT",
            status=status,
            perm_id=perm,
            order_ref=cid,
        )

    return _recording(
        "ESZ5 BUY 2 MKT fills; the commission report comes only after the Filled status",
        cid,
        [
            {"expect": "placeOrder"},
            *_send(
                opened("Submitted"),
                m.order_status(ORDER, "Submitted", remaining="2", perm_id=perm),
                m.exec_details(
                    m.ESZ5,
                    order_id=ORDER,
                    exec_id=exec_id,
                    time="20250115 09:50:00 America/New_York",
                    side="BOT",
                    shares="2",
                    price="6050.25",
                    perm_id=perm,
                    cum_qty="2",
                    avg_price="6050.25",
                    order_ref=cid,
                    exchange="CME",
                ),
                opened("Filled"),
                m.order_status(
                    ORDER,
                    "Filled",
                    filled="2",
                    remaining="0",
                    avg_fill_price="6050.25",
                    perm_id=perm,
                    last_fill_price="6050.25",
                ),
            ),
            {"mark": "before-commission"},
            *_send(m.commission_report(exec_id, "4.5", "USD")),
        ],
    )


def cancel_refused_10148() -> Recording:
    cid, perm = "O-20250115-0009", 1_811_237_509
    exec_id = "0000e0d5.6787a200.01.01"

    def opened(status: str) -> list[str]:
        return m.open_order(
            ORDER,
            m.AAPL,
            action="SELL",
            quantity="10",
            order_type="LMT",
            status=status,
            perm_id=perm,
            order_ref=cid,
            lmt_price="185.1",
        )

    return _recording(
        "AAPL SELL 10 LMT 185.1 fills while our cancel travels: TWS refuses the cancel with "
        "10148 (state Filled) and then reports the fill",
        cid,
        [
            {"expect": "placeOrder"},
            *_send(
                opened("Submitted"),
                m.order_status(ORDER, "Submitted", remaining="10", perm_id=perm),
            ),
            {"expect": "cancelOrder"},
            *_send(
                m.error(
                    ORDER,
                    10148,
                    "OrderId $ORDER_ID that needs to be cancelled cannot be cancelled, state: "
                    "Filled.",
                ),
                m.exec_details(
                    m.AAPL,
                    order_id=ORDER,
                    exec_id=exec_id,
                    time="20250115 09:55:00 America/New_York",
                    side="SLD",
                    shares="10",
                    price="185.1",
                    perm_id=perm,
                    cum_qty="10",
                    avg_price="185.1",
                    order_ref=cid,
                    last_liquidity=1,
                ),
                opened("Filled"),
                m.order_status(
                    ORDER,
                    "Filled",
                    filled="10",
                    remaining="0",
                    avg_fill_price="185.1",
                    perm_id=perm,
                    last_fill_price="185.1",
                ),
                m.commission_report(exec_id, "1.0", "USD"),
            ),
        ],
    )


RECORDINGS: dict[str, Callable[[], Recording]] = {
    "market_order_partial_fill": market_order_partial_fill,
    "limit_order_cancelled": limit_order_cancelled,
    "rejected_201": rejected_201,
    "duplicate_order_id_103": duplicate_order_id_103,
    "link_lost_1100_restored_1102": link_lost_1100_restored_1102,
    "socket_dropped_reconnected": socket_dropped_reconnected,
    "execution_before_status": execution_before_status,
    "commission_late": commission_late,
    "cancel_refused_10148": cancel_refused_10148,
}


def dumps(recording: Recording) -> str:
    """Return the recording as JSON with one step (one TWS message) per line."""
    head = {k: v for k, v in recording.items() if k != "steps"}
    lines = ["{"]
    lines += [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lines.append(' "steps": [')
    steps = recording["steps"]
    lines += [
        f"  {json.dumps(step)}{',' if i < len(steps) - 1 else ''}" for i, step in enumerate(steps)
    ]
    lines += [" ]", "}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write every recording to ``resources/``."""
    RESOURCES.mkdir(exist_ok=True)
    for name, build in RECORDINGS.items():
        (RESOURCES / f"{name}.json").write_text(dumps(build()))
        print(f"wrote {name}.json")


if __name__ == "__main__":
    main()
