"""Venue adapter overhead per order: our adapters against the bare vendor call, one fake.

Usage: adapter_overhead.py [--n 500] [--warmup 20] [--venues binance,kraken,alpaca,oanda,
       simulated] [--loops 2000] [--repeats 5] [--json]

For each venue family the same orders go to the same local fake venue (the fakes of
``tests/venues/fakes``, served from a thread of their own with their own event loop)
two ways:

* ``ours``: through our adapter (``place_order``, ``cancel_order``);
* ``baseline``: the same HTTP requests without the adapter: the ccxt call alone
  (Binance, Kraken), the ``alpaca-py`` SDK call alone (Alpaca; also ``baseline_thread``,
  each SDK call in ``asyncio.to_thread`` as the adapter runs it), a raw ``httpx``
  request with the same body and headers (OANDA, whose client is ours), or the
  matching engine's ``handle`` (the simulated venue, in process). The baseline decodes
  each answer's JSON and reads the IDs it needs for the next request; nothing more.

Two operations: ``market`` (one market order, BUY and SELL alternating so that the
position stays flat) and ``limit_cancel`` (a limit order far from the market, then its
cancel). The two ways alternate order by order (A B, B A, A B, ...), each order is
timed on its own, and the medians are reported: the machine is shared and noisy, and
pairing cancels its drift. Overhead per order = median(ours) - median(baseline);
``paired_overhead_us`` is the median of the order-by-order differences (each of ours
minus the baseline order timed next to it). The bare ccxt client is built with the
same options and URLs as the adapter's (``build_exchange``), so that its requests are
byte for byte the same apart from IDs, timestamps and signatures.
Before timing, one order of each way is checked to send the same requests (method and
path, with IDs blanked) to the fake.

``translation`` is our code alone, no I/O: building the venue request from an
``OrderInitialized`` and reading a venue answer captured during the run back into a
``VenueOrderState``, timed in loops (the best of ``--repeats`` runs of ``--loops``, as
``timeit`` advises: on a loaded machine the slower runs measure the load).

Prints a table, or with ``--json`` one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import decimal
import json
import re
import statistics
import sys
import threading
import time
import timeit
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec
from alpaca.trading.client import TradingClient
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from alphintra.domain.commands import CancelAtVenue, SubmitToVenue
from alphintra.domain.enums import AssetClass, InstrumentKind, OrderSide, OrderType, TimeInForce
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.values import Price, Quantity
from alphintra.venues.alpaca import AlpacaAdapter, AlpacaConfig
from alphintra.venues.alpaca.translation import order_request as alpaca_order_request
from alphintra.venues.alpaca.translation import order_state as alpaca_order_state
from alphintra.venues.alpaca.translation import read_order
from alphintra.venues.ccxt import CcxtAdapter, CcxtConfig
from alphintra.venues.ccxt.client import build_exchange
from alphintra.venues.ccxt.client_ids import ClientIdCodec
from alphintra.venues.ccxt.config import MarketType
from alphintra.venues.ccxt.translation import SymbolMap, build_order_request
from alphintra.venues.ccxt.translation import order_state as ccxt_order_state
from alphintra.venues.oanda import OandaAdapter, OandaConfig
from alphintra.venues.oanda import translate as oanda_translate
from alphintra.venues.oanda.wire import OrderBody, OrderWriteResponse
from alphintra.venues.simulated.adapter import SimulatedVenueAdapter
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))  # the fake venues are test code, under tests/venues

from venues.fakes.alpaca import FakeAlpaca  # noqa: E402
from venues.fakes.binance import FakeBinance  # noqa: E402
from venues.fakes.kraken import FakeKraken  # noqa: E402
from venues.fakes.oanda import FakeOanda  # noqa: E402

_T = TypeVar("_T")
Json = dict[str, Any]
Step = Callable[["Ticket"], Awaitable[object]]
OPERATIONS = ("market", "limit_cancel")
VENUES = ("binance", "kraken", "alpaca", "oanda", "simulated")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ACCOUNT = AccountId("BENCH")


@dataclass(frozen=True, slots=True)
class Ticket:
    """One order, prepared before the clock starts: our event and its wire values."""

    order: OrderInitialized
    wire_id: str
    buy: bool


class FakeThread:
    """An event loop in a thread of its own that serves the fake venues."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fakes", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on the fakes' loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def close(self) -> None:
        """Stop the loop and the thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@dataclass
class VenueRun:
    """One venue family: how to send each operation each way, and its translation cost."""

    name: str
    instrument: Instrument
    quantity: Decimal
    limit_price: Decimal
    ways: dict[str, dict[str, Step]]
    """way (ours, baseline, ...) -> operation -> one timed step."""
    wire_id: Callable[[ClientOrderId], str] = str
    requests: Callable[[], list[tuple[str, str]]] = list
    translation: Callable[[], dict[str, Callable[[], object]]] = dict
    """Named no-I/O steps to time in loops (built after the run: they use its answers)."""
    stop: Callable[[], Awaitable[None]] | None = None
    captured: dict[str, Any] = field(default_factory=dict)


class Ids:
    """Unique client order IDs for the whole run (every fake refuses a reused open ID)."""

    def __init__(self) -> None:
        self._next = 0
        self._tag = format(time.time_ns() % 36**5, "x")

    def take(self, prefix: str) -> ClientOrderId:
        """Return a fresh ID starting with ``prefix``."""
        self._next += 1
        return ClientOrderId(f"{prefix}{self._tag}n{self._next}")


def make_ticket(run: VenueRun, cid: ClientOrderId, order_type: OrderType, buy: bool) -> Ticket:
    """Return a ticket for one order of ``run`` (a limit order rests far from the market)."""
    limit = order_type is OrderType.LIMIT
    order = OrderInitialized(
        account_id=_ACCOUNT,
        client_order_id=cid,
        ts_event=0,
        ts_recv=0,
        instrument_id=run.instrument.id,
        side=OrderSide.BUY if buy else OrderSide.SELL,
        order_type=order_type,
        quantity=Quantity(run.quantity),
        price=Price(run.limit_price) if limit else None,
        time_in_force=TimeInForce.GTC,
    )
    return Ticket(order, run.wire_id(cid), buy)


def _normalise(requests: list[tuple[str, str]], ids: list[str]) -> list[str]:
    shapes = []
    for method, path in requests:
        shape = _UUID.sub("{id}", path)
        for value in ids:
            shape = shape.replace(value, "{cid}")
        shapes.append(f"{method} {shape}")
    return shapes


# ccxt: Binance and Kraken ----------------------------------------------------------------


class SharedNonce:
    """Strictly increasing microsecond nonces shared by two ccxt clients of one key.

    ccxt's Kraken nonce is in milliseconds, and ours and the baseline share the fake's
    one key: two private requests within one millisecond would be refused as a replay.
    """

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        self._last = max(self._last + 1, time.time_ns() // 1000)
        return self._last


async def ccxt_run(
    fakes: FakeThread, ids: Ids, fake: FakeBinance | FakeKraken, instrument: Instrument
) -> VenueRun:
    """Start ``fake`` and return our ccxt adapter and bare ccxt, both pointed at it."""
    exchange_id = "binance" if isinstance(fake, FakeBinance) else "kraken"
    config = CcxtConfig(
        exchange_id=exchange_id,
        api_key=fake.api_key,
        secret=fake.secret,
        base_url=fake.base_url,
        enable_rate_limit=False,
        timeout_s=5.0,
    )
    fakes.run(fake.start())
    fake.set_quote(instrument.venue_symbol, Decimal(29999), Decimal(30001))
    adapter = CcxtAdapter(config)
    await adapter.connect()
    bare: Any = build_exchange(config, adapter.profile)
    if exchange_id == "kraken":
        nonce = SharedNonce()
        adapter.client.exchange.nonce = nonce
        bare.nonce = nonce
    with decimal.localcontext():
        await bare.load_markets()
    symbol = "BTC/USDT" if exchange_id == "binance" else "BTC/USD"
    codec = ClientIdCodec(adapter.profile.client_id)
    run = VenueRun(
        name=f"ccxt-{exchange_id}",
        instrument=instrument,
        quantity=Decimal("0.001"),
        limit_price=Decimal(20000),
        ways={},
        wire_id=codec.wire,
        requests=lambda: list(fake.requests),
    )
    readback = exchange_id == "kraken"  # Kraken answers AddOrder with the txid only

    async def ours_market(t: Ticket) -> object:
        return await adapter.place_order(t.order)

    async def ours_limit_cancel(t: Ticket) -> object:
        await adapter.place_order(t.order)
        return await adapter.cancel_order(t.order.client_order_id, t.order.instrument_id)

    async def bare_place(t: Ticket, kind: str, price: str | None) -> Json:
        params: Json = {"clientOrderId": t.wire_id}
        if price is not None:
            params["timeInForce"] = "GTC"
        side = "buy" if t.buy else "sell"
        with decimal.localcontext():
            placed: Json = await bare.create_order(symbol, kind, side, "0.001", price, params)
            if readback:
                placed = await bare.fetch_order(placed["id"], symbol, {})
        run.captured[kind] = placed
        return placed

    async def bare_market(t: Ticket) -> object:
        return await bare_place(t, "market", None)

    async def bare_limit_cancel(t: Ticket) -> object:
        await bare_place(t, "limit", "20000")
        params = {"clientOrderId": t.wire_id}
        with decimal.localcontext():
            cancelled: Json = await bare.cancel_order(None, symbol, params)
            if not readback:
                return cancelled
            for found in await bare.fetch_open_orders(symbol, None, None, params):
                if found.get("clientOrderId") == t.wire_id:
                    return found
            closed: list[Json] = await bare.fetch_closed_orders(symbol, None, None, params)
            return [o for o in closed if o.get("clientOrderId") == t.wire_id]

    run.ways = {
        "ours": {"market": ours_market, "limit_cancel": ours_limit_cancel},
        "baseline": {"market": bare_market, "limit_cancel": bare_limit_cancel},
    }

    def translation() -> dict[str, Callable[[], object]]:
        symbols = SymbolMap(adapter.client.markets(), MarketType.SPOT)
        quiet_codec = ClientIdCodec(adapter.profile.client_id)
        ticket = make_ticket(run, ids.take("t"), OrderType.MARKET, True)
        raw = run.captured["market"]

        def request() -> object:
            return build_order_request(
                ticket.order, symbol, ticket.wire_id, adapter.capabilities, adapter.profile
            )

        def response() -> object:
            return ccxt_order_state(raw, symbols=symbols, codec=quiet_codec)

        return {"request": request, "response": response}

    async def stop() -> None:
        await adapter.disconnect()
        await bare.close()
        fakes.run(fake.stop())

    run.translation = translation
    run.stop = stop
    return run


async def binance_run(fakes: FakeThread, ids: Ids) -> VenueRun:
    """ccxt ``binance`` against ``FakeBinance`` on BTCUSDT."""
    instrument = Instrument(
        InstrumentId("BTCUSDT"),
        "BTCUSDT",
        AssetClass.CRYPTO,
        InstrumentKind.SPOT,
        "BTC",
        "USDT",
        Decimal("0.01"),
        Decimal("0.00001"),
        min_quantity=Decimal("0.00001"),
        min_notional=Decimal(5),
    )
    return await ccxt_run(fakes, ids, FakeBinance(), instrument)


async def kraken_run(fakes: FakeThread, ids: Ids) -> VenueRun:
    """ccxt ``kraken`` against ``FakeKraken`` on BTCUSD (XXBTZUSD)."""
    instrument = Instrument(
        InstrumentId("BTCUSD"),
        "XXBTZUSD",
        AssetClass.CRYPTO,
        InstrumentKind.SPOT,
        "BTC",
        "USD",
        Decimal("0.1"),
        Decimal("0.00000001"),
        min_quantity=Decimal("0.0001"),
        min_notional=Decimal("0.5"),
    )
    return await ccxt_run(fakes, ids, FakeKraken(), instrument)


# Alpaca ------------------------------------------------------------------------------------


async def alpaca_run(fakes: FakeThread, ids: Ids) -> VenueRun:
    """``AlpacaAdapter`` and the bare ``alpaca-py`` ``TradingClient`` against ``FakeAlpaca``."""
    fake = FakeAlpaca()
    fakes.run(fake.start())
    fakes.run(fake.set_quote("SPY", Decimal("449.99"), Decimal("450.01")))
    instrument = InstrumentRegistry().get("SPY")
    config = AlpacaConfig(
        api_key=fake.api_key,
        secret_key=fake.secret_key,
        trading_url=fake.base_url,
        data_url=fake.base_url,
        stream_url=fake.stream_url,
        data_stream_url=fake.data_stream_url,
    )
    adapter = AlpacaAdapter(config, [instrument])
    await adapter.connect()
    bare = TradingClient(
        api_key=fake.api_key,
        secret_key=fake.secret_key,
        paper=True,
        raw_data=True,
        url_override=fake.base_url,
    )
    run = VenueRun(
        name="alpaca",
        instrument=instrument,
        quantity=Decimal(1),
        limit_price=Decimal(400),
        ways={},
        requests=lambda: list(fake.requests),
    )

    def submit(t: Ticket, limit: bool) -> Any:
        fields: Json = {
            "symbol": "SPY",
            "qty": "1",
            "side": "buy" if t.buy else "sell",
            "time_in_force": "gtc",
            "client_order_id": t.wire_id,
        }
        if limit:
            fields["limit_price"] = "400"
            placed = bare.submit_order(LimitOrderRequest.model_validate(fields))
        else:
            placed = bare.submit_order(MarketOrderRequest.model_validate(fields))
        run.captured["market" if not limit else "limit"] = placed
        return placed

    def lookup(t: Ticket) -> Any:
        return bare.get_order_by_client_id(t.wire_id)

    def cancel(order_id: str) -> Any:
        return bare.cancel_order_by_id(order_id)

    async def call(threaded: bool, fn: Callable[..., _T], *args: Any) -> _T:
        if threaded:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    def sdk_steps(threaded: bool) -> dict[str, Step]:
        async def market(t: Ticket) -> object:
            return await call(threaded, submit, t, False)

        async def limit_cancel(t: Ticket) -> object:
            await call(threaded, submit, t, True)
            found = await call(threaded, lookup, t)
            await call(threaded, cancel, found["id"])
            return await call(threaded, lookup, t)

        return {"market": market, "limit_cancel": limit_cancel}

    async def ours_market(t: Ticket) -> object:
        return await adapter.place_order(t.order)

    async def ours_limit_cancel(t: Ticket) -> object:
        await adapter.place_order(t.order)
        return await adapter.cancel_order(t.order.client_order_id, t.order.instrument_id)

    run.ways = {
        "ours": {"market": ours_market, "limit_cancel": ours_limit_cancel},
        "baseline": sdk_steps(threaded=False),
        "baseline_thread": sdk_steps(threaded=True),
    }

    def translation() -> dict[str, Callable[[], object]]:
        ticket = make_ticket(run, ids.take("t"), OrderType.MARKET, True)
        raw = run.captured["market"]

        def request() -> object:
            return alpaca_order_request(ticket.order, "SPY", extended_hours=False)

        def response() -> object:
            placed = read_order(raw)
            return alpaca_order_state(
                [placed], ClientOrderId(placed.client_order_id), instrument.id
            )

        return {"request": request, "response": response}

    async def stop() -> None:
        await adapter.disconnect()
        bare._session.close()
        fakes.run(fake.stop())

    run.translation = translation
    run.stop = stop
    return run


# OANDA -------------------------------------------------------------------------------------


async def oanda_run(fakes: FakeThread, ids: Ids) -> VenueRun:
    """``OandaAdapter`` and raw ``httpx`` requests (same bodies, same headers) on EUR_USD."""
    fake = FakeOanda()
    base_url = fakes.run(fake.start())
    fake.set_quote("EUR_USD", Decimal("1.09998"), Decimal("1.10002"))
    account = fake.book.account_id
    config = OandaConfig(account_id=account, token=fake.token, rest_url=base_url, timeout_s=5.0)
    adapter = OandaAdapter(config)
    await adapter.connect()
    bare = httpx.AsyncClient(
        base_url=base_url,
        headers={
            "Authorization": f"Bearer {fake.token}",
            "Accept-Datetime-Format": "RFC3339",
            "User-Agent": "alphintra-oanda/1",
        },
        timeout=5.0,
    )
    orders = f"/v3/accounts/{account}/orders"
    json_type = {"Content-Type": "application/json"}
    run = VenueRun(
        name="oanda",
        instrument=InstrumentRegistry().get("EURUSD"),
        quantity=Decimal(1000),
        limit_price=Decimal("1.09000"),
        ways={},
        requests=lambda: [(r.method, r.path) for r in fake.requests],
    )

    async def send(method: str, path: str, **kwargs: Any) -> Json:
        response = await bare.request(method, path, **kwargs)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code}: {response.text}")
        run.captured[f"{method} {path.rsplit('/', 1)[-1]}"] = response.content
        decoded: Json = json.loads(response.content)
        return decoded

    def body(t: Ticket, limit: bool) -> bytes:
        order: Json = {
            "type": "LIMIT" if limit else "MARKET",
            "instrument": "EUR_USD",
            "units": "1000" if t.buy else "-1000",
        }
        if limit:
            order["price"] = "1.09000"
        order["timeInForce"] = "GTC" if limit else "FOK"
        order["clientExtensions"] = {"id": t.wire_id, "tag": "alphintra"}
        return json.dumps({"order": order}, separators=(",", ":")).encode()

    async def bare_market(t: Ticket) -> object:
        return await send("POST", orders, content=body(t, False), headers=json_type)

    async def bare_limit_cancel(t: Ticket) -> object:
        await send("POST", orders, content=body(t, True), headers=json_type)
        return await send("PUT", f"{orders}/@{t.wire_id}/cancel")

    async def ours_market(t: Ticket) -> object:
        return await adapter.place_order(t.order)

    async def ours_limit_cancel(t: Ticket) -> object:
        await adapter.place_order(t.order)
        return await adapter.cancel_order(t.order.client_order_id, t.order.instrument_id)

    run.ways = {
        "ours": {"market": ours_market, "limit_cancel": ours_limit_cancel},
        "baseline": {"market": bare_market, "limit_cancel": bare_limit_cancel},
    }

    def translation() -> dict[str, Callable[[], object]]:
        ticket = make_ticket(run, ids.take("t"), OrderType.MARKET, True)
        raw: bytes = run.captured["POST orders"]
        encoder = msgspec.json.Encoder()
        decoder = msgspec.json.Decoder(OrderWriteResponse)

        def request() -> object:
            wire = oanda_translate.order_request(ticket.order, "EUR_USD", tag="alphintra")
            return encoder.encode(OrderBody(order=wire))

        def response() -> object:
            decoded = decoder.decode(raw)
            created = decoded.order_create_transaction
            assert created is not None
            state = oanda_translate.created_state(created, adapter.symbol_of)
            if decoded.order_fill_transaction is not None:
                return state, oanda_translate.fill_price(decoded.order_fill_transaction)
            return state

        return {"request": request, "response": response}

    async def stop() -> None:
        await adapter.disconnect()
        await bare.aclose()
        fakes.run(fake.stop())

    run.translation = translation
    run.stop = stop
    return run


# The simulated venue -----------------------------------------------------------------------


async def simulated_run(fakes: FakeThread, ids: Ids) -> VenueRun:
    """``SimulatedVenueAdapter`` against the matching engine's ``handle`` on its own."""
    registry = InstrumentRegistry()
    instrument = registry.get("EURUSD")
    adapter = SimulatedVenueAdapter(SimulatedVenue(SimulatedVenueConfig(), registry.known()))
    bare = SimulatedVenue(SimulatedVenueConfig(), registry.known())
    await adapter.connect()
    size = Decimal(1_000_000)
    quote = QuoteTick(
        instrument.id, Decimal("1.09998"), Decimal("1.10002"), size, size, 1_700_000_000 * 10**9
    )
    await adapter.feed_quote(quote)
    bare.on_market_data(quote)
    run = VenueRun(
        name="simulated",
        instrument=instrument,
        quantity=Decimal(1000),
        limit_price=Decimal("1.09000"),
        ways={},
    )

    async def ours_market(t: Ticket) -> object:
        return await adapter.place_order(t.order)

    async def ours_limit_cancel(t: Ticket) -> object:
        await adapter.place_order(t.order)
        return await adapter.cancel_order(t.order.client_order_id, t.order.instrument_id)

    async def bare_market(t: Ticket) -> object:
        return bare.handle(SubmitToVenue(venue=bare.venue_id, order=t.order))

    async def bare_limit_cancel(t: Ticket) -> object:
        bare.handle(SubmitToVenue(venue=bare.venue_id, order=t.order))
        return bare.handle(
            CancelAtVenue(
                venue=bare.venue_id,
                account_id=_ACCOUNT,
                client_order_id=t.order.client_order_id,
                instrument_id=t.order.instrument_id,
                ts=0,
            )
        )

    run.ways = {
        "ours": {"market": ours_market, "limit_cancel": ours_limit_cancel},
        "baseline": {"market": bare_market, "limit_cancel": bare_limit_cancel},
    }
    return run


BUILDERS: dict[str, Callable[[FakeThread, Ids], Awaitable[VenueRun]]] = {
    "binance": binance_run,
    "kraken": kraken_run,
    "alpaca": alpaca_run,
    "oanda": oanda_run,
    "simulated": simulated_run,
}


# Measurement -------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


async def check_requests(run: VenueRun, ids: Ids) -> dict[str, dict[str, list[str]]]:
    """Send one order of each operation each way; return the requests the fake saw."""
    seen: dict[str, dict[str, list[str]]] = {}
    for op in OPERATIONS:
        order_type = OrderType.MARKET if op == "market" else OrderType.LIMIT
        seen[op] = {}
        for way, steps in run.ways.items():
            cid = ids.take(way[0])
            ticket = make_ticket(run, cid, order_type, True)
            before = len(run.requests())
            await steps[op](ticket)
            sent = run.requests()[before:]
            seen[op][way] = _normalise(sent, [ticket.wire_id, str(cid)])
            if op == "market":  # sell it back: the position stays flat
                await steps[op](make_ticket(run, ids.take(way[0]), order_type, False))
    return seen


async def measure(
    run: VenueRun, op: str, n: int, warmup: int, ids: Ids, advance: Callable[[], None]
) -> dict[str, list[float]]:
    """Time ``n`` orders of ``op`` each way, alternating; return microseconds per order."""
    order_type = OrderType.MARKET if op == "market" else OrderType.LIMIT
    ways = list(run.ways)
    samples: dict[str, list[float]] = {way: [] for way in ways}
    clock = time.perf_counter_ns
    for i in range(-warmup, n):
        buy = op != "market" or i % 2 == 0
        for way in ways if i % 2 == 0 else ways[::-1]:
            ticket = make_ticket(run, ids.take(way[0]), order_type, buy)
            step = run.ways[way][op]
            start = clock()
            await step(ticket)
            elapsed = clock() - start
            if i >= 0:
                samples[way].append(elapsed / 1000)
        advance()
    return samples


def summarise(samples: dict[str, list[float]]) -> dict[str, float]:
    """Return medians, the overhead of ours over each baseline, and the ratio."""
    ours = samples["ours"]
    result = {"ours_us": _median(ours)}
    for way, values in samples.items():
        if way == "ours":
            continue
        suffix = way.removeprefix("baseline")
        result[f"{way}_us"] = _median(values)
        result[f"overhead{suffix}_us"] = round(result["ours_us"] - result[f"{way}_us"], 1)
        result[f"paired_overhead{suffix}_us"] = _median(
            [a - b for a, b in zip(ours, values, strict=True)]
        )
        result[f"ratio{suffix}"] = round(result["ours_us"] / result[f"{way}_us"], 3)
    return result


def time_translation(steps: dict[str, Callable[[], object]], loops: int, repeats: int) -> Json:
    """Return the best microseconds per call of each step over the runs, and their sum."""
    result: Json = {}
    for name, step in steps.items():
        step()
        runs = timeit.Timer(step).repeat(repeat=repeats, number=loops)
        result[f"{name}_us"] = round(min(runs) / loops * 1e6, 2)
    if result:
        result["total_us"] = round(sum(result.values()), 2)
    return result


async def bench(args: argparse.Namespace, progress: Progress | None) -> Json:
    """Run every venue in turn and return the JSON report."""
    fakes = FakeThread()
    ids = Ids()
    report: Json = {"n": args.n, "warmup": args.warmup, "venues": {}}
    try:
        for venue in args.venues.split(","):
            run = await BUILDERS[venue](fakes, ids)
            task = None
            if progress is not None:
                total = len(OPERATIONS) * (args.n + args.warmup)
                task = progress.add_task(run.name, total=total)

            def advance(task_id: Any = task) -> None:
                if progress is not None and task_id is not None:
                    progress.advance(task_id)

            try:
                requests = await check_requests(run, ids)
                entry: Json = {
                    "requests": {op: requests[op]["ours"] for op in OPERATIONS},
                    "same_requests": all(
                        len({tuple(shape) for shape in by_way.values()}) == 1
                        for by_way in requests.values()
                    ),
                }
                if not entry["same_requests"]:
                    entry["baseline_requests"] = requests
                for op in OPERATIONS:
                    samples = await measure(run, op, args.n, args.warmup, ids, advance)
                    entry[op] = summarise(samples)
                entry["translation"] = time_translation(run.translation(), args.loops, args.repeats)
            finally:
                if run.stop is not None:
                    await run.stop()
            report["venues"][run.name] = entry
    finally:
        fakes.close()
    return report


def print_table(report: Json) -> None:
    """Print the report as a table (one row per operation and baseline)."""
    table = Table(title=f"Adapter overhead per order (medians of {report['n']} each way)")
    table.add_column("venue")
    table.add_column("operation")
    for column in ("requests", "baseline µs", "ours µs", "overhead µs", "paired µs", "ratio"):
        table.add_column(column, justify="right")
    table.add_column("translation µs", justify="right")
    for name, entry in report["venues"].items():
        translation = entry["translation"].get("total_us")
        for op in OPERATIONS:
            row = entry[op]
            for way in ("baseline", "baseline_thread"):
                if f"{way}_us" not in row:
                    continue
                suffix = way.removeprefix("baseline")
                table.add_row(
                    name + (" (SDK in a thread)" if suffix else ""),
                    op,
                    str(len(entry["requests"][op])),
                    f"{row[f'{way}_us']:,.1f}",
                    f"{row['ours_us']:,.1f}",
                    f"{row[f'overhead{suffix}_us']:,.1f}",
                    f"{row[f'paired_overhead{suffix}_us']:,.1f}",
                    f"{row[f'ratio{suffix}']:.2f}",
                    f"{translation:.1f}" if translation is not None and op == "market" else "",
                )
    console = Console()
    if not console.is_terminal:
        console = Console(width=130)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table, or one JSON line with ``--json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=500, help="timed orders per operation and way")
    parser.add_argument("--warmup", type=int, default=20, help="untimed orders first")
    parser.add_argument("--venues", default=",".join(VENUES))
    parser.add_argument("--loops", type=int, default=2000, help="translation calls per run")
    parser.add_argument("--repeats", type=int, default=5, help="translation runs (best)")
    parser.add_argument("--json", action="store_true", help="print one JSON line only")
    args = parser.parse_args(argv)
    unknown = set(args.venues.split(",")) - set(VENUES)
    if unknown:
        parser.error(f"unknown venues {sorted(unknown)}; known: {', '.join(VENUES)}")
    if args.json:
        report = asyncio.run(bench(args, None))
        print(json.dumps(report))
        return 0
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        report = asyncio.run(bench(args, progress))
    print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
