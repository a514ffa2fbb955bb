"""Kafka positions as K2 records them in Iceberg snapshot summaries (DESIGN section 2).

An OffsetMap is {topic: {partition: next offset}}. A table's `k2.offsets` is cumulative: the full
map as of that snapshot. An OffsetRange is the [start, end) a run is asked to consume.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.table import Table
from pyiceberg.table.snapshots import ancestors_of

OFFSETS_KEY = "k2.offsets"
KAFKA_OFFSETS_KEY = "k2.kafka_offsets"

OffsetMap = dict[str, dict[int, int]]
TopicPartition = tuple[str, int]


def to_json(offsets: OffsetMap) -> str:
    return json.dumps({t: {str(p): o for p, o in sorted(ps.items())} for t, ps in sorted(offsets.items())}, separators=(",", ":"))


def from_json(text: str | None) -> OffsetMap:
    if not text:
        return {}
    return {t: {int(p): int(o) for p, o in ps.items()} for t, ps in json.loads(text).items()}


def committed(table: Table, key: str = OFFSETS_KEY) -> OffsetMap:
    """The offsets the table's current snapshot reflects (empty if none recorded yet)."""
    return recorded_as_of(table, table.current_snapshot(), key)


def recorded_as_of(table: Table, snapshot, key: str = OFFSETS_KEY) -> OffsetMap:
    """The offsets of the newest snapshot in `snapshot`'s lineage that records them.

    Commits that consume no Kafka data (compaction, a hand-run repair append, expiry rewrites)
    carry no offsets; they must not read as "nothing consumed yet", which would re-drain from the
    start and duplicate every row.
    """
    recording = recording_snapshot(table, snapshot, key)
    return from_json(recording.summary.additional_properties[key]) if recording else {}


def recording_snapshot(table: Table, snapshot, key: str = OFFSETS_KEY):
    """The newest snapshot in `snapshot`'s lineage whose summary records `key` (None if none does)."""
    for ancestor in ancestors_of(snapshot, table.metadata) if snapshot else ():
        if ancestor.summary and key in ancestor.summary.additional_properties:
            return ancestor
    return None


def carried_offsets(table: Table) -> dict[str, str]:
    """The current offsets as summary properties, for a commit that consumes nothing (compaction) to record
    them itself: then no lookup depends on older snapshots, which expiry may remove."""
    out = {}
    for key in (OFFSETS_KEY, KAFKA_OFFSETS_KEY):
        recording = recording_snapshot(table, table.current_snapshot(), key)
        if recording is not None:
            out[key] = recording.summary.additional_properties[key]
    return out


def merged(base: OffsetMap, update: dict[TopicPartition, int]) -> OffsetMap:
    out = {t: dict(ps) for t, ps in base.items()}
    for (topic, partition), offset in update.items():
        out.setdefault(topic, {})[partition] = offset
    return out


def flatten(offsets: OffsetMap) -> dict[TopicPartition, int]:
    return {(t, p): o for t, ps in offsets.items() for p, o in ps.items()}


class RangeGap(RuntimeError):
    """The table is behind the start of the range: committing would skip records."""


@dataclass(frozen=True)
class OffsetRange:
    start: dict[TopicPartition, int]
    end: dict[TopicPartition, int]

    @classmethod
    def between(cls, start: dict[TopicPartition, int], end: dict[TopicPartition, int]) -> OffsetRange:
        """Only the partitions where end > start; absent starts are taken as already given."""
        return cls(
            start={tp: start[tp] for tp in sorted(end) if end[tp] > start[tp]},
            end={tp: end[tp] for tp in sorted(end) if end[tp] > start[tp]},
        )

    @property
    def size(self) -> int:
        return sum(self.end[tp] - self.start[tp] for tp in self.end)

    def __bool__(self) -> bool:
        return self.size > 0

    def capped(self, max_records: int) -> OffsetRange:
        """The first max_records of the range, shared fairly so no partition starves."""
        remaining = dict(self.start)
        budget = max_records
        open_tps = [tp for tp in self.end if self.end[tp] > self.start[tp]]
        while budget > 0 and open_tps:
            share = max(budget // len(open_tps), 1)
            for tp in list(open_tps):
                take = min(share, self.end[tp] - remaining[tp], budget)
                remaining[tp] += take
                budget -= take
                if remaining[tp] == self.end[tp]:
                    open_tps.remove(tp)
                if budget == 0:
                    break
        return OffsetRange.between(self.start, remaining)

    def only(self, topics) -> OffsetRange:
        keep = set(topics)
        return OffsetRange({tp: o for tp, o in self.start.items() if tp[0] in keep}, {tp: o for tp, o in self.end.items() if tp[0] in keep})

    def pending(self, table_offsets: OffsetMap) -> dict[TopicPartition, tuple[int, int]]:
        """Per partition, the part of the range the table does not hold yet.

        A partition the table never recorded is taken to be at the range start. A table behind
        the start is a gap (the run did not read what lies between): refuse rather than skip.
        """
        flat = flatten(table_offsets)
        todo = {}
        for tp, end in self.end.items():
            at = flat.get(tp, self.start[tp])
            if at < self.start[tp]:
                raise RangeGap(f"{tp[0]}[{tp[1]}] is at offset {at}, before this run's start {self.start[tp]}")
            if at < end:
                todo[tp] = (at, end)
        return todo

    def to_config(self) -> dict:
        return {"start": to_json(_nest(self.start)), "end": to_json(_nest(self.end))}

    @classmethod
    def from_config(cls, config: dict) -> OffsetRange:
        return cls(flatten(from_json(config["start"])), flatten(from_json(config["end"])))

    def run_key(self, name: str) -> str:
        parts = ",".join(f"{t}[{p}]:{self.start[(t, p)]}-{e}" for (t, p), e in self.end.items())
        return f"{name}:{parts}"


def _nest(flat: dict[TopicPartition, int]) -> OffsetMap:
    return merged({}, flat)


def select_positions(rows: pa.Table, todo: dict[TopicPartition, tuple[int, int]], topic_col: str, partition_col: str, offset_col: str) -> pa.Table:
    """The rows whose (topic, partition, offset) fall in the pending windows."""
    if rows.num_rows == 0:
        return rows
    mask = None
    for (topic, partition), (lo, hi) in todo.items():
        m = pc.and_(
            pc.and_(pc.equal(rows[topic_col], topic), pc.equal(rows[partition_col], partition)),
            pc.and_(pc.greater_equal(rows[offset_col], lo), pc.less(rows[offset_col], hi)),
        )
        mask = m if mask is None else pc.or_(mask, m)
    if mask is None:
        return rows.slice(0, 0)
    return rows if pc.all(mask).as_py() else rows.filter(mask)  # the usual case: no copy of the whole batch
