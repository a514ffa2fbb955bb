"""k2_degradation: re-evaluates the degradation level every Settings.degradation.interval_s.

Reads each drain step's whole backlog and the code location's memory, applies lakehouse.degradation's
rule and saves the state every process reads. A level change is a log line, an AssetObservation of
the `degradation_level` asset (its history in the Dagster UI) and, through the saved state, the
Prometheus gauge k2_degradation_level.
"""

import time

from dagster import AssetObservation, AssetSpec, DefaultSensorStatus, Definitions, SensorEvaluationContext, SensorResult, SkipReason, sensor

from ..assets.drain_asset import DrainStep
from ..assets.kafka_sources import OWNERS
from ..lakehouse import degradation_state
from ..lakehouse.degradation import State, next_state
from ..lakehouse.process_memory import tree_rss_bytes
from ..resources import K2SettingsResource
from ..settings import Settings

LEVEL_ASSET = "degradation_level"


def observation(state: State, previous: State, lag: dict[str, int]) -> AssetObservation:
    return AssetObservation(
        asset_key=LEVEL_ASSET,
        description=f"{previous.level.name} -> {state.level.name}: {state.reason}",
        metadata={
            "level": state.level.name,
            "level_value": int(state.level),
            "previous_level": previous.level.name,
            "reason": state.reason,
            "lag_records": state.lag_records,
            "rss_bytes": state.rss_bytes,
            "memory_level": state.memory_level.name,
            "changes": state.changes,
            **{f"lag_records.{step}": n for step, n in lag.items()},
        },
    )


def degradation(settings: Settings, steps: tuple[DrainStep, ...]) -> Definitions:
    level = AssetSpec(
        LEVEL_ASSET,
        group_name="platform",
        owners=OWNERS,
        kinds={"python"},
        description="K2's degradation level (NORMAL, ELEVATED, DEGRADED, CRITICAL), observed by the k2_degradation "
        "sensor at every change, with the lag and memory that caused it.",
    )

    @sensor(
        name="k2_degradation",
        minimum_interval_seconds=settings.degradation.interval_s,
        default_status=DefaultSensorStatus.RUNNING,
        description="Degradation level from the drain steps' backlog and worker memory, with hysteresis: under pressure "
        "drain batches widen, derived work is deferred, WARN checks are skipped. No trade is dropped.",
    )
    def k2_degradation(context: SensorEvaluationContext, k2: K2SettingsResource):
        settings, catalog = k2.settings, k2.catalog()
        lag = {step.name: step.backlog(settings, catalog, cap=False).size for step in steps}
        previous = degradation_state.current(settings)
        state = next_state(previous, max(lag.values(), default=0), tree_rss_bytes(), time.time(), settings.degradation)
        degradation_state.save(settings, state)
        if state.level == previous.level:
            return SkipReason(f"level {state.level.name} (lag {state.lag_records:,} records, rss {state.rss_bytes:,} bytes)")
        line = f"K2 degradation level {previous.level.name} -> {state.level.name}: {state.reason}"
        (context.log.warning if state.level > previous.level else context.log.info)(line)
        return SensorResult(skip_reason=line, asset_events=[observation(state, previous, lag)])

    return Definitions(assets=[level], sensors=[k2_degradation])
