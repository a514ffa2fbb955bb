"""Compare-and-set Iceberg appends that carry the Kafka positions they consumed (DESIGN section 2).

One append per commit; its snapshot summary holds the table's new cumulative `k2.offsets`. The
append is made against the snapshot we read the offsets from, and offset-carrying tables have
`commit.retry.num-retries=0`, so pyiceberg raises CommitFailedException instead of rebasing when
anyone else committed meanwhile. We then refresh and recompute: rows the table got meanwhile are
not written again, and a range the table already holds writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table

from ..settings import Settings
from .data_files import append_rows
from .faults import kill_if_armed
from .offsets import KAFKA_OFFSETS_KEY, OFFSETS_KEY, OffsetMap, OffsetRange, TopicPartition, committed, merged, to_json

RowsFor = Callable[[Table, dict[TopicPartition, tuple[int, int]]], pa.Table]
# guard(table, pending, rows): inspects the exact rows about to be written; raising stops the write.
Guard = Callable[[Table, dict[TopicPartition, tuple[int, int]], pa.Table], None]


class CommitContention(RuntimeError):
    """Other writers kept moving the table head for every attempt we were allowed."""


@dataclass
class CommitOutcome:
    table: str
    committed: bool
    rows: int = 0
    snapshot_id: int | None = None
    offsets_before: OffsetMap = field(default_factory=dict)
    offsets_after: OffsetMap = field(default_factory=dict)
    attempts: int = 0
    bytes_written: int = 0
    note: str = ""
    commit_s: float = 0.0  # the catalog commit alone (Prometheus k2_drain_commit_seconds)


def commit_range(
    table: Table,
    rng: OffsetRange,
    rows_for: RowsFor,
    *,
    attempts: int,
    kafka_positions: bool = False,
    fault_point: str | None = None,
    guard: Guard | None = None,
) -> CommitOutcome:
    """Append rows_for(table, pending) iff the table still lacks them; at most once per offset.

    kafka_positions: the table's offsets are Kafka positions fully reflected in it, so they are
    also published as `k2.kafka_offsets` for the query layer's hybrid read.
    """
    name = ".".join(table.name())
    for attempt in range(1, attempts + 1):
        table.refresh()
        before = committed(table)
        todo = rng.pending(before)
        if not todo:
            return CommitOutcome(
                name,
                False,
                offsets_before=before,
                offsets_after=before,
                attempts=attempt,
                note="range already committed by another run: nothing written",
            )
        rows = rows_for(table, todo)
        if guard is not None:
            guard(table, todo, rows)
        after = merged(before, {tp: hi for tp, (_lo, hi) in todo.items()})
        summary = {OFFSETS_KEY: to_json(after)}
        if kafka_positions:
            summary[KAFKA_OFFSETS_KEY] = summary[OFFSETS_KEY]
        kill_if_armed(fault_point, "before_write")
        tx = table.transaction()
        append_rows(tx, rows, summary)
        kill_if_armed(fault_point, "after_write")  # data files exist, the snapshot is not committed
        commit_started = time.perf_counter()
        try:
            tx.commit_transaction()
        except CommitFailedException:
            time.sleep(min(0.05 * attempt, 0.5))  # another writer won the head: re-read and re-decide
            continue
        kill_if_armed(fault_point, "after_commit")
        snapshot = table.current_snapshot()
        props = snapshot.summary.additional_properties if snapshot and snapshot.summary else {}
        return CommitOutcome(
            name,
            True,
            rows.num_rows,
            snapshot.snapshot_id if snapshot else None,
            before,
            after,
            attempt,
            int(props.get("added-files-size", 0)),
            commit_s=time.perf_counter() - commit_started,
        )
    raise CommitContention(f"{name}: head moved on each of {attempts} commit attempts; retry the run")


def commit_step(
    settings: Settings,
    table: Table,
    rng: OffsetRange,
    prepare: Callable[[Table], RowsFor],
    *,
    kafka_positions: bool = False,
    guard: Guard | None = None,
) -> CommitOutcome:
    """One drain step into one table: skip without reading anything if the table already holds the
    range, else prepare(table) reads the input once and commit_range writes what is still pending."""
    name = ".".join(table.name())
    before = committed(table)
    if not rng.pending(before):
        return CommitOutcome(
            name, False, offsets_before=before, offsets_after=before, note=f"range already in {table.name()[-1]}: nothing read or written"
        )
    return commit_range(
        table,
        rng,
        prepare(table),
        attempts=settings.lakehouse.commit_attempts,
        kafka_positions=kafka_positions,
        fault_point=settings.lakehouse.fault_kill_point,
        guard=guard,
    )
