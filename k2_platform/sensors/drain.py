"""Drain sensors: compare what is available upstream with each table's committed offsets and request
one bounded run per offset range. They read offsets only (Kafka watermarks, snapshot summaries) and
never drain, so a tick takes milliseconds; the run does the work."""

from collections.abc import Callable

from dagster import DagsterRunStatus, DefaultSensorStatus, RunRequest, RunsFilter, SensorEvaluationContext, SkipReason, sensor

from ..lakehouse import backlog
from ..resources import K2SettingsResource
from ..settings import load_settings

IN_FLIGHT = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


def drain_sensor(step: str, job, op_name: str, find_backlog: Callable, description: str):
    # Running by default: draining is the platform's steady state, not something to switch on by hand.
    @sensor(name=f"{step}_drain", job=job, minimum_interval_seconds=load_settings().lakehouse.drain_interval_s,
            description=description, default_status=DefaultSensorStatus.RUNNING)
    def _drain(context: SensorEvaluationContext, k2: K2SettingsResource):
        # One run at a time per step: a second would re-read a range the first is committing.
        if context.instance.get_runs(RunsFilter(job_name=job.name, statuses=IN_FLIGHT), limit=1):
            return SkipReason(f"a {job.name} run is still in flight")
        settings = k2.settings
        rng = find_backlog(settings, k2.catalog())
        if not rng:
            return SkipReason(f"{step}: no lag")
        return RunRequest(run_key=rng.run_key(step), run_config={"ops": {op_name: {"config": rng.to_config()}}},
                          tags={"k2/step": step, "k2/records": str(rng.size)})

    return _drain


def drain_sensors(jobs: dict) -> list:
    return [
        drain_sensor("bronze", jobs["bronze"], "bronze_trades", backlog.bronze_backlog,
                     "Kafka end offsets vs bronze_trades' k2.offsets -> one run per offset range."),
        drain_sensor("refine", jobs["refine"], "refine_bronze", backlog.refine_backlog,
                     "bronze_trades' offsets vs silver/DLQ watermarks -> one refine run per range (triggered by bronze snapshots)."),
        drain_sensor("gold", jobs["gold"], "gold_trades", backlog.gold_backlog,
                     "silver watermarks vs gold_trades' -> one gold run per range (triggered by silver snapshots)."),
        drain_sensor("feed_gaps", jobs["feed_gaps"], "feed_gaps", backlog.feed_gaps_backlog,
                     "Kafka feed-gaps topic end offsets vs feed_gaps' k2.offsets."),
    ]
