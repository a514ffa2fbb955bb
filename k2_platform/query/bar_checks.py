"""Checks on the bars of one build (the range just written), against the gold snapshot they were built from."""

from __future__ import annotations

from ..lakehouse.quality import SAMPLE, RuleResult
from ..lakehouse.table_specs import OHLCV_INTERVALS
from .bar_build import GOLD, BuildOutcome, bar_table_name, time_range
from .engine import QueryEngine
from .trades import ts

_RANGE = "open_time >= $start AND open_time < $end"
_OUT_OF_RANGE = f"""
SELECT exchange, symbol, CAST(open_time AS VARCHAR) AS open_time, open, high, low, close FROM {{source}}
WHERE {_RANGE} AND NOT (low <= open AND open <= high AND low <= close AND close <= high)
ORDER BY open_time, exchange, symbol
"""
_BAR_SUMS = f"""
SELECT count(*) AS bars, count(DISTINCT (exchange, symbol, open_time)) AS keys, coalesce(sum(volume), 0) AS volume,
       coalesce(sum(quote_volume), 0) AS quote_volume, coalesce(sum(trade_count), 0) AS trade_count
FROM {{source}} WHERE {_RANGE}
"""
_GOLD_SUMS = """
SELECT count(DISTINCT (exchange, symbol, epoch_us(trade_time) // $width)) AS bars, coalesce(sum(quantity), 0) AS volume,
       coalesce(sum(quote_quantity), 0) AS quote_volume, count(*) AS trade_count
FROM {source} WHERE trade_time >= $start AND trade_time < $end
"""


def _bar_query(engine: QueryEngine, outcome: BuildOutcome, sql: str):
    pinned = engine.pin(bar_table_name(outcome.interval), outcome.snapshot_id)
    files = engine.plan(pinned, time_range("open_time", outcome.start_us, outcome.end_us)).files
    return engine.run(pinned, files, sql, {"start": ts(outcome.start_us), "end": ts(outcome.end_us)})


def bars_within_high_low(engine: QueryEngine, outcome: BuildOutcome) -> RuleResult:
    """low <= open, close <= high on every bar of the range."""
    bad = _bar_query(engine, outcome, _OUT_OF_RANGE)
    return RuleResult(
        bad.num_rows == 0,
        {
            "bars_checked": outcome.bars,
            "bars_out_of_range": bad.num_rows,
            "sample": [{k: str(v) for k, v in r.items()} for r in bad.slice(0, SAMPLE).to_pylist()],
        },
    )


def bars_reconcile_with_gold(engine: QueryEngine, outcome: BuildOutcome) -> RuleResult:
    """Exact: volume, quote volume and trade count sum to gold's over the same range (same gold snapshot), and
    there is one bar per distinct (exchange, symbol, window) with trades, none twice."""
    bars = _bar_query(engine, outcome, _BAR_SUMS).to_pylist()[0]
    pinned = engine.pin(GOLD, outcome.gold_snapshot_id)
    files = engine.plan(pinned, time_range("trade_time", outcome.start_us, outcome.end_us)).files
    gold = engine.run(
        pinned, files, _GOLD_SUMS, {"start": ts(outcome.start_us), "end": ts(outcome.end_us), "width": OHLCV_INTERVALS[outcome.interval][0]}
    ).to_pylist()[0]
    differences = {k: {"bars": str(bars[k]), "gold": str(gold[k])} for k in ("bars", "volume", "quote_volume", "trade_count") if bars[k] != gold[k]}
    duplicates = bars["bars"] - bars["keys"]
    return RuleResult(
        not differences and duplicates == 0,
        {
            "bars": bars["bars"],
            "gold_windows_with_trades": gold["bars"],
            "duplicate_bars": duplicates,
            "volume": str(bars["volume"]),
            "quote_volume": str(bars["quote_volume"]),
            "trade_count": int(bars["trade_count"]),
            "gold_snapshot_id": str(outcome.gold_snapshot_id),
            "differences": differences,
        },
    )
