"""table_maintenance: compaction, snapshot expiry and orphan cleanup of every K2 table, on a schedule.

A thin wrapper over lakehouse.maintenance; safe to run while the drains run (see there).
"""

from dagster import AssetExecutionContext, Definitions, MaterializeResult, MetadataValue, asset

from ..lakehouse.maintenance import TableReport, maintain
from ..resources import K2SettingsResource
from ..sensors.deferral import deferrable_schedule
from ..settings import Settings

_COLUMNS = (
    "table",
    "data files",
    "data MB",
    "stored objects",
    "stored MB",
    "snapshots",
    "compacted partitions",
    "commit conflicts",
    "expired snapshots",
    "orphans deleted",
)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.3f}"


def _row(r: TableReport) -> tuple:
    b, a = r.before, r.after
    return (
        r.table.split(".")[-1],
        f"{b.data.files} → {a.data.files}",
        f"{_mb(b.data.bytes)} → {_mb(a.data.bytes)}",
        f"{b.stored_files} → {a.stored_files}",
        f"{_mb(b.stored_bytes)} → {_mb(a.stored_bytes)}",
        f"{r.snapshots_before} → {r.snapshots_after}",
        r.compaction.partitions,
        r.compaction.conflicts,
        r.expiry.snapshots_expired,
        f"{r.orphans.files_deleted} ({_mb(r.orphans.bytes_deleted)} MB)",
    )


def report_metadata(reports: list[TableReport]) -> dict:
    lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    lines += ["| " + " | ".join(str(v) for v in _row(r)) + " |" for r in reports]
    metadata: dict = {"tables": MetadataValue.md("\n".join(lines)), "report": MetadataValue.json([r.as_dict() for r in reports])}
    for r in reports:
        name = r.table.split(".")[-1]
        metadata.update(
            {
                f"{name}.data_files_before": r.before.data.files,
                f"{name}.data_files_after": r.after.data.files,
                f"{name}.data_bytes_before": r.before.data.bytes,
                f"{name}.data_bytes_after": r.after.data.bytes,
            }
        )
    return metadata


def maintenance(settings: Settings) -> Definitions:
    @asset(
        name="table_maintenance",
        group_name="maintenance",
        kinds={"iceberg"},
        description="Compacts small data files (a replace of the same rows, offsets carried forward), expires snapshots "
        f"older than {settings.maintenance.snapshot_max_age_s} s and deletes orphan files older than "
        f"{settings.maintenance.orphan_min_age_s} s, in every K2 table; file counts and sizes before/after.",
    )
    def table_maintenance(context: AssetExecutionContext, k2: K2SettingsResource) -> MaterializeResult:
        reports = maintain(k2.settings, k2.catalog())
        for r in reports:
            context.log.info(
                f"{r.table}: data files {r.before.data.files} -> {r.after.data.files}, "
                f"snapshots {r.snapshots_before} -> {r.snapshots_after}, orphans deleted {r.orphans.files_deleted}"
            )
        return MaterializeResult(metadata=report_metadata(reports))

    schedule = deferrable_schedule("table_maintenance_schedule", table_maintenance, settings.maintenance.cron, "table_maintenance")
    return Definitions(assets=[table_maintenance], schedules=[schedule])
