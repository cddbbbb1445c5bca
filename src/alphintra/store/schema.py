"""SQL tables besides the journal: the directory and the read models.

The journal is the source of truth. The read tables are its projection, written in
the same transaction as the events they come from (see ``projection.py``), so a
reader never sees an order the journal does not hold. Money and quantities are
exact: NUMERIC on PostgreSQL, decimal text on SQLite (whose NUMERIC affinity would
turn them into binary floats).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

Exact = sa.Numeric().with_variant(sa.String(64), "sqlite")
Nanos = sa.BigInteger

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.String(128), primary_key=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=True),
    sa.Column("created_at_ns", Nanos, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(128), sa.ForeignKey("users.user_id"), nullable=False),
    sa.Column("key_hash", sa.String(256), nullable=False),
    sa.Column("label", sa.String(128), nullable=False, server_default=""),
    sa.Column("created_at_ns", Nanos, nullable=False),
    sa.Column("revoked_at_ns", Nanos, nullable=True),
)

trading_accounts = sa.Table(
    "trading_accounts",
    metadata,
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("owner", sa.String(128), sa.ForeignKey("users.user_id"), nullable=False),
    sa.Column("venue", sa.String(64), nullable=False),
    sa.Column("base_currency", sa.String(8), nullable=False),
    sa.Column("starting_cash", sa.String(64), nullable=False),
    sa.Column("created_at_ns", Nanos, nullable=False),
)

broker_credentials = sa.Table(
    "broker_credentials",
    metadata,
    sa.Column(
        "account_id",
        sa.String(128),
        sa.ForeignKey("trading_accounts.account_id"),
        primary_key=True,
    ),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("updated_at_ns", Nanos, nullable=False),
)

trading_signals = sa.Table(
    "trading_signals",
    metadata,
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("signal_id", sa.String(128), primary_key=True),
    sa.Column("model_id", sa.String(128), nullable=False),
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("confidence", Exact, nullable=False),
    sa.Column("quantity", Exact, nullable=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("reason_code", sa.String(64), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("signal_ts_ns", Nanos, nullable=False),
    sa.Column("received_at_ns", Nanos, nullable=False),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("order_id", sa.String(160), primary_key=True),
    sa.Column("signal_id", sa.String(128), nullable=True),
    sa.Column("parent_id", sa.String(160), nullable=True),
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("order_type", sa.String(16), nullable=False),
    sa.Column("time_in_force", sa.String(8), nullable=False),
    sa.Column("quantity", Exact, nullable=False),
    sa.Column("price", Exact, nullable=True),
    sa.Column("stop_price", Exact, nullable=True),
    sa.Column("filled_quantity", Exact, nullable=False),
    sa.Column("average_price", Exact, nullable=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("venue", sa.String(64), nullable=True),
    sa.Column("venue_order_id", sa.String(128), nullable=True),
    sa.Column("created_at_ns", Nanos, nullable=False),
    sa.Column("updated_at_ns", Nanos, nullable=False),
    sa.Index("ix_orders_account_status", "account_id", "status"),
    sa.Index("ix_orders_signal", "account_id", "signal_id"),
)

trades = sa.Table(
    "trades",
    metadata,
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("venue", sa.String(64), primary_key=True),
    sa.Column("trade_id", sa.String(128), primary_key=True),
    sa.Column("order_id", sa.String(160), nullable=False),
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("quantity", Exact, nullable=False),
    sa.Column("price", Exact, nullable=False),
    sa.Column("fee", Exact, nullable=False),
    sa.Column("fee_currency", sa.String(16), nullable=False),
    sa.Column("liquidity", sa.String(8), nullable=False),
    sa.Column("executed_at_ns", Nanos, nullable=False),
    sa.Index("ix_trades_account_executed", "account_id", "executed_at_ns"),
)

positions = sa.Table(
    "positions",
    metadata,
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("symbol", sa.String(32), primary_key=True),
    sa.Column("quantity", Exact, nullable=False),
    sa.Column("open_cost", Exact, nullable=False),
    sa.Column("realized_pnl", Exact, nullable=False),
    sa.Column("currency", sa.String(16), nullable=False),
    sa.Column("opened_at_ns", Nanos, nullable=True),
    sa.Column("updated_at_ns", Nanos, nullable=False),
)

portfolio_snapshots = sa.Table(
    "portfolio_snapshots",
    metadata,
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("ts_ns", Nanos, primary_key=True),
    sa.Column("total_value", Exact, nullable=False),
    sa.Column("cash", Exact, nullable=False),
    sa.Column("positions_value", Exact, nullable=False),
    sa.Column("realized_pnl", Exact, nullable=False),
    sa.Column("unrealized_pnl", Exact, nullable=False),
)

risk_snapshots = sa.Table(
    "risk_snapshots",
    metadata,
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("ts_ns", Nanos, primary_key=True),
    sa.Column("currency", sa.String(16), nullable=False),
    sa.Column("equity", Exact, nullable=False),
    sa.Column("gross_exposure", Exact, nullable=False),
    sa.Column("net_exposure", Exact, nullable=False),
    sa.Column("leverage", Exact, nullable=True),
    sa.Column("var_95_1d", Exact, nullable=True),
    sa.Column("es_95_1d", Exact, nullable=True),
    sa.Column("var_99_1d", Exact, nullable=True),
    sa.Column("es_99_1d", Exact, nullable=True),
    sa.Column("max_drawdown", Exact, nullable=True),
    sa.Column("report", sa.Text, nullable=False),
)
"""The risk report of an account over time: headline figures, plus the whole report as JSON."""

quotes = sa.Table(
    "quotes",
    metadata,
    sa.Column("symbol", sa.String(32), primary_key=True),
    sa.Column("ts_ns", Nanos, primary_key=True),
    sa.Column("bid", Exact, nullable=False),
    sa.Column("ask", Exact, nullable=False),
    sa.Column("bid_size", Exact, nullable=False),
    sa.Column("ask_size", Exact, nullable=False),
)

ohlcv_data = sa.Table(
    "ohlcv_data",
    metadata,
    sa.Column("symbol", sa.String(32), primary_key=True),
    sa.Column("interval_s", sa.Integer, primary_key=True),
    sa.Column("ts_ns", Nanos, primary_key=True),
    sa.Column("open", Exact, nullable=False),
    sa.Column("high", Exact, nullable=False),
    sa.Column("low", Exact, nullable=False),
    sa.Column("close", Exact, nullable=False),
    sa.Column("volume", Exact, nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("target", sa.String(160), nullable=False),
    sa.Column("old_value", sa.Text, nullable=False),
    sa.Column("new_value", sa.Text, nullable=False),
    sa.Column("ts_ns", Nanos, nullable=False),
)
"""A readable copy of the audit events; the hash-chained journal is the record."""

execution_quality = sa.Table(
    "execution_quality",
    metadata,
    sa.Column("account_id", sa.String(128), primary_key=True),
    sa.Column("order_id", sa.String(160), primary_key=True),
    sa.Column("trade_id", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("ts_ns", Nanos, nullable=False),
    sa.Column("symbol", sa.String(32), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("venue", sa.String(64), nullable=True),
    sa.Column("model_id", sa.String(128), nullable=True),
    sa.Column("strategy", sa.String(128), nullable=True),
    sa.Column("signal_id", sa.String(128), nullable=True),
    sa.Column("parent_id", sa.String(160), nullable=True),
    sa.Column("algo", sa.String(32), nullable=True),
    sa.Column("currency", sa.String(16), nullable=False),
    sa.Column("multiplier", Exact, nullable=False),
    sa.Column("arrival_ts_ns", Nanos, nullable=False),
    sa.Column("end_ts_ns", Nanos, nullable=True),
    sa.Column("ordered_quantity", Exact, nullable=True),
    sa.Column("quantity", Exact, nullable=False),
    sa.Column("price", Exact, nullable=True),
    sa.Column("fee", Exact, nullable=False),
    sa.Column("arrival_bid", Exact, nullable=True),
    sa.Column("arrival_ask", Exact, nullable=True),
    sa.Column("arrival_mid", Exact, nullable=True),
    sa.Column("decision_price", Exact, nullable=True),
    sa.Column("decision_from_signal", sa.Boolean, nullable=True),
    sa.Column("mid", Exact, nullable=True),
    sa.Column("mid_after", Exact, nullable=True),
    sa.Column("filled_notional", Exact, nullable=True),
    sa.Column("decision_notional", Exact, nullable=True),
    sa.Column("slippage_bps", Exact, nullable=True),
    sa.Column("implementation_shortfall", Exact, nullable=True),
    sa.Column("implementation_shortfall_bps", Exact, nullable=True),
    sa.Column("spread_cost", Exact, nullable=False),
    sa.Column("impact_cost", Exact, nullable=False),
    sa.Column("timing_cost", Exact, nullable=False),
    sa.Column("opportunity_cost", Exact, nullable=True),
    sa.Column("interval_vwap", Exact, nullable=True),
    sa.Column("vwap_slippage_bps", Exact, nullable=True),
    sa.Column("interval_twap", Exact, nullable=True),
    sa.Column("twap_slippage_bps", Exact, nullable=True),
    sa.Column("effective_spread_bps", Exact, nullable=True),
    sa.Column("realised_spread_bps", Exact, nullable=True),
    sa.Column("market_impact_bps", Exact, nullable=True),
    sa.Column("fill_rate", Exact, nullable=True),
    sa.Column("execution_time_ns", Nanos, nullable=True),
    sa.Column("price_improvement", Exact, nullable=True),
    sa.Column("price_improvement_bps", Exact, nullable=True),
    sa.Index("ix_execution_quality_account_arrival", "account_id", "arrival_ts_ns"),
)
"""Execution quality over time: one ``ORDER`` row per order (``trade_id`` empty, ``ts_ns``
its arrival) and one ``FILL`` row per fill (``ts_ns`` the fill). Upserted by
``alphintra.reports.recorder`` in the journal's transaction; see
``alphintra.execution.quality`` for every definition and sign."""
