"""OHLCV bars from ohlcv_1m / ohlcv_1h / ohlcv_1d."""
from __future__ import annotations

import pyarrow as pa
from pyiceberg.expressions import And, EqualTo, GreaterThanOrEqual, LessThan

from .engine import QueryEngine
from .ordered import ordered_rows
from .trades import ts

INTERVALS = ("1m", "1h", "1d")
INTERVAL_US = {"1m": 60_000_000, "1h": 3_600_000_000, "1d": 86_400_000_000}
BAR_COLUMNS = ("symbol", "bucket_start", "open", "high", "low", "close", "volume", "quote_volume", "vwap", "trade_count")
DAY_US = INTERVAL_US["1d"]


def bars(engine: QueryEngine, symbol: str, interval: str, start_us: int, end_us: int, limit: int) -> pa.Table:
    """Bars of `symbol` with bucket_start in [start, end), oldest first, at most `limit`."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, got {interval!r}")
    pinned = engine.pin(f"ohlcv_{interval}")
    # Whole days for planning (the finest partition of the bar tables): nearby requests share a plan.
    row_filter = And(EqualTo("symbol", symbol), And(GreaterThanOrEqual("bucket_start", start_us // DAY_US * DAY_US),
                                                    LessThan("bucket_start", -(-end_us // DAY_US) * DAY_US)))
    return ordered_rows(
        engine, engine.plan(pinned, row_filter), columns=", ".join(BAR_COLUMNS),
        where="symbol = $symbol AND bucket_start >= $start AND bucket_start < $end",
        params={"symbol": symbol, "start": ts(start_us), "end": ts(end_us)},
        limit=limit, descending=False, order_column="bucket_start", tiebreak="symbol",
    )
