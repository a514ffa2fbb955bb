"""Compaction: the small data files of a partition rewritten as one, committed as a replace of the same rows.

pyiceberg 0.12 has no rewrite-data-files action, so it is built from its parts: read the partition's small
files (pyiceberg's ArrowScan), sort them by the table's sort order, write them with pyiceberg's writer,
and commit one overwrite snapshot that deletes exactly those files and adds the new ones. The commit is
made against the snapshot that was read; offset-carrying tables refuse a stale commit
(`commit.retry.num-retries=0`), so a drain that committed meanwhile makes it fail, and it is retried on
the new head: files already written are reused while their inputs are still live, so no row is lost or
written twice. The snapshot carries the table's current offsets forward (offsets.carried_offsets) and
`k2.maintenance=compaction`, so readers of new snapshots can tell it adds no data.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import ArrowScan, bin_pack_arrow_table, write_file
from pyiceberg.manifest import DataFile
from pyiceberg.partitioning import PartitionFieldValue, PartitionKey
from pyiceberg.table import FileScanTask, Table, TableProperties, WriteTask
from pyiceberg.utils.properties import property_as_int

from ..settings import MaintenanceSettings
from .offsets import carried_offsets
from .table_files import live_files

MAINTENANCE_KEY = "k2.maintenance"
Group = tuple[DataFile, ...]  # small files of one partition, merged into one


class CompactionContention(RuntimeError):
    """Other writers moved the table head on every attempt."""


@dataclass
class CompactionOutcome:
    table: str
    partitions: int = 0
    files_removed: int = 0
    files_added: int = 0
    rows: int = 0
    attempts: int = 0
    conflicts: int = 0
    snapshot_id: int | None = None


def plan(table: Table, small_file_bytes: int, min_files: int) -> list[Group]:
    """Per partition, its small data files when there are at least `min_files`; partitions with delete files
    are left alone (their rows are not the files' rows)."""
    data, deletes = live_files(table)
    with_deletes = {(f.spec_id, tuple(f.partition)) for f in deletes}
    groups: dict[tuple, list[DataFile]] = defaultdict(list)
    for f in data:
        key = (f.spec_id, tuple(f.partition))
        if f.file_size_in_bytes < small_file_bytes and key not in with_deletes:
            groups[key].append(f)
    return [tuple(sorted(g, key=lambda f: f.file_path)) for _k, g in sorted(groups.items(), key=lambda kv: str(kv[0])) if len(g) >= min_files]


def _sorted(table: Table, rows: pa.Table) -> pa.Table:
    schema = table.schema()
    keys = [(schema.find_column_name(f.source_id), "ascending" if f.direction.value == "asc" else "descending") for f in table.sort_order().fields]
    return rows.sort_by(keys) if keys else rows


def _rewrite(table: Table, group: Group) -> list[DataFile]:
    """The rows of `group` written as new data files of the same partition (one, unless beyond the target size)."""
    meta, schema = table.metadata, table.schema()
    rows = ArrowScan(meta, table.io, schema, AlwaysTrue()).to_table([FileScanTask(f) for f in group])
    expected = sum(f.record_count for f in group)
    if rows.num_rows != expected:
        raise RuntimeError(f"{table.name()}: read {rows.num_rows} rows from files that record {expected}; not compacting")
    spec = meta.specs()[group[0].spec_id]
    key = None
    if not spec.is_unpartitioned():
        key = PartitionKey([PartitionFieldValue(f, v) for f, v in zip(spec.fields, group[0].partition)], spec, schema)
    target = property_as_int(meta.properties, TableProperties.WRITE_TARGET_FILE_SIZE_BYTES, TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT)
    write_uuid = uuid.uuid4()
    tasks = [
        WriteTask(write_uuid=write_uuid, task_id=i, schema=schema, record_batches=batches, partition_key=key)
        for i, batches in enumerate(bin_pack_arrow_table(_sorted(table, rows), target))
    ]
    files = list(write_file(table.io, meta, iter(tasks)))
    if sum(f.record_count for f in files) != expected:
        raise RuntimeError(f"{table.name()}: wrote {sum(f.record_count for f in files)} rows for {expected}; not compacting")
    return files


def compact(table: Table, settings: MaintenanceSettings, attempts: int, before_commit: Callable[[Table], None] | None = None) -> CompactionOutcome:
    """Compact every partition with enough small files in one snapshot, retrying on conflicting commits.

    before_commit(table) runs after the files are written, just before each commit attempt (a drill or a
    test makes a concurrent commit land there)."""
    outcome = CompactionOutcome(".".join(table.name()))
    written: dict[frozenset[str], list[DataFile]] = {}
    used: set[frozenset[str]] = set()
    unknown = False  # a commit ended in an unexpected error: it may have landed, so nothing written is deleted
    try:
        for attempt in range(1, attempts + 1):
            outcome.attempts = attempt
            table.refresh()
            groups = plan(table, settings.small_file_bytes, settings.min_files_to_compact)
            if not groups:
                return outcome
            keys = [frozenset(f.file_path for f in g) for g in groups]
            for key, group in zip(keys, groups):
                if key not in written:  # inputs unchanged since the last attempt: its output still holds their rows
                    written[key] = _rewrite(table, group)
            if before_commit is not None:
                before_commit(table)
            tx = table.transaction()
            with tx.update_snapshot(snapshot_properties={**carried_offsets(table), MAINTENANCE_KEY: "compaction"}).overwrite() as replace:
                for key, group in zip(keys, groups):
                    for f in group:
                        replace.delete_data_file(f)
                    for f in written[key]:
                        replace.append_data_file(f)
            try:
                tx.commit_transaction()
            except (CommitFailedException, ValidationException):  # certainly not committed
                outcome.conflicts += 1
                time.sleep(min(0.05 * attempt, 0.5))
                continue
            except Exception:
                unknown = True
                raise
            used = set(keys)
            outcome.partitions = len(groups)
            outcome.files_removed = sum(len(g) for g in groups)
            outcome.files_added = sum(len(written[k]) for k in keys)
            outcome.rows = sum(f.record_count for g in groups for f in g)
            outcome.snapshot_id = table.current_snapshot().snapshot_id
            return outcome
        raise CompactionContention(f"{outcome.table}: head moved on each of {attempts} compaction attempts")
    finally:
        for key, files in written.items():  # outputs of inputs that changed meanwhile are referenced by nothing
            if key not in used and not unknown:
                for f in files:
                    table.io.delete(f.file_path)
