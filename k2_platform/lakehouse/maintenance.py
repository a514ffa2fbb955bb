"""Table maintenance, one table after another: compaction, then snapshot expiry, then orphan-file cleanup.

Safe while drains run (see compaction.py and expiry.py): every commit is compare-and-set against the
snapshot it read and is retried on a conflict, compaction rewrites rows without adding or dropping one,
and the offsets drains resume from stay recorded in the head snapshot. The report holds, per table, the
live data files and all stored objects (count and bytes) before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table

from ..settings import Settings
from .compaction import CompactionOutcome, compact
from .expiry import ExpiryOutcome, OrphanOutcome, expire, remove_orphans
from .table_files import FileTotals, data_totals, stored_files
from .table_specs import ALL_TABLES
from .tables import load


@dataclass(frozen=True)
class Footprint:
    data: FileTotals  # live data files of the current snapshot
    stored_files: int  # every object under the table's location: data, manifests, metadata, leftovers
    stored_bytes: int

    @classmethod
    def of(cls, table: Table) -> Footprint:
        table.refresh()
        stored = stored_files(table)
        return cls(data_totals(table), len(stored), sum(i.size for i in stored))


@dataclass
class TableReport:
    table: str
    before: Footprint
    after: Footprint
    snapshots_before: int
    snapshots_after: int
    compaction: CompactionOutcome
    expiry: ExpiryOutcome
    orphans: OrphanOutcome

    def as_dict(self) -> dict:
        return asdict(self)


def maintain_table(settings: Settings, table: Table, before_commit: Callable[[Table], None] | None = None) -> TableReport:
    m, attempts = settings.maintenance, settings.lakehouse.commit_attempts
    before, snapshots_before = Footprint.of(table), len(table.metadata.snapshots)
    compaction = compact(table, m, attempts, before_commit)
    expiry = expire(table, m, attempts)
    orphans = remove_orphans(table, m)
    return TableReport(
        ".".join(table.name()), before, Footprint.of(table), snapshots_before, len(table.metadata.snapshots), compaction, expiry, orphans
    )


def maintained_tables(settings: Settings) -> list[str]:
    known = [spec.name for spec in ALL_TABLES]
    wanted = settings.maintenance.tables or known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise ValueError(f"maintenance.tables names unknown tables {unknown}; known: {', '.join(known)}")
    return wanted


def maintain(settings: Settings, catalog: Catalog) -> list[TableReport]:
    """Maintain every configured table that exists and has been written."""
    reports = []
    for name in maintained_tables(settings):
        try:
            table = load(catalog, settings.catalog.namespace, name)
        except NoSuchTableError:  # not created in this catalog yet: nothing to maintain
            continue
        if table.current_snapshot() is not None:
            reports.append(maintain_table(settings, table))
    return reports
