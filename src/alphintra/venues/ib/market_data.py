"""Market data of the Interactive Brokers adapter: streamed quotes and historical bars.

`IbMarketData` is a mixin of `alphintra.venues.ib.adapter.IbAdapter`, which holds the
API session, the qualified contracts and the subscription state these methods use;
translation of tickers and bars lives in ``translation.py``. Streamed quotes come from
``pendingTickersEvent`` and are resubscribed after every reconnect (and after TWS
reports its IB link restored with data lost, 1101).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import structlog
from ib_async import IB, Contract, Ticker

from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.market import QuoteTick, TradeBar
from alphintra.venues.adapter import QuoteHandler, VenueError, VenueErrorKind
from alphintra.venues.ib import translation as tr

log = structlog.get_logger("alphintra.venues.ib")
_T = TypeVar("_T")


class IbMarketData:
    """Quotes and bars over the adapter's API session (see the module docstring)."""

    if TYPE_CHECKING:  # set up and provided by IbAdapter
        venue_id: VenueId
        _ib: IB
        _clock: Callable[[], int]
        _subscribed: dict[InstrumentId, Contract]
        _tickers: dict[int, InstrumentId]
        _quotes: asyncio.Queue[QuoteTick]
        _quote_handlers: list[QuoteHandler]
        _pumps: list[asyncio.Task[None]]

        async def _qualified(self, instrument_id: InstrumentId) -> Contract: ...

        async def _request(self, send: Callable[[], Awaitable[_T]], what: str) -> _T: ...

        def _require_connected(self, what: str) -> None: ...

    async def quote(self, instrument_id: InstrumentId) -> QuoteTick:
        """Return the streamed quote if subscribed, else a snapshot; TRANSIENT if one-sided."""
        contract = await self._qualified(instrument_id)
        now = self._clock()
        streamed = self._ib.ticker(contract) if instrument_id in self._subscribed else None
        quote = tr.quote_from_ticker(streamed, instrument_id, now) if streamed else None
        if quote is None:
            tickers = await self._request(lambda: self._ib.reqTickersAsync(contract), "quote")
            quote = tr.quote_from_ticker(tickers[0], instrument_id, now) if tickers else None
        if quote is None:
            raise VenueError(
                VenueErrorKind.TRANSIENT,
                self.venue_id,
                f"quote {instrument_id}: IB sent no two-sided quote (market closed?)",
            )
        return quote

    async def subscribe_quotes(
        self, instruments: list[InstrumentId], handler: QuoteHandler
    ) -> None:
        """Stream best bid and ask into ``handler``; resubscribed after every reconnect."""
        self._require_connected("subscribe quotes")
        contracts = {iid: await self._qualified(iid) for iid in instruments}
        self._quote_handlers.append(handler)
        for iid, contract in contracts.items():
            if iid not in self._subscribed:
                self._subscribed[iid] = contract
                self._tickers[id(self._ib.reqMktData(contract))] = iid
        if not any(not p.done() for p in self._pumps if p.get_name() == "ib-quotes"):
            self._pumps.append(asyncio.create_task(self._pump_quotes(), name="ib-quotes"))

    def _resubscribe(self) -> None:
        self._tickers.clear()
        for iid, contract in self._subscribed.items():
            if self._ib.ticker(contract) is not None:  # the session survived (1101)
                self._ib.cancelMktData(contract)
            self._tickers[id(self._ib.reqMktData(contract))] = iid

    def _on_tickers(self, tickers: set[Ticker]) -> None:
        now = self._clock()
        for ticker in tickers:
            iid = self._tickers.get(id(ticker))
            quote = tr.quote_from_ticker(ticker, iid, now) if iid else None
            if quote is not None:
                self._quotes.put_nowait(quote)

    async def _pump_quotes(self) -> None:
        while True:
            quote = await self._quotes.get()
            for handler in list(self._quote_handlers):
                try:
                    await handler(quote)
                except Exception as exc:
                    log.exception("ib_quote_handler_failed", error=str(exc))

    async def bars(
        self, instrument_id: InstrumentId, interval_s: int, start_ns: int, end_ns: int
    ) -> list[TradeBar]:
        """Return historical bars in ``[start_ns, end_ns)`` (MIDPOINT where IB has no trades)."""
        contract = await self._qualified(instrument_id)
        try:
            size, duration = tr.bar_size_for(interval_s), tr.duration_for(start_ns, end_ns)
        except tr.IbTranslationError as exc:
            raise VenueError(VenueErrorKind.DEFINITIVE, self.venue_id, str(exc)) from exc
        bars = await self._request(
            lambda: self._ib.reqHistoricalDataAsync(
                contract,
                endDateTime=tr.datetime_from_ns(end_ns),
                durationStr=duration,
                barSizeSetting=size,
                whatToShow=tr.what_to_show(contract),
                useRTH=False,
                formatDate=2,
                timeout=0,
            ),
            f"bars {instrument_id}",
        )
        out = [tr.trade_bar(bar, instrument_id, interval_s) for bar in bars]
        return [b for b in out if start_ns <= b.ts < end_ns]
