"""Which hours of gold_trades changed since a given snapshot, from the snapshots' own manifests.

Derived tables (the OHLCV bars) rebuild exactly the windows whose gold files changed: the hour
partitions (hour(trade_time)) of the data files that gold's newer snapshots added or removed. A late
trade lands in the file of its own hour, so it touches that hour only, however late it arrives.
Compactions (operation `replace`) change files but no row, so they touch nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyiceberg.manifest import ManifestEntryStatus
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Operation, Snapshot
from pyiceberg.transforms import HourTransform

HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class GoldChanges:
    head_snapshot_id: int | None
    head_sequence: int | None  # sequence number of the head: the next call continues after it
    hours: frozenset[int]  # hour partitions (hours since the epoch) whose data files were added or removed
    snapshots: int  # snapshots looked at


def _hour_field(table: Table, spec_id: int) -> int:
    """Index of hour(trade_time) in the partition tuple of files written with `spec_id`."""
    spec, schema = table.specs()[spec_id], table.schema()
    for i, f in enumerate(spec.fields):
        if isinstance(f.transform, HourTransform) and schema.find_column_name(f.source_id) == "trade_time":
            return i
    raise ValueError(f"{table.name()} spec {spec_id} is not partitioned by hour(trade_time): {spec}")


def _new_lineage(table: Table, after_sequence: int) -> tuple[list[Snapshot], bool]:
    """Snapshots of the current lineage newer than `after_sequence`, newest first, and whether none is missing
    (snapshot expiry may have removed some of them before they were looked at)."""
    out, snapshot = [], table.current_snapshot()
    while snapshot is not None and (snapshot.sequence_number or 0) > after_sequence:
        out.append(snapshot)
        parent = snapshot.parent_snapshot_id  # None also once the parent expired (pyiceberg drops the link)
        snapshot = table.snapshot_by_id(parent) if parent is not None else None
    # Each commit takes the next sequence number: the walk is complete when it reached the one after `after_sequence`.
    return out, snapshot is not None or not out or (out[-1].sequence_number or 0) - 1 <= after_sequence


def _hours_of_live_files_after(table: Table, after_sequence: int) -> set[int]:
    """Hours of the current files committed after `after_sequence` (what expired snapshots added and still holds)."""
    hours: set[int] = set()
    for manifest in table.current_snapshot().manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io):
            if (entry.sequence_number or 0) > after_sequence:
                hours.add(entry.data_file.partition[_hour_field(table, entry.data_file.spec_id)])
    return hours


def _touched_hours(table: Table, snapshot: Snapshot) -> set[int]:
    hours: set[int] = set()
    if snapshot.summary is not None and snapshot.summary.operation == Operation.REPLACE:
        return hours
    for manifest in snapshot.manifests(table.io):
        if manifest.added_snapshot_id != snapshot.snapshot_id:
            continue  # written by an earlier snapshot: its changes were counted there
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
            if entry.status != ManifestEntryStatus.EXISTING and entry.snapshot_id == snapshot.snapshot_id:
                hours.add(entry.data_file.partition[_hour_field(table, entry.data_file.spec_id)])
    return hours


def gold_changes(table: Table, after_sequence: int | None) -> GoldChanges:
    """Hours whose files changed in snapshots after `after_sequence`; None: every hour gold holds."""
    head = table.current_snapshot()
    if head is None:
        return GoldChanges(None, None, frozenset(), 0)
    if after_sequence is None:
        hours = {t.file.partition[_hour_field(table, t.file.spec_id)] for t in table.scan().plan_files()}
        return GoldChanges(head.snapshot_id, head.sequence_number, frozenset(hours), 1)
    lineage, complete = _new_lineage(table, after_sequence)
    hours = set().union(*(_touched_hours(table, s) for s in lineage)) if lineage else set()
    if not complete:
        hours |= _hours_of_live_files_after(table, after_sequence)
    return GoldChanges(head.snapshot_id, head.sequence_number, frozenset(hours), len(lineage))
