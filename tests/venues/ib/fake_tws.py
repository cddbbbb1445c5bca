"""A fake TWS: a TCP server speaking the TWS API socket protocol at server version 178.

It exists because no TWS simulator runs here. The adapter under test connects to it with
the real ``ib_async`` client, so everything between our code and the socket is real:
ib_async's handshake, its request encoding, its ``Decoder`` and its ``Wrapper``.

Framing is TWS's: after the ``API\\0`` greeting and a length-prefixed version range,
every message is a 4-byte big-endian length followed by NUL-terminated text fields.

The fake answers the requests ib_async makes on its own (start API, positions, open and
completed orders, account updates, contract details, market data, history) from the
data it holds, and plays *recordings*: JSON scripts of what TWS sent, step by step,
in answer to what the client asked (see ``recordings.py``). A ``FakeIbVenue`` can be
plugged in to answer orders by matching them against a quote instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from . import tws_messages as m

REQUEST_NAMES = {
    1: "reqMktData",
    2: "cancelMktData",
    3: "placeOrder",
    4: "cancelOrder",
    5: "reqOpenOrders",
    6: "reqAccountUpdates",
    7: "reqExecutions",
    8: "reqIds",
    9: "reqContractDetails",
    15: "reqAutoOpenOrders",
    20: "reqHistoricalData",
    49: "reqCurrentTime",
    59: "reqMarketDataType",
    61: "reqPositions",
    62: "reqAccountSummary",
    71: "startApi",
    76: "reqAccountUpdatesMulti",
    99: "reqCompletedOrders",
}
"""Client message IDs as ib_async's ``Client`` sends them."""

ID_FIELD = {
    "placeOrder": ("ORDER_ID", 1),
    "cancelOrder": ("ORDER_ID", 2),
    "reqExecutions": ("REQ_ID", 2),
    "reqContractDetails": ("REQ_ID", 2),
    "reqMktData": ("REQ_ID", 2),
    "reqHistoricalData": ("REQ_ID", 1),
    "reqAccountSummary": ("REQ_ID", 2),
}
"""Where the ID the client chose sits in each request: recordings refer to it as $NAME."""

Fields = list[str]
OrderHook = Callable[[Fields], list[Fields]]


def _substitute(field: str, names: dict[str, str]) -> str:
    for name, value in names.items():
        field = field.replace(f"${name}", value)
    return field


def frame(fields: Fields) -> bytes:
    """Return one TWS message: length prefix, then NUL-terminated fields."""
    payload = "".join(f"{f}\0" for f in fields).encode()
    return struct.pack(">I", len(payload)) + payload


class FakeTws:
    """One fake TWS or IB Gateway listening on localhost."""

    def __init__(self, *, next_order_id: int = 1) -> None:
        self.next_order_id = next_order_id
        self.contracts = dict(m.CONTRACTS)
        self.received: list[Fields] = []
        """Every client message, in arrival order, across sessions."""
        self.sessions = 0
        self.positions: list[Fields] = []
        self.account_values: list[Fields] = [
            m.account_value("CashBalance", "100000.00", "USD"),
            m.account_value("CashBalance", "100000.00", "BASE"),
        ]
        self.open_orders: list[Fields] = []
        """openOrder and orderStatus messages answered to reqOpenOrders (in order)."""
        self.completed_orders: list[Fields] = []
        self.executions: list[tuple[Fields, Fields | None]] = []
        """(execDetails with req_id "$REQ_ID", its commission report) answered to reqExecutions."""
        self.quotes: dict[int, tuple[str, str, str, str]] = {}
        """conId -> (bid, ask, bid size, ask size)."""
        self.bars: dict[int, list[tuple[str, ...]]] = {}
        self.on_place: OrderHook | None = None
        self.on_cancel: OrderHook | None = None
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._arrived = asyncio.Condition()
        self._scripted: dict[str, int] = defaultdict(int)
        self._inbox: dict[str, asyncio.Queue[Fields]] = defaultdict(asyncio.Queue)
        self._marks: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._resume: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._player: asyncio.Task[None] | None = None
        self.port = 0
        self.hung = False
        """While True the fake records every message but answers none, its socket open:
        a TWS or IB Gateway that hangs. The next session answers again."""

    # ---------------------------------------------------------------- server

    async def start(self, port: int = 0) -> int:
        """Listen on ``port`` (a free one when 0) on localhost and return it."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop the script, close the connection and the listener."""
        if self._player is not None:
            self._player.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._player
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def drop(self) -> None:
        """Close the client's connection, as a TWS restart or a network cut does."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def send(self, fields: Fields) -> None:
        """Send one message to the connected client."""
        if self._writer is None:
            raise ConnectionError("no client is connected to the fake TWS")
        self._writer.write(frame(fields))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            greeting = await reader.readexactly(4)
            assert greeting == b"API\0", greeting
            await self._read(reader)  # b"v157..178": ib_async's version range
            self.drop()
            self._writer = writer
            self.sessions += 1
            self.hung = False
            writer.write(frame(m.handshake()))
            while True:
                fields = await self._read(reader)
                await self._dispatch(fields)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Fields:
        (size,) = struct.unpack(">I", await reader.readexactly(4))
        payload = (await reader.readexactly(size)).decode()
        return payload.split("\0")[:-1]

    async def _dispatch(self, fields: Fields) -> None:
        self.received.append(fields)
        name = REQUEST_NAMES.get(int(fields[0]), fields[0])
        async with self._arrived:
            self._arrived.notify_all()
        if self.hung:
            return
        if self._scripted[name] > 0:
            self._scripted[name] -= 1
            self._inbox[name].put_nowait(fields)
            return
        for reply in self._answer(name, fields):
            self.send(reply)

    async def wait_for(self, name: str, count: int = 1, timeout: float = 5.0) -> Fields:
        """Wait until the client has sent ``count`` messages called ``name``; return the last."""

        def seen() -> list[Fields]:
            return [f for f in self.received if REQUEST_NAMES.get(int(f[0])) == name]

        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(seen()) >= count)
        return seen()[count - 1]

    def requests(self, name: str) -> list[Fields]:
        """Return every message called ``name`` the client sent."""
        return [f for f in self.received if REQUEST_NAMES.get(int(f[0])) == name]

    # ---------------------------------------------------------------- default answers

    def _answer(self, name: str, fields: Fields) -> list[Fields]:
        if name == "startApi":
            return [m.next_valid_id(self.next_order_id), m.managed_accounts()]
        if name == "reqCurrentTime":
            return [m.current_time(int(time.time()))]
        if name == "reqPositions":
            return [*self.positions, m.position_end()]
        if name == "reqOpenOrders":
            return [*self.open_orders, m.open_order_end()]
        if name == "reqCompletedOrders":
            return [*self.completed_orders, m.completed_orders_end()]
        if name == "reqAccountUpdates":
            return [*self.account_values, m.account_download_end()] if fields[2] == "1" else []
        if name == "reqAccountSummary":
            return [m.account_summary_end(fields[2])]
        if name == "reqExecutions":
            return self._executions(fields[2])
        if name == "reqContractDetails":
            return self._contract_details(fields)
        if name == "reqMktData":
            return self._market_data(fields)
        if name == "reqHistoricalData":
            req_id, con_id = fields[1], int(fields[2] or 0)
            bars = self.bars.get(con_id, [])
            return [m.historical_data(req_id, "20250115 00:00:00", "20250116 00:00:00", bars)]
        if name == "placeOrder" and self.on_place is not None:
            return self.on_place(fields)
        if name == "cancelOrder" and self.on_cancel is not None:
            return self.on_cancel(fields)
        return []

    def _executions(self, req_id: str) -> list[Fields]:
        out: list[Fields] = []
        for details, report in self.executions:
            out.append([req_id if f == "$REQ_ID" else f for f in details])
            if report is not None:
                out.append(report)
        return [*out, m.exec_details_end(req_id)]

    def _contract_details(self, fields: Fields) -> list[Fields]:
        req_id, con_id, symbol, sec_type = fields[2], int(fields[3] or 0), fields[4], fields[5]
        currency, local_symbol = fields[12], fields[13]
        for contract in self.contracts.values():
            if (
                (con_id and contract.con_id == con_id)
                or (local_symbol and contract.local_symbol == local_symbol)
                or (
                    contract.sec_type == sec_type
                    and contract.symbol == symbol
                    and contract.currency == currency
                )
            ):
                return [m.contract_details(req_id, contract), m.contract_details_end(req_id)]
        message = "No security definition has been found for the request"
        return [m.error(req_id, 200, message)]

    def _market_data(self, fields: Fields) -> list[Fields]:
        req_id, con_id, snapshot = fields[2], int(fields[3] or 0), fields[17] == "1"
        quote = self.quotes.get(con_id)
        out: list[Fields] = []
        if quote is not None:
            bid, ask, bid_size, ask_size = quote
            out += [m.tick_price(req_id, 1, bid, bid_size), m.tick_price(req_id, 2, ask, ask_size)]
        if snapshot:
            out.append(m.tick_snapshot_end(req_id))
        return out

    # ---------------------------------------------------------------- recordings

    def play(self, steps: list[dict[str, Any]]) -> None:
        """Start playing a recording's steps in the background (see ``recordings.py``)."""
        for step in steps:
            if "expect" in step:
                self._scripted[step["expect"]] += 1
        self._player = asyncio.get_running_loop().create_task(self._play(steps))

    async def _play(self, steps: list[dict[str, Any]]) -> None:
        names: dict[str, str] = {}
        for step in steps:
            if "expect" in step:
                request = await self._inbox[step["expect"]].get()
                slot = ID_FIELD.get(step["expect"])
                if slot is not None:
                    names[slot[0]] = request[slot[1]]
            elif "send" in step:
                message = [_substitute(f, names) for f in step["send"]]
                while self._writer is None:  # a reconnect is under way
                    await asyncio.sleep(0.005)
                self.send(message)
                await asyncio.sleep(0)  # one message per socket read, as TWS usually does
            elif "drop" in step:
                self.drop()
            elif "mark" in step:
                self._marks[step["mark"]].set()
                await self._resume[step["mark"]].wait()
        self._marks["end"].set()

    async def reached(self, mark: str, timeout: float = 5.0) -> None:
        """Wait until the recording reaches ``{"mark": mark}`` (or its end, for "end")."""
        async with asyncio.timeout(timeout):
            await self._marks[mark].wait()

    def resume(self, mark: str) -> None:
        """Let the recording continue past ``{"mark": mark}``."""
        self._resume[mark].set()
