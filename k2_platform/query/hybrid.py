"""Recent trades, exact up to now: gold's rows plus the Kafka tail strictly after gold's offsets.

Rows and `k2.kafka_offsets` come from ONE pinned gold snapshot, so while drains commit concurrently
the boundary has no gap (every record before the offsets is in those rows) and no duplicate (the
tail starts at the offsets; a trade redelivered by the exchange is merged by message_id, gold's
copy first, then the tail's first in partition and offset order).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from .engine import QueryEngine
from .render import JSON_COLUMN, TIME_US_COLUMN
from .rows import arrow_rows
from .tail_buffer import TailSlice
from .tail_reader import TailReader, TailUnavailable
from .trade_order import sort_keys
from .trades import GOLD, TRADE_COLUMNS, TradeFilter, newest_trades

_PINS = 3  # a read whose snapshot's tail was evicted meanwhile re-pins the newer snapshot


@dataclass(frozen=True)
class HybridTrades:
    table: pa.Table  # newest first: TRADE_COLUMNS plus the rows' JSON text and time in µs
    snapshot_id: int | None
    kafka_offsets: dict[str, dict[int, int]]  # gold's: the tail starts here
    kafka_end_offsets: dict[str, dict[int, int]]  # the tail ends here: the answer holds every trade below
    tail_records: int  # Kafka records read after gold's offsets (all symbols)

    @property
    def rows(self) -> list[dict]:
        """As dicts: times in µs, exact Decimals."""
        return arrow_rows(self.table.select(list(TRADE_COLUMNS)))

    @property
    def json_rows(self) -> list[str]:
        return self.table[JSON_COLUMN].to_pylist()


def _first_copies(rows: pa.Table) -> pa.Table:
    """Rows with each message_id once (gold should never hold a trade twice; if it does, one copy is answered)."""
    ids = rows["message_id"].to_pylist()
    if len(set(ids)) == len(ids):
        return rows
    first = {}
    for i, message_id in enumerate(ids):
        first.setdefault(message_id, i)
    return rows.take(pa.array(sorted(first.values()), pa.int64()))


def _tail_of(tail: TailSlice, flt: TradeFilter, gold_ids: set[str]) -> pa.Table | None:
    """The tail's trades of the filter, first copy of each trade gold does not hold."""
    parts = []
    for rows in tail.rows:
        match = pc.equal(rows["symbol"], flt.symbol)
        if flt.exchange is not None:
            match = pc.and_(match, pc.equal(rows["exchange"], flt.exchange))
        parts.append(rows.filter(match))
    if not parts or not sum(p.num_rows for p in parts):
        return None
    rows = pa.concat_tables(parts)
    seen, keep = set(gold_ids), []
    for i, message_id in enumerate(rows["message_id"].to_pylist()):
        if message_id not in seen:
            seen.add(message_id)
            keep.append(i)
    return rows.take(pa.array(keep, pa.int64())).drop_columns(["partition", "offset"]) if keep else None


def recent_trades(engine: QueryEngine, reader: TailReader, flt: TradeFilter, limit: int) -> HybridTrades:
    for attempt in range(_PINS):
        gold = engine.pin(GOLD, fresh=attempt > 0)
        offsets = gold.kafka_offsets()
        ticket = reader.ticket()  # after pinning: the tail then reaches at least as far as gold's offsets
        rows = newest_trades(engine, gold, flt, limit)  # while the round runs
        reader.wait(ticket)
        tail = reader.buffer.take(offsets)
        if tail is not None:
            break
    else:
        raise TailUnavailable(
            f"the Kafka tail after gold's offsets is longer than the "
            f"{reader.buffer.max_records:,} records the API holds: gold is too far behind Kafka"
        )
    reader.buffer.evict_below(offsets)
    rows = _first_copies(rows)
    extra = _tail_of(tail, flt, set(rows["message_id"].to_pylist()))
    if extra is not None:
        rows = pa.concat_tables([rows, extra.select(rows.column_names).cast(rows.schema)])
        rows = rows.sort_by(sort_keys(TIME_US_COLUMN, descending=True)).slice(0, limit)
    return HybridTrades(rows, gold.snapshot_id, offsets, tail.end_offsets, tail.records)
