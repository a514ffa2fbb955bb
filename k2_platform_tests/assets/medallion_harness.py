"""Drive the real Definitions the way the Dagster daemon does: evaluate each drain sensor, execute
the runs it requests, until no sensor reports lag."""

from __future__ import annotations

from dagster import DagsterInstance, RunRequest, build_sensor_context

from k2_platform.definitions import build_definitions

STEPS = ("drain_bronze", "drain_feed_gaps", "refine_silver", "build_gold")  # each step's one name (its sensor)


def run_sensor_once(defs, instance: DagsterInstance, step: str):
    sensor = defs.get_sensor_def(step)
    resources = defs.resources
    with build_sensor_context(instance=instance, resources=resources, sensor_name=sensor.name) as context:
        result = sensor.evaluate_tick(context)
    return result.run_requests or []


def drain_all(settings, instance: DagsterInstance, max_rounds: int = 50):
    defs = build_definitions(settings)
    results = []
    for _ in range(max_rounds):
        requested = False
        for step in STEPS:
            for request in run_sensor_once(defs, instance, step):
                assert isinstance(request, RunRequest)
                job = defs.resolve_job_def(request.job_name or _job_of(defs, step))
                results.append(job.execute_in_process(run_config=request.run_config, instance=instance, tags=request.tags))
                requested = True
        if not requested:
            return defs, results
    raise AssertionError("sensors still report lag after max_rounds")


def _job_of(defs, step: str) -> str:
    return defs.get_sensor_def(step).job_name
