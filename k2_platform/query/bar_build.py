"""Building OHLCV bars from gold_trades: one DuckDB pass over gold's planned files per time range, then
an atomic overwrite of exactly that range of the bar table.

A range is whole partitions of the bar table (hours for 1m bars, days for 1h/1d bars), so a rebuild
replaces the files of those partitions in one Iceberg commit (delete + append in one transaction):
a re-run never doubles a bar, and a reader sees the old bars or the new ones, never a mix.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import And, BooleanExpression, GreaterThanOrEqual, LessThan
from pyiceberg.transforms import DayTransform, HourTransform

from ..lakehouse.gold_changes import HOUR_US
from ..lakehouse.table_specs import OHLCV_INTERVALS
from .engine import QueryEngine

GOLD = "gold_trades"
VWAP_SCALE = 18
BUILD_ATTEMPTS = 10  # overwrite commits lost to a concurrent writer of the same bar table, then re-planned
GOLD_SNAPSHOT_PROPERTY = "k2.bars.gold_snapshot"
RANGE_PROPERTY = "k2.bars.range_us"

# Open/close: first/last trade by (trade_time, sequence); sequence is the exchange's numeric trade id,
# so trades inside one microsecond keep the venue's order (never arrival or message_id order).
_BARS_SQL = """
WITH t AS (
  SELECT exchange, symbol, epoch_us(trade_time) AS t_us, epoch_us(trade_time) // $width * $width AS open_us,
         sequence, price, quantity, quote_quantity, side = 'BUY' AS taker_buy
  FROM {source} WHERE trade_time >= make_timestamptz($start) AND trade_time < make_timestamptz($end)
)
SELECT exchange, symbol, make_timestamptz(open_us) AS open_time,
       arg_min(price, (t_us, sequence)) AS open, max(price) AS high, min(price) AS low,
       arg_max(price, (t_us, sequence)) AS close, sum(quantity) AS volume,
       make_timestamptz(open_us + $width - 1) AS close_time, sum(quote_quantity) AS quote_volume, count(*) AS trade_count,
       coalesce(sum(quantity) FILTER (WHERE taker_buy), 0) AS taker_buy_base_volume,
       coalesce(sum(quote_quantity) FILTER (WHERE taker_buy), 0) AS taker_buy_quote_volume
FROM t GROUP BY exchange, symbol, open_us ORDER BY open_time, exchange, symbol
"""


def bar_table_name(interval: str) -> str:
    if interval not in OHLCV_INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(OHLCV_INTERVALS)}, got {interval!r}")
    return f"ohlcv_{interval}"


def partition_us(interval: str) -> int:
    """Width of one partition of ohlcv_<interval> (and of its Dagster partitions): an hour or a day."""
    transform = OHLCV_INTERVALS[interval][1]
    return {HourTransform: HOUR_US, DayTransform: 24 * HOUR_US}[type(transform)]


def touched_partitions(interval: str, gold_hours) -> list[int]:
    """Start (µs) of every ohlcv_<interval> partition that covers one of gold's hour partitions."""
    width = partition_us(interval)
    return sorted({hour * HOUR_US // width * width for hour in gold_hours})


def time_range(column: str, start_us: int, end_us: int) -> BooleanExpression:
    return And(GreaterThanOrEqual(column, start_us), LessThan(column, end_us))


def exact_vwap(quote_volume: Decimal, volume: Decimal) -> Decimal:
    """quote_volume / volume, rounded half-even to 18 decimals, from the exact quotient.

    DuckDB divides DECIMAL by DECIMAL in DOUBLE (about 16 significant digits), and Decimal division
    rounds at the context precision before any quantize (double rounding): a Fraction is exact.
    """
    units = round(Fraction(quote_volume) / Fraction(volume) * 10**VWAP_SCALE)  # Fraction rounds half to even
    return Decimal(f"{units}e-{VWAP_SCALE}")


def compute_bars(engine: QueryEngine, interval: str, start_us: int, end_us: int, gold_snapshot_id: int | None = None) -> tuple[pa.Table, int | None]:
    """Bars of every (exchange, symbol, window) with trades in [start, end) of gold, and the gold snapshot read."""
    width = OHLCV_INTERVALS[interval][0]
    if start_us % width or end_us % width:
        raise ValueError(f"range [{start_us}, {end_us}) is not aligned to {interval} windows")
    pinned = engine.pin(GOLD, gold_snapshot_id, fresh=gold_snapshot_id is None)
    files = engine.plan(pinned, time_range("trade_time", start_us, end_us)).files
    bars = engine.run(pinned, files, _BARS_SQL, {"width": width, "start": start_us, "end": end_us})
    vwap = [exact_vwap(q, v) for q, v in zip(bars["quote_volume"].to_pylist(), bars["volume"].to_pylist())]
    bars = bars.append_column("vwap", pa.array(vwap, pa.decimal128(38, VWAP_SCALE)))
    return bars, pinned.snapshot_id


@dataclass(frozen=True)
class BuildOutcome:
    interval: str
    start_us: int
    end_us: int
    bars: int
    gold_snapshot_id: int | None
    snapshot_id: int | None  # the bar table's snapshot holding exactly these bars
    attempts: int
    duration_s: float


def build_bars(engine: QueryEngine, interval: str, start_us: int, end_us: int) -> BuildOutcome:
    """Recompute [start, end) from gold's current snapshot and replace that range of ohlcv_<interval>."""
    started = time.monotonic()
    name = bar_table_name(interval)
    for attempt in range(1, BUILD_ATTEMPTS + 1):
        bars, gold_snapshot_id = compute_bars(engine, interval, start_us, end_us)
        table = engine.pin(name, fresh=True).table
        properties = {GOLD_SNAPSHOT_PROPERTY: str(gold_snapshot_id), RANGE_PROPERTY: f"{start_us},{end_us}"}
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Delete operation did not match any records")  # a first build: nothing to replace
                # The bar tables refuse pyiceberg's silent rebase (commit.retry.num-retries=0): a delete computed
                # against an old head must be recomputed, so a lost race re-plans and rewrites the range here.
                table.overwrite(
                    bars.select(table.schema().as_arrow().names).cast(table.schema().as_arrow()),
                    overwrite_filter=time_range("open_time", start_us, end_us),
                    snapshot_properties=properties,
                )
        except CommitFailedException:
            continue
        return BuildOutcome(
            interval,
            start_us,
            end_us,
            bars.num_rows,
            gold_snapshot_id,
            table.current_snapshot().snapshot_id,
            attempt,
            round(time.monotonic() - started, 3),
        )
    raise CommitFailedException(f"{name}: [{start_us}, {end_us}) lost {BUILD_ATTEMPTS} commits in a row to concurrent writers")
