"""Trade queries over gold_trades: a time range page by page, and the latest N of a symbol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa
from pyiceberg.expressions import And, BooleanExpression, EqualTo, GreaterThanOrEqual, LessThan

from .engine import QueryEngine
from .ordered import ordered_rows
from .render import with_json
from .rows import EPOCH
from .snapshots import PinnedTable
from .trade_order import TRADE_ORDER, TradeKey, key_at

GOLD = "gold_trades"
# vendor_data stays in the table (nothing dropped) but is not part of query results.
TRADE_COLUMNS = (
    "message_id",
    "exchange",
    "symbol",
    "exchange_symbol",
    "base",
    "quote",
    "trade_id",
    "price",
    "quantity",
    "quote_quantity",
    "side",
    "trade_time",
    "event_time",
    "ingest_time",
    "sequence",
)
TIME_COLUMNS = frozenset({"trade_time", "event_time", "ingest_time"})
HOUR_US = 3_600_000_000


def ts(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True)
class TradeFilter:
    """Which trades: a symbol, optionally one exchange, optionally a [start, end) time range (µs)."""

    symbol: str
    exchange: str | None = None
    start_us: int | None = None
    end_us: int | None = None

    def row_filter(self) -> BooleanExpression:
        # Time bounds widened to whole hours (gold's partition) so nearby requests share a cached plan.
        expr: BooleanExpression = EqualTo("symbol", self.symbol)
        if self.exchange:
            expr = And(expr, EqualTo("exchange", self.exchange))
        if self.start_us is not None:
            expr = And(expr, GreaterThanOrEqual("trade_time", self.start_us // HOUR_US * HOUR_US))
        if self.end_us is not None:
            expr = And(expr, LessThan("trade_time", -(-self.end_us // HOUR_US) * HOUR_US))
        return expr

    def where(self) -> tuple[str, dict[str, object]]:
        clauses, params = ["symbol = $symbol"], {"symbol": self.symbol}
        if self.exchange:
            clauses.append("exchange = $exchange")
            params["exchange"] = self.exchange
        if self.start_us is not None:
            clauses.append("trade_time >= $start")
            params["start"] = ts(self.start_us)
        if self.end_us is not None:
            clauses.append("trade_time < $end")
            params["end"] = ts(self.end_us)
        return " AND ".join(clauses), params


def _ordered(engine: QueryEngine, pinned: PinnedTable, flt: TradeFilter, limit: int, descending: bool, after: TradeKey | None = None) -> pa.Table:
    where, params = flt.where()
    if after is not None:
        names = [f"after_{i}" for i in range(len(TRADE_ORDER))]
        where += f" AND ({', '.join(TRADE_ORDER)}) > ({', '.join('$' + n for n in names)})"
        params.update(zip(names, (ts(after[0]), *after[1:])))
    plan = engine.plan(pinned, flt.row_filter())
    return ordered_rows(
        engine,
        plan,
        columns=", ".join(TRADE_COLUMNS),
        where=where,
        params=params,
        limit=limit,
        descending=descending,
        order_column=TRADE_ORDER[0],
        tiebreak=TRADE_ORDER[1:],
    )


def newest_trades(engine: QueryEngine, pinned: PinnedTable, flt: TradeFilter, limit: int) -> pa.Table:
    """The newest `limit` trades in `pinned`, newest first (reverse TRADE_ORDER), with
    their JSON text and time in µs (render.JSON_COLUMN, render.TIME_US_COLUMN)."""
    if flt.start_us is None and flt.end_us is None:
        window = engine.recent.get(engine, pinned, TRADE_COLUMNS)
        rows = window.last(flt.symbol, flt.exchange, limit) if window is not None else None
        if rows is not None:
            return rows
    return with_json(engine.cursor(), _ordered(engine, pinned, flt, limit, descending=True), TRADE_COLUMNS, "trade_time")


def last_trades(engine: QueryEngine, pinned: PinnedTable, flt: TradeFilter, limit: int) -> pa.Table:
    """The newest `limit` trades in `pinned`, newest first (reverse TRADE_ORDER)."""
    return newest_trades(engine, pinned, flt, limit).select(list(TRADE_COLUMNS))


@dataclass(frozen=True)
class TradePage:
    rows: pa.Table
    snapshot_id: int | None
    next_after: TradeKey | None  # the last row's key when more remain


def trades_page(engine: QueryEngine, flt: TradeFilter, limit: int, after: TradeKey | None = None, snapshot_id: int | None = None) -> TradePage:
    """One page of trades in TRADE_ORDER, after the key `after`; every page of a walk reads one snapshot."""
    pinned = engine.pin(GOLD, snapshot_id)
    if after is not None:  # the cursor also narrows the plan: files before it are pruned
        flt = TradeFilter(flt.symbol, flt.exchange, max(after[0], flt.start_us or after[0]), flt.end_us)
    rows = _ordered(engine, pinned, flt, limit + 1, descending=False, after=after)
    if rows.num_rows <= limit:
        return TradePage(rows, pinned.snapshot_id, None)
    rows = rows.slice(0, limit)
    return TradePage(rows, pinned.snapshot_id, key_at(rows, limit - 1))
