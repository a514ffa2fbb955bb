"""Drain sensors: compare what is available upstream with each table's committed offsets and request
one bounded run per offset range. They read offsets only (Kafka watermarks, snapshot summaries) and
never drain, so a tick takes milliseconds; the run does the work."""

from dagster import DagsterRunStatus, DefaultSensorStatus, RunConfig, RunRequest, RunsFilter, SensorEvaluationContext, SkipReason, sensor

from ..assets.drain_asset import DrainStep, RangeConfig
from ..resources import K2SettingsResource
from ..settings import Settings

IN_FLIGHT = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


def drain_sensor(settings: Settings, step: DrainStep, job):
    # Running by default: draining is the platform's steady state, not something to switch on by hand.
    @sensor(
        name=step.name,
        job=job,
        minimum_interval_seconds=settings.lakehouse.drain_interval_s,
        description=step.description,
        default_status=DefaultSensorStatus.RUNNING,
    )
    def _drain(context: SensorEvaluationContext, k2: K2SettingsResource):
        # One run at a time per step: a second would re-read a range the first is committing.
        if context.instance.get_runs(RunsFilter(job_name=job.name, statuses=IN_FLIGHT), limit=1):
            return SkipReason(f"a {job.name} run is still in flight")
        rng = step.backlog(k2.settings, k2.catalog())
        if not rng:
            return SkipReason(f"{step.name}: no lag")
        return RunRequest(
            run_key=rng.run_key(step.name),
            run_config=RunConfig(ops={step.name: RangeConfig.of(rng)}),
            tags={"k2/step": step.name, "k2/records": str(rng.size)},
        )

    return _drain
