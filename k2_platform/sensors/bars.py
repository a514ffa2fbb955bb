"""The bars sensor: follows gold_trades' snapshots and rebuilds exactly the bar partitions whose gold
hours changed (new trades, late ones included). The cursor holds the last gold snapshot processed."""

import json
from datetime import UTC, datetime

from dagster import (
    AssetKey,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    sensor,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._time import get_current_timestamp  # Dagster's clock: what its schedules and freshness use (and tests freeze)

from ..assets.ohlcv import bar_partitions, ohlcv_assets
from ..lakehouse.degradation_state import deferred
from ..lakehouse.gold_changes import gold_changes
from ..lakehouse.tables import load
from ..query.bar_build import bar_table_name, partition_us, touched_partitions
from ..query.bars import INTERVALS
from ..resources import K2SettingsResource
from ..settings import Settings


def bar_job_name(interval: str) -> str:
    return f"build_{bar_table_name(interval)}"


def bar_jobs(settings: Settings) -> list:
    return [define_asset_job(bar_job_name(i), selection=[bar_table_name(i)], partitions_def=bar_partitions(settings, i)) for i in INTERVALS]


def partition_runs(partitions_def, starts_us: list[int], width_us: int, per_run: int) -> list[tuple[str, str]]:
    """(first, last) partition keys of the runs covering `starts_us` (sorted): adjacent partitions share a run, up to per_run."""
    groups: list[list[int]] = []
    for start in starts_us:
        if groups and groups[-1][-1] + width_us == start and len(groups[-1]) < per_run:
            groups[-1].append(start)
        else:
            groups.append([start])
    runs = []
    for group in groups:
        # Only partitions Dagster knows: gold hours before the configured start (or past the window in progress) are left out.
        keys = [k for k in (partitions_def.get_partition_key_for_timestamp(s / 1e6) for s in group) if partitions_def.has_partition_key(k)]
        if keys:
            runs.append((keys[0], keys[-1]))
    return runs


def bars_sensor(settings: Settings, jobs: list) -> SensorDefinition:
    # Running by default: bars follow gold as the drains do Kafka, nobody has to switch them on.
    @sensor(
        name="bars_follow_gold",
        jobs=jobs,
        minimum_interval_seconds=settings.bars.sensor_interval_s,
        default_status=DefaultSensorStatus.RUNNING,
        description="gold_trades' new snapshots -> rebuild the ohlcv partitions covering the hours their files touched "
        "(late trades too); hour/day bars of windows in progress at most every bars.coarse_interval_s. "
        "The cursor is the last gold snapshot processed.",
    )
    def _follow(context: SensorEvaluationContext, k2: K2SettingsResource):
        # Deferred under pressure without moving the cursor: the gold changes wait and are all rebuilt afterwards.
        if reason := deferred(k2.settings, "ohlcv bars"):
            return SkipReason(reason)
        cursor = json.loads(context.cursor) if context.cursor else None
        gold = load(k2.catalog(), k2.settings.catalog.namespace, "gold_trades")
        changes = gold_changes(gold, cursor["sequence"] if cursor else None)
        if changes.head_snapshot_id is None:
            return SkipReason("gold_trades has no snapshot yet")
        now = get_current_timestamp()
        # Hours changed for the coarse bars but not rebuilt yet: carried in the cursor until due.
        pending = changes.hours | set(cursor.get("coarse_pending", []) if cursor else [])
        ended_hour_changed = any((hour + 1) * 3600 <= now for hour in pending)
        coarse_due = ended_hour_changed or now - (cursor or {}).get("coarse_at", 0) >= settings.bars.coarse_interval_s
        requests = []
        for interval in INTERVALS:
            if interval != "1m" and not coarse_due:
                continue
            partitions_def, job = bar_partitions(settings, interval), bar_job_name(interval)
            starts = touched_partitions(interval, changes.hours if interval == "1m" else pending)
            for first, last in partition_runs(partitions_def, starts, partition_us(interval), settings.bars.max_partitions_per_run):
                requests.append(
                    RunRequest(
                        run_key=f"{job}:{changes.head_snapshot_id}:{first}:{last}",
                        job_name=job,
                        asset_selection=[AssetKey(bar_table_name(interval))],
                        tags={
                            ASSET_PARTITION_RANGE_START_TAG: first,
                            ASSET_PARTITION_RANGE_END_TAG: last,
                            "k2/gold_snapshot": str(changes.head_snapshot_id),
                            "k2/bars": interval,
                            # Drains first: bars are derived, the medallion's latency matters more.
                            "dagster/priority": "-1",
                        },
                    )
                )
        if requests:
            context.log.info(f"{changes.snapshots} new gold snapshots, hours touched {sorted(changes.hours)[:24]}: {len(requests)} runs")
        cursor_out = json.dumps(
            {
                "snapshot_id": changes.head_snapshot_id,
                "sequence": changes.head_sequence,
                "processed_at": datetime.fromtimestamp(now, UTC).isoformat(),
                "coarse_pending": [] if coarse_due else sorted(pending),
                "coarse_at": now if coarse_due else (cursor or {}).get("coarse_at", 0),
            }
        )
        return SensorResult(run_requests=requests, cursor=cursor_out, skip_reason=None if requests else "no gold change to rebuild")

    return _follow


def bars(settings: Settings) -> Definitions:
    """The bar assets, their jobs and the sensor that keeps them current."""
    jobs = bar_jobs(settings)
    return Definitions(assets=ohlcv_assets(settings), jobs=jobs, sensors=[bars_sensor(settings, jobs)])
