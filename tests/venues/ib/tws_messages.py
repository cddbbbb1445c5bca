"""TWS API messages as raw field lists, in the wire layout of server version 178.

ib_async 2.1.0 negotiates protocol versions 157..178 and a current TWS or IB Gateway
answers with the highest, 178. Each builder below lists the fields in the exact order
``ib_async.decoder.Decoder`` reads them at that version (the comments name the decoder
method), with the values TWS really sends for fields the adapter does not use: "0" or
empty for flags, ``1.7976931348623157E308`` for an unset double (Java's
``Double.MAX_VALUE``), ``2147483647`` for an unset integer, ``?`` for an option right on
a non-option contract.

These builders only write the recordings under ``resources/`` (``cd tests && python -m
venues.ib.recordings``) and the fake TWS's own answers; the tests feed the raw
lists through ib_async's real ``Decoder`` into its ``Wrapper``.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVER_VERSION = 178
UNSET_DOUBLE = "1.7976931348623157E308"
UNSET_INT = "2147483647"
ACCOUNT = "DU7654321"


@dataclass(frozen=True, slots=True)
class WireContract:
    """A contract as TWS describes it in openOrder, execDetails and contractDetails."""

    con_id: int
    symbol: str
    sec_type: str
    currency: str
    exchange: str = "SMART"
    primary_exchange: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    last_trade: str = ""
    multiplier: str = ""
    min_tick: str = "0.01"
    long_name: str = ""

    def head(self) -> list[str]:
        """Return conId .. tradingClass as openOrder and execDetails carry them."""
        return [
            str(self.con_id),
            self.symbol,
            self.sec_type,
            self.last_trade,
            "0",
            "?" if self.sec_type != "FUT" else "",
            self.multiplier,
            self.exchange,
            self.currency,
            self.local_symbol or self.symbol,
            self.trading_class or self.symbol,
        ]


# fmt: off
AAPL = WireContract(
    265598, "AAPL", "STK", "USD", primary_exchange="NASDAQ", trading_class="NMS",
    long_name="APPLE INC",
)
EURUSD = WireContract(
    12087792, "EUR", "CASH", "USD", exchange="IDEALPRO", local_symbol="EUR.USD",
    trading_class="EUR.USD", min_tick="0.00005", long_name="European Monetary Union Euro",
)
XAUUSD = WireContract(
    69067924, "XAUUSD", "CMDTY", "USD", local_symbol="XAUUSD", trading_class="XAUUSD",
    min_tick="0.01", long_name="London Gold Spot",
)
IBDE40 = WireContract(
    111297220, "IBDE40", "CFD", "EUR", local_symbol="IBDE40", trading_class="IBDE40",
    min_tick="0.1", long_name="Germany 40",
)
ESZ5 = WireContract(
    495512563, "ES", "FUT", "USD", exchange="CME", local_symbol="ESZ5", trading_class="ES",
    last_trade="20251219", multiplier="50", min_tick="0.25", long_name="E-mini S&P 500",
)
# fmt: on


CONTRACTS = {c.con_id: c for c in (AAPL, EURUSD, XAUUSD, IBDE40, ESZ5)}


def handshake(time: str = "20250115 09:30:00 EST") -> list[str]:
    """Return the server's answer to the client's version range (version, time)."""
    return [str(SERVER_VERSION), time]


def current_time(epoch_s: int) -> list[str]:
    """Return TWS's answer to reqCurrentTime (its clock, in epoch seconds)."""
    return ["49", "1", str(epoch_s)]


def next_valid_id(order_id: int) -> list[str]:
    return ["9", "1", str(order_id)]


def managed_accounts(accounts: str = ACCOUNT) -> list[str]:
    return ["15", "1", accounts]


def order_status(
    order_id: int | str,
    status: str,
    *,
    filled: str = "0",
    remaining: str,
    avg_fill_price: str = "0",
    perm_id: int | str,
    last_fill_price: str = "0",
    client_id: int = 1,
    why_held: str = "",
) -> list[str]:
    """decoder.wrap('orderStatus', skip=1): no version field at 178."""
    return [
        "3",
        str(order_id),
        status,
        filled,
        remaining,
        avg_fill_price,
        str(perm_id),
        "0",  # parentId
        last_fill_price,
        str(client_id),
        why_held,
        UNSET_DOUBLE,  # mktCapPrice
    ]


def error(req_id: int | str, code: int, message: str, advanced_reject_json: str = "") -> list[str]:
    """decoder.errorMsg: version, id, code, text, then advancedOrderRejectJson (>= 166)."""
    return ["4", "2", str(req_id), str(code), message, advanced_reject_json]


# fmt: off
def open_order(
    order_id: int | str,
    contract: WireContract,
    *,
    action: str,
    quantity: str,
    order_type: str,
    status: str,
    perm_id: int | str,
    order_ref: str,
    lmt_price: str = "0.0",
    aux_price: str = "0.0",
    tif: str = "DAY",
    client_id: int = 1,
    account: str = ACCOUNT,
    good_till_date: str = "",
    display_size: str = UNSET_INT,
    trail_stop_price: str = UNSET_DOUBLE,
    trailing_percent: str = UNSET_DOUBLE,
    commission: str = UNSET_DOUBLE,
    commission_currency: str = "",
) -> list[str]:
    """decoder.openOrder at 178 (no faProfile, with duration, postToAts, autoCancelParent,
    and the five peg fields); no combo legs, conditions, algo or delta-neutral parts."""
    head = [str(order_id), *contract.head()]
    order_part = [
        action, quantity, order_type, lmt_price, aux_price, tif,
        "",  # ocaGroup
        account,
        "O",  # openClose
        "0",  # origin
        order_ref,
        str(client_id),
        str(perm_id),
        "0", "0", "0",  # outsideRth, hidden, discretionaryAmt
        "",  # goodAfterTime
        "",  # sharesAllocation (deprecated)
        "", "", "",  # faGroup, faMethod, faPercentage
        "",  # modelCode
        good_till_date,
        "",  # rule80A
        UNSET_DOUBLE,  # percentOffset
        "",  # settlingFirm
        "0", "",  # shortSaleSlot, designatedLocation
        "-1",  # exemptCode
        "0",  # auctionStrategy
        UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE,  # startingPrice, stockRefPrice, delta
        UNSET_DOUBLE, UNSET_DOUBLE,  # stockRangeLower, stockRangeUpper
        display_size,
        "0", "0", "0",  # blockOrder, sweepToFill, allOrNone
        UNSET_INT,  # minQty
        "3",  # ocaType
        "0", "0",  # eTradeOnly, firmQuoteOnly
        UNSET_DOUBLE,  # nbboPriceCap
        "0",  # parentId
        "0",  # triggerMethod
        UNSET_DOUBLE,  # volatility
        "0",  # volatilityType
        "",  # deltaNeutralOrderType: empty, so no delta-neutral block follows
        UNSET_DOUBLE,  # deltaNeutralAuxPrice
    ]
    tail = [
        "0",  # continuousUpdate
        "0",  # referencePriceType
        trail_stop_price,
        trailing_percent,
        UNSET_DOUBLE, UNSET_INT,  # basisPoints, basisPointsType
        "",  # comboLegsDescrip
        "0", "0", "0",  # combo legs, order combo legs, smart combo routing params
        UNSET_INT, UNSET_INT, "",  # scaleInitLevelSize, scaleSubsLevelSize, increment
        "",  # hedgeType
        "0", "", "", "0",  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
        "0",  # delta-neutral contract present
        "",  # algoStrategy
        "0", "0",  # solicited, whatIf
        status,
        *[UNSET_DOUBLE] * 9,  # margin before / change / after
        commission, UNSET_DOUBLE, UNSET_DOUBLE, commission_currency,
        "",  # warningText
        "0", "0",  # randomizeSize, randomizePrice
        "0",  # conditions
        "",  # adjustedOrderType
        UNSET_DOUBLE, trail_stop_price, UNSET_DOUBLE,  # triggerPrice, trailStop, lmtOffset
        UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE,  # adjusted stop, stop limit, trailing amt
        "0",  # adjustableTrailingUnit
        "", "", "",  # softDollarTier name, value, display name
        UNSET_DOUBLE,  # cashQty
        "0", "0", "0", "0",  # dontUseAutoPriceForHedge .. usePriceMgmtAlgo
        UNSET_INT,  # duration
        UNSET_INT,  # postToAts
        "0",  # autoCancelParent
        UNSET_INT, UNSET_INT, UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE,  # peg fields
    ]
    return ["5", *head, *order_part, *tail]


# fmt: on


def open_order_end() -> list[str]:
    return ["53", "1"]


# fmt: off
def completed_order(
    contract: WireContract,
    *,
    action: str,
    quantity: str,
    order_type: str,
    status: str,
    perm_id: int | str,
    order_ref: str,
    filled: str,
    lmt_price: str = "0.0",
    aux_price: str = "0.0",
    tif: str = "DAY",
    completed_time: str = "20250115 09:41:07 America/New_York",
    completed_status: str = "",
    account: str = ACCOUNT,
) -> list[str]:
    """decoder.completedOrder at 178 (no order ID: completed orders carry permId only)."""
    return [
        "101",
        *contract.head(),
        action, quantity, order_type, lmt_price, aux_price, tif,
        "",  # ocaGroup
        account,
        "O", "0",  # openClose, origin
        order_ref,
        str(perm_id),
        "0", "0", "0",  # outsideRth, hidden, discretionaryAmt
        "",  # goodAfterTime
        "", "", "",  # faGroup, faMethod, faPercentage
        "",  # modelCode
        "",  # goodTillDate
        "", UNSET_DOUBLE, "",  # rule80A, percentOffset, settlingFirm
        "0", "", "-1",  # shortSaleSlot, designatedLocation, exemptCode
        UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE,  # startingPrice, stockRefPrice, delta
        UNSET_DOUBLE, UNSET_DOUBLE,  # stock range
        UNSET_INT,  # displaySize
        "0", "0",  # sweepToFill, allOrNone
        UNSET_INT, "3", "0",  # minQty, ocaType, triggerMethod
        UNSET_DOUBLE, "0",  # volatility, volatilityType
        "", UNSET_DOUBLE,  # deltaNeutralOrderType (empty: no block), deltaNeutralAuxPrice
        "0", "0",  # continuousUpdate, referencePriceType
        UNSET_DOUBLE, UNSET_DOUBLE,  # trailStopPrice, trailingPercent
        "",  # comboLegsDescrip
        "0", "0", "0",  # legs, order legs, routing params
        UNSET_INT, UNSET_INT, "",  # scale sizes, increment
        "",  # hedgeType
        "", "", "0",  # clearingAccount, clearingIntent, notHeld
        "0",  # delta-neutral contract present
        "",  # algoStrategy
        "0",  # solicited
        status,
        "0", "0",  # randomizeSize, randomizePrice
        "0",  # conditions
        UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE,  # trailStopPrice, lmtPriceOffset, cashQty
        "0", "0",  # dontUseAutoPriceForHedge, isOmsContainer
        "",  # autoCancelDate
        filled,
        "0",  # refFuturesConId
        "0",  # autoCancelParent
        "",  # shareholder
        "0", "0",  # imbalanceOnly, routeMarketableToBbo
        "0",  # parentPermId
        completed_time,
        completed_status or status,
        UNSET_INT, UNSET_INT, UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE,  # peg fields
    ]


# fmt: on


def completed_orders_end() -> list[str]:
    return ["102"]


def exec_details(
    contract: WireContract,
    *,
    order_id: int | str,
    exec_id: str,
    time: str,
    side: str,
    shares: str,
    price: str,
    perm_id: int | str,
    cum_qty: str,
    avg_price: str,
    order_ref: str,
    req_id: int | str = -1,
    client_id: int = 1,
    exchange: str = "ISLAND",
    last_liquidity: int = 2,
    account: str = ACCOUNT,
) -> list[str]:
    """decoder.execDetails at 178 (with pendingPriceRevision); req_id -1 for a live fill."""
    return [
        "11",
        str(req_id),
        str(order_id),
        *contract.head(),
        exec_id,
        time,
        account,
        exchange,
        side,
        shares,
        price,
        str(perm_id),
        str(client_id),
        "0",  # liquidation
        cum_qty,
        avg_price,
        order_ref,
        "",  # evRule
        UNSET_DOUBLE,  # evMultiplier
        "",  # modelCode
        str(last_liquidity),
        "0",  # pendingPriceRevision
    ]


def exec_details_end(req_id: int | str) -> list[str]:
    return ["55", "1", str(req_id)]


def commission_report(exec_id: str, commission: str, currency: str) -> list[str]:
    """decoder.commissionReport: realized P&L and yield unset, as TWS sends for openings."""
    return ["59", "1", exec_id, commission, currency, UNSET_DOUBLE, UNSET_DOUBLE, ""]


# fmt: off
def contract_details(req_id: int | str, contract: WireContract) -> list[str]:
    """decoder.contractDetails at 178 (no version field, minSize and increments at the end)."""
    return [
        "10",
        str(req_id),
        contract.symbol,
        contract.sec_type,
        contract.last_trade,
        "0",  # strike
        "",  # right
        contract.exchange,
        contract.currency,
        contract.local_symbol or contract.symbol,
        contract.trading_class or contract.symbol,  # marketName
        contract.trading_class or contract.symbol,
        str(contract.con_id),
        contract.min_tick,
        contract.multiplier,
        "ACTIVETIM,AD,LMT,MKT,STP,STPLMT,TRAIL",  # orderTypes
        contract.exchange,  # validExchanges
        "1",  # priceMagnifier
        "0",  # underConId
        contract.long_name,
        contract.primary_exchange,
        contract.last_trade[:6],  # contractMonth
        "", "", "",  # industry, category, subcategory
        "US/Eastern",  # timeZoneId
        "", "",  # tradingHours, liquidHours
        "", "",  # evRule, evMultiplier (an int here: empty)
        "0",  # secIdList count
        "1",  # aggGroup
        "", "",  # underSymbol, underSecType
        "26",  # marketRuleIds
        "",  # realExpirationDate
        "COMMON" if contract.sec_type == "STK" else "",  # stockType
        "1", "1", "1",  # minSize, sizeIncrement, suggestedSizeIncrement
    ]


# fmt: on


def contract_details_end(req_id: int | str) -> list[str]:
    return ["52", "1", str(req_id)]


def position(
    contract: WireContract, quantity: str, avg_cost: str, account: str = ACCOUNT
) -> list[str]:
    """decoder.position: version 3, account, the contract, position, average cost."""
    return ["61", "3", account, *contract.head(), quantity, avg_cost]


def position_end() -> list[str]:
    return ["62", "1"]


def account_value(key: str, value: str, currency: str, account: str = ACCOUNT) -> list[str]:
    return ["6", "2", key, value, currency, account]


def account_download_end(account: str = ACCOUNT) -> list[str]:
    return ["54", "1", account]


def account_summary_end(req_id: int | str) -> list[str]:
    return ["64", "1", str(req_id)]


def tick_price(req_id: int | str, tick_type: int, price: str, size: str) -> list[str]:
    """decoder.priceSizeTick: version 6, reqId, tickType, price, size, attribute mask."""
    return ["1", "6", str(req_id), str(tick_type), price, size, "0"]


def tick_snapshot_end(req_id: int | str) -> list[str]:
    return ["57", "1", str(req_id)]


def historical_data(
    req_id: int | str, start: str, end: str, bars: list[tuple[str, ...]]
) -> list[str]:
    """decoder.historicalData: each bar is (date, open, high, low, close, volume, wap, count)."""
    fields = ["17", str(req_id), start, end, str(len(bars))]
    for bar in bars:
        fields.extend(bar)
    return fields
