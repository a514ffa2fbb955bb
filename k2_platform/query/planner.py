"""File planning with pyiceberg (partition and column-stats pruning), cached per snapshot.

A snapshot never changes, so its plan for a given filter never does either: the cache key is
(table, snapshot id, filter). Callers round time bounds to partition granularity before planning so
that neighbouring requests share one plan; the exact bounds are applied in SQL.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from pyiceberg.conversions import from_bytes
from pyiceberg.expressions import BooleanExpression
from pyiceberg.table import FileScanTask
from pyiceberg.types import DateType, IntegerType, LongType, TimestampType, TimestamptzType

from .snapshots import PinnedTable

# Columns whose bounds are exact (string bounds may be truncated, so they only serve pruning).
_ORDERED_TYPES = (TimestamptzType, TimestampType, LongType, IntegerType, DateType)


@dataclass(frozen=True)
class PlannedFile:
    task: FileScanTask
    local_path: str | None  # None: not on the local filesystem (read through pyiceberg's FileIO)
    record_count: int
    lower: dict[str, Any]
    upper: dict[str, Any]

    @property
    def has_deletes(self) -> bool:
        return bool(self.task.delete_files)


@dataclass(frozen=True)
class FilePlan:
    pinned: PinnedTable
    files: tuple[PlannedFile, ...]

    @property
    def duckdb_readable(self) -> bool:
        """True when DuckDB's read_parquet gives the right answer: local files, no v2 delete files."""
        return all(f.local_path is not None and not f.has_deletes for f in self.files)


def _local_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return parsed.path
    return uri if parsed.scheme == "" else None


def _bounds(raw: dict[int, bytes] | None, columns: dict[int, tuple[str, Any]]) -> dict[str, Any]:
    return {columns[fid][0]: from_bytes(columns[fid][1], value) for fid, value in (raw or {}).items() if fid in columns}


def plan(pinned: PinnedTable, row_filter: BooleanExpression) -> FilePlan:
    if pinned.snapshot is None:
        return FilePlan(pinned, ())
    schema = pinned.table.schema()
    ordered = {f.field_id: (f.name, f.field_type) for f in schema.fields if isinstance(f.field_type, _ORDERED_TYPES)}
    tasks = pinned.table.scan(row_filter=row_filter, snapshot_id=pinned.snapshot_id).plan_files()
    return FilePlan(
        pinned,
        tuple(
            PlannedFile(
                task=t,
                local_path=_local_path(t.file.file_path),
                record_count=t.file.record_count,
                lower=_bounds(t.file.lower_bounds, ordered),
                upper=_bounds(t.file.upper_bounds, ordered),
            )
            for t in tasks
        ),
    )


class PlanCache:
    def __init__(self, entries: int):
        self.entries = entries
        self._plans: OrderedDict[tuple, FilePlan] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def plan(self, pinned: PinnedTable, row_filter: BooleanExpression) -> FilePlan:
        key = (pinned.name, pinned.snapshot_id, repr(row_filter))
        with self._lock:
            cached = self._plans.get(key)
            if cached is not None:
                self._plans.move_to_end(key)
                self.hits += 1
                return cached
            self.misses += 1
        result = plan(pinned, row_filter)
        with self._lock:
            self._plans[key] = result
            while len(self._plans) > self.entries:
                self._plans.popitem(last=False)
        return result
