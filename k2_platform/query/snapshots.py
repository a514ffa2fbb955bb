"""One table snapshot pinned for a whole query, so rows and the snapshot's properties agree."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot

from ..lakehouse.offsets import KAFKA_OFFSETS_KEY, recorded_as_of
from ..lakehouse.tables import load


class TableMissing(ValueError):
    """A K2 table that has not been created in this catalog yet."""


class SnapshotExpired(LookupError):
    """A snapshot id (e.g. from a pagination cursor) that the table no longer holds."""


@dataclass(frozen=True)
class PinnedTable:
    name: str
    table: Table
    snapshot: Snapshot | None  # None: the table has never been written

    @property
    def snapshot_id(self) -> int | None:
        return self.snapshot.snapshot_id if self.snapshot else None

    @property
    def committed_at_ms(self) -> int | None:
        return self.snapshot.timestamp_ms if self.snapshot else None

    def kafka_offsets(self) -> dict[str, dict[int, int]]:
        """The Kafka positions whose records are all in this snapshot ({} before the first commit).

        Read through the snapshot's lineage: a compaction commit carries no offsets but keeps every row.
        """
        return recorded_as_of(self.table, self.snapshot, KAFKA_OFFSETS_KEY) if self.snapshot else {}


class TableCache:
    """Loaded tables reused for `refresh_s`: loading metadata costs milliseconds per request."""

    def __init__(self, catalog: Catalog, namespace: str, refresh_s: float):
        self.catalog, self.namespace, self.refresh_s = catalog, namespace, refresh_s
        self._loaded: dict[str, tuple[float, Table]] = {}
        self._reloading: set[str] = set()
        self._lock = threading.Lock()

    def table(self, name: str, *, fresh: bool = False) -> Table:
        now = time.monotonic()
        with self._lock:
            cached = self._loaded.get(name)
            reloading = name in self._reloading
            if cached and not fresh and (now - cached[0] < self.refresh_s or reloading):
                # While one request reloads, the others keep the copy it replaces (at most one reload old).
                return cached[1]
            self._reloading.add(name)
        try:
            return self._load(name, now)
        finally:
            with self._lock:
                self._reloading.discard(name)

    def _load(self, name: str, now: float) -> Table:
        try:
            table = load(self.catalog, self.namespace, name)
        except NoSuchTableError:
            raise TableMissing(
                f"table {self.namespace}.{name} does not exist yet: start the stack and ingest first (the medallion creates it)"
            ) from None
        with self._lock:
            self._loaded[name] = (now, table)
        return table

    def pin(self, name: str, snapshot_id: int | None = None, *, fresh: bool = False) -> PinnedTable:
        table = self.table(name, fresh=fresh)
        if snapshot_id is None:
            return PinnedTable(name, table, table.current_snapshot())
        snapshot = table.snapshot_by_id(snapshot_id)
        if snapshot is None:  # maybe newer than our cached metadata
            table = self.table(name, fresh=True)
            snapshot = table.snapshot_by_id(snapshot_id)
        if snapshot is None:
            raise SnapshotExpired(f"snapshot {snapshot_id} of {name} no longer exists")
        return PinnedTable(name, table, snapshot)
