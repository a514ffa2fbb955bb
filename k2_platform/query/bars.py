"""OHLCV bars from ohlcv_1m / ohlcv_1h / ohlcv_1d (written by the bar assets, see bar_build)."""

from __future__ import annotations

import pyarrow as pa
from pyiceberg.expressions import And, BooleanExpression, EqualTo

from ..lakehouse.table_specs import OHLCV_COLUMNS, OHLCV_INTERVALS
from .bar_build import bar_table_name, time_range
from .engine import QueryEngine
from .snapshots import PinnedTable
from .trades import ts

INTERVALS = tuple(OHLCV_INTERVALS)
INTERVAL_US = {interval: width for interval, (width, _transform) in OHLCV_INTERVALS.items()}
BAR_COLUMNS = tuple(name for name, _type, _required in OHLCV_COLUMNS)
DAY_US = INTERVAL_US["1d"]


def bar_filter(
    engine: QueryEngine, symbol: str, interval: str, start_us: int, end_us: int, exchange: str | None
) -> tuple[PinnedTable, BooleanExpression]:
    """The pinned bar table and the planning filter of a request (pruning only: the exact bounds are applied after)."""
    pinned = engine.pin(bar_table_name(interval))
    # Whole days for planning (the coarsest partition of the bar tables): nearby requests share a plan.
    row_filter = And(EqualTo("symbol", symbol), time_range("open_time", start_us // DAY_US * DAY_US, -(-end_us // DAY_US) * DAY_US))
    return pinned, row_filter if exchange is None else And(row_filter, EqualTo("exchange", exchange))


def bars(engine: QueryEngine, symbol: str, interval: str, start_us: int, end_us: int, limit: int, exchange: str | None = None) -> pa.Table:
    """Bars of `symbol` (on every exchange, or one) with open_time in [start, end), oldest first, at most `limit`."""
    pinned, row_filter = bar_filter(engine, symbol, interval, start_us, end_us, exchange)
    where = "symbol = $symbol AND open_time >= $start AND open_time < $end" + (" AND exchange = $exchange" if exchange else "")
    params = {"symbol": symbol, "start": ts(start_us), "end": ts(end_us), "k2_limit": limit, **({"exchange": exchange} if exchange else {})}
    # A window's bars are few (a day of 1m bars is 1,440 per symbol and venue): one pass over its files.
    sql = f"SELECT {', '.join(BAR_COLUMNS)} FROM {{source}} WHERE {where} ORDER BY open_time, exchange LIMIT $k2_limit"
    return engine.run(pinned, engine.plan(pinned, row_filter).files, sql, params)
