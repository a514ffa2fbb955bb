"""Rolling-window statistics per symbol from gold_trades (the /v1/summary 24h view).

A data file never changes, so the statistics of a file lying wholly inside the window (by its exact
trade_time bounds) are computed once and kept; only the files crossing the window's edges are read
per request, with the exact bounds. Partial statistics combine exactly: counts and sums add (in
80-digit decimal arithmetic, never rounded), extremes compare, open/close are the first/last trade
in the trade order (trade_order.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from decimal import Context, Decimal

from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

from .engine import QueryEngine
from .planner import PlannedFile
from .recent_window import file_key
from .rows import arrow_rows
from .snapshots import PinnedTable
from .trade_order import TRADE_ORDER
from .trades import GOLD, HOUR_US, ts

_KEY = "{" + ", ".join(f"'{c}': {c}" for c in TRADE_ORDER) + "}"  # a row's place in the trade order
# Per symbol, over `{source}` within [start, end): what combines across files.
_SQL = f"""
SELECT symbol, count(*) AS trade_count, sum(quantity) AS volume, sum(quote_quantity) AS quote_volume,
       min(price) AS low, max(price) AS high,
       arg_min(price, {_KEY}) AS open, min({_KEY}) AS open_key,
       arg_max(price, {_KEY}) AS close, max({_KEY}) AS close_key,
       min(trade_time) AS first_trade_time, max(trade_time) AS last_trade_time
FROM {{source}} WHERE trade_time >= $start AND trade_time < $end
GROUP BY symbol
"""
TIME_COLUMNS = frozenset({"first_trade_time", "last_trade_time"})
_WIDE = Context(prec=80)
VWAP_QUANTUM = Decimal(1).scaleb(-18)


def vwap(quote_volume: Decimal, volume: Decimal) -> Decimal:
    """Volume-weighted average price at the storage scale (18 places, half-even): a ratio has no exact finite form."""
    return _WIDE.divide(quote_volume, volume).quantize(VWAP_QUANTUM, context=_WIDE)


def _combine(into: dict, part: dict) -> None:
    into["trade_count"] += part["trade_count"]
    into["volume"] = _WIDE.add(into["volume"], part["volume"])
    into["quote_volume"] = _WIDE.add(into["quote_volume"], part["quote_volume"])
    into["low"], into["high"] = min(into["low"], part["low"]), max(into["high"], part["high"])
    if _key(part["open_key"]) < _key(into["open_key"]):
        into.update(open=part["open"], open_key=part["open_key"], first_trade_time=part["first_trade_time"])
    if _key(part["close_key"]) > _key(into["close_key"]):
        into.update(close=part["close"], close_key=part["close_key"], last_trade_time=part["last_trade_time"])


def _key(struct: dict) -> tuple:
    return tuple(struct[c] for c in TRADE_ORDER)


class FileStats:
    """Per-file statistics of the files wholly inside some window, LRU-bounded."""

    def __init__(self, entries: int):
        self.entries = entries
        self._stats: OrderedDict[tuple, list[dict]] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, engine: QueryEngine, pinned: PinnedTable, f: PlannedFile) -> list[dict]:
        key = file_key(f)
        with self._lock:
            if key in self._stats:
                self._stats.move_to_end(key)
                return self._stats[key]
        # The file's own bounds as the window: every row of it counts.
        stats = _partials(engine, pinned, [f], f.lower["trade_time"], f.upper["trade_time"] + 1)
        with self._lock:
            self._stats[key] = stats
            while len(self._stats) > self.entries:
                self._stats.popitem(last=False)
        return stats


def _partials(engine: QueryEngine, pinned: PinnedTable, files: list[PlannedFile], start_us: int, end_us: int) -> list[dict]:
    return arrow_rows(engine.run(pinned, files, _SQL, {"start": ts(start_us), "end": ts(end_us)})) if files else []


def _inside(f: PlannedFile, start_us: int, end_us: int) -> bool:
    low, high = f.lower.get("trade_time"), f.upper.get("trade_time")
    return low is not None and high is not None and start_us <= low and high < end_us


def summary(engine: QueryEngine, stats: FileStats, end_us: int, window_h: int) -> list[dict]:
    start_us = end_us - window_h * HOUR_US
    pinned = engine.pin(GOLD)
    row_filter = And(GreaterThanOrEqual("trade_time", start_us // HOUR_US * HOUR_US), LessThan("trade_time", -(-end_us // HOUR_US) * HOUR_US))
    files = engine.plan(pinned, row_filter).files
    parts = [p for f in files if _inside(f, start_us, end_us) for p in stats.of(engine, pinned, f)]
    parts += _partials(engine, pinned, [f for f in files if not _inside(f, start_us, end_us)], start_us, end_us)
    by_symbol: dict[str, dict] = {}
    for part in parts:
        if part["symbol"] in by_symbol:
            _combine(by_symbol[part["symbol"]], part)
        else:
            by_symbol[part["symbol"]] = dict(part)
    rows = [by_symbol[s] for s in sorted(by_symbol)]
    for row in rows:
        del row["open_key"], row["close_key"]
        row["vwap"] = vwap(row["quote_volume"], row["volume"])
    return rows
