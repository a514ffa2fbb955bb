"""The newest hours of gold_trades in memory, per snapshot: "last N trades of a symbol" is a slice.

The window holds every row of one snapshot with trade_time >= a cutoff (hour-aligned, `hours` back
from the newest file's upper bound), per symbol sorted in the trade order (trade_order.py), already rendered
as JSON. A row outside is older than every row inside, so when a symbol has N rows inside, its last N
are the exact answer; otherwise the caller reads files. A snapshot that only added data files (what
gold's drains commit) is absorbed by reading just those files; any other change rebuilds the window.
Only one thread builds at a time; meanwhile the others read files instead of waiting.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import AlwaysTrue, GreaterThanOrEqual

from .planner import PlannedFile
from .render import JSON_COLUMN, TIME_US_COLUMN, json_select
from .rows import EPOCH
from .snapshots import PinnedTable
from .trade_order import TRADE_ORDER, sort_keys

HOUR_US = 3_600_000_000
ORDER = [("symbol", "ascending"), *sort_keys(TIME_US_COLUMN)]


def file_key(f: PlannedFile) -> tuple[str, tuple[str, ...]]:
    """A data file's identity with its deletes: files are immutable, deletes may be added later."""
    return f.task.file.file_path, tuple(sorted(d.file_path for d in f.task.delete_files))


@dataclass(frozen=True)
class Window:
    snapshot_id: int
    order: tuple[int, int]  # (sequence number, commit ms): which of two snapshots is newer
    cutoff_us: int
    files: frozenset[tuple[str, tuple[str, ...]]]
    symbols: dict[str, pa.Table]  # each sorted in the trade order

    def last(self, symbol: str, exchange: str | None, limit: int) -> pa.Table | None:
        """The newest `limit` rows of the symbol, newest first; None when the window holds fewer."""
        rows = self.symbols.get(symbol)
        if rows is not None and exchange is not None:
            rows = rows.filter(pc.equal(rows["exchange"], exchange))
        if rows is None or rows.num_rows < limit:
            return None
        return rows.slice(rows.num_rows - limit, limit).take(pa.array(range(limit - 1, -1, -1), pa.int64()))


def _order(pinned: PinnedTable) -> tuple[int, int]:
    return pinned.snapshot.sequence_number or 0, pinned.snapshot.timestamp_ms


def _by_symbol(rows: pa.Table) -> dict[str, pa.Table]:
    """Rows sorted by symbol first, cut into one zero-copy slice per symbol."""
    runs = pc.run_end_encode(rows["symbol"].combine_chunks())
    ends = runs.run_ends.to_pylist()
    return {symbol: rows.slice(first, end - first) for symbol, first, end in zip(runs.values.to_pylist(), [0] + ends[:-1], ends)}


def _since(rows: pa.Table, cutoff: int) -> pa.Table:
    first = int(np.searchsorted(rows[TIME_US_COLUMN].to_numpy(), cutoff, side="left"))
    return rows.slice(first)


def _merged(held: pa.Table | None, added: pa.Table | None) -> pa.Table:
    if held is None or held.num_rows == 0:
        return added
    if added is None:
        return held
    rows = pa.concat_tables([held, added])

    def key(rows: pa.Table, i: int) -> tuple:
        return tuple(rows[c][i].as_py() for c, _ in ORDER[1:])

    if key(held, -1) < key(added, 0):
        return rows  # the usual case: new files hold newer trades
    return rows.sort_by(ORDER[1:])


class RecentWindow:
    def __init__(self, hours: int):
        self.hours = hours
        self._window: Window | None = None
        self._building = threading.Lock()
        self.builds = self.increments = 0

    def get(self, engine, pinned: PinnedTable, columns: tuple[str, ...]) -> Window | None:
        """The window of `pinned`, built or advanced to it if need be; None when it cannot serve it."""
        window = self._window
        if window is not None and window.snapshot_id == pinned.snapshot_id:
            return window
        if self.hours <= 0 or pinned.snapshot is None or (window is not None and _order(pinned) < window.order):
            return None  # disabled, empty table, or an older snapshot than the one held
        if not self._building.acquire(blocking=False):
            return None
        try:
            window = self._window
            if window is None or window.snapshot_id != pinned.snapshot_id:
                window = self._advance(engine, pinned, window, columns)
                if window is not None:
                    self._window = window
            return window
        finally:
            self._building.release()

    def _advance(self, engine, pinned: PinnedTable, held: Window | None, columns: tuple[str, ...]) -> Window | None:
        # Every file that may hold rows at or after the held cutoff: those in the window, plus new ones.
        plan = engine.plan(pinned, GreaterThanOrEqual("trade_time", held.cutoff_us) if held else AlwaysTrue())
        uppers = [f.upper.get("trade_time") for f in plan.files]
        if not plan.files or None in uppers:
            return None  # nothing to hold, or files without stats: the cutoff cannot be proven
        cutoff = max(uppers) // HOUR_US * HOUR_US - (self.hours - 1) * HOUR_US
        cutoff = max(cutoff, held.cutoff_us) if held else cutoff
        keep = {file_key(f): f for f, upper in zip(plan.files, uppers) if upper >= cutoff}
        if held is not None and held.files <= {file_key(f) for f in plan.files}:
            added = self._read(engine, pinned, [f for k, f in keep.items() if k not in held.files], cutoff, columns)
            added = _by_symbol(added) if added is not None else {}
            symbols = {
                s: _merged(_since(held.symbols[s], cutoff) if s in held.symbols else None, added.get(s))
                for s in sorted(set(held.symbols) | set(added))
            }
            self.increments += 1
        else:
            rows = self._read(engine, pinned, list(keep.values()), cutoff, columns)
            symbols = _by_symbol(rows) if rows is not None else {}
            self.builds += 1
        return Window(pinned.snapshot_id, _order(pinned), cutoff, frozenset(keep), symbols)

    @staticmethod
    def _read(engine, pinned: PinnedTable, files: list[PlannedFile], cutoff: int, columns: tuple[str, ...]) -> pa.Table | None:
        if not files:
            return None
        schema = pinned.table.schema().as_arrow()
        names = ", ".join(f'"{c}"' for c in columns)
        sql = (
            f"SELECT {names}, {json_select(schema, columns)} AS {JSON_COLUMN}, epoch_us(trade_time) AS {TIME_US_COLUMN} "
            f"FROM {{source}} WHERE trade_time >= $cutoff ORDER BY symbol, {', '.join(TRADE_ORDER)}"
        )
        return engine.run(pinned, files, sql, {"cutoff": EPOCH + timedelta(microseconds=cutoff)})
