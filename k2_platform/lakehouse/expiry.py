"""Snapshot expiry and orphan-file cleanup.

Expiry removes snapshots older than the configured age, never the current one, the newest few, or the
snapshot each offsets lookup reads (offsets.recording_snapshot): if only consuming commits recorded
offsets and a compaction sat on top, expiring them would make the table read as "nothing consumed" and
the next drain would take everything again. (Compaction also carries the offsets forward; this keeps the
lookup safe whatever other commit sits on top.) The commit is a metadata update applied by the catalog
to its current metadata, so concurrent drains' new snapshots are kept. The files only the expired
snapshots referenced are then deleted.

Orphans are files under the table's location that no snapshot or metadata file references: leftovers of
failed commits or crashed writers. Only files older than `orphan_min_age_s` are deleted: a drain writes
its data files before its commit, so a young unreferenced file may be about to be committed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table

from ..settings import MaintenanceSettings
from .offsets import KAFKA_OFFSETS_KEY, OFFSETS_KEY, recording_snapshot
from .table_files import metadata_paths, referenced_paths, stored_files, table_fs


@dataclass
class ExpiryOutcome:
    snapshots_expired: int = 0
    files_deleted: int = 0
    attempts: int = 0


@dataclass
class OrphanOutcome:
    files_deleted: int = 0
    bytes_deleted: int = 0


def kept_snapshots(table: Table, settings: MaintenanceSettings) -> set[int]:
    meta, current = table.metadata, table.current_snapshot()
    newest = sorted(meta.snapshots, key=lambda s: (s.sequence_number or 0, s.timestamp_ms), reverse=True)
    keep = {s.snapshot_id for s in newest[: settings.min_snapshots_to_keep]}
    keep |= {ref.snapshot_id for ref in meta.refs.values()}  # branch heads and tags
    for key in (OFFSETS_KEY, KAFKA_OFFSETS_KEY):
        recording = recording_snapshot(table, current, key)
        if recording is not None:
            keep.add(recording.snapshot_id)
    return keep


def expirable(table: Table, settings: MaintenanceSettings, now_ms: int) -> list[int]:
    cutoff = now_ms - settings.snapshot_max_age_s * 1000
    keep = kept_snapshots(table, settings)
    return [s.snapshot_id for s in table.metadata.snapshots if s.timestamp_ms < cutoff and s.snapshot_id not in keep]


def expire(table: Table, settings: MaintenanceSettings, attempts: int, now_ms: int | None = None) -> ExpiryOutcome:
    outcome = ExpiryOutcome()
    for attempt in range(1, attempts + 1):
        outcome.attempts = attempt
        table.refresh()
        ids = expirable(table, settings, now_ms if now_ms is not None else int(time.time() * 1000))
        if not ids:
            return outcome
        doomed = referenced_paths(table, [table.snapshot_by_id(i) for i in ids])
        try:
            table.maintenance.expire_snapshots().by_ids(ids).commit()
        except CommitFailedException:  # the catalog's head moved between its read and its write: re-plan
            time.sleep(min(0.05 * attempt, 0.5))
            continue
        table.refresh()
        unreferenced = doomed - referenced_paths(table, table.metadata.snapshots) - metadata_paths(table)
        fs, _root = table_fs(table)
        for path in sorted(unreferenced):
            fs.delete_file(path)
        outcome.snapshots_expired, outcome.files_deleted = len(ids), len(unreferenced)
        return outcome
    raise RuntimeError(f"{'.'.join(table.name())}: snapshot expiry conflicted on each of {attempts} attempts")


def remove_orphans(table: Table, settings: MaintenanceSettings, now_s: float | None = None) -> OrphanOutcome:
    table.refresh()
    keep = referenced_paths(table, table.metadata.snapshots) | metadata_paths(table)
    oldest_ns = int(((now_s if now_s is not None else time.time()) - settings.orphan_min_age_s) * 1e9)
    fs, _root = table_fs(table)
    outcome = OrphanOutcome()
    for info in stored_files(table):
        if info.path not in keep and info.mtime_ns is not None and info.mtime_ns < oldest_ns:
            fs.delete_file(info.path)
            outcome.files_deleted += 1
            outcome.bytes_deleted += info.size
    return outcome
