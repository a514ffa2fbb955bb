"""Evaluating the alert sensors the way the daemon does (cursor in, cursor out, logs kept per tick)."""

from dagster import SensorEvaluationContext
from dagster._core.definitions.instigation_logger import get_instigation_log_records
from dagster._core.execution.build_resources import wrap_resources_for_execution


def with_webhook(settings, url: str):
    return settings.model_copy(update={"lakehouse": settings.lakehouse.model_copy(update={"alert_webhook_url": url})})


TICKS = []  # log keys of the ticks evaluated, in order


def tick(defs, instance, cursor, name: str = "k2_alerts"):
    """One sensor tick as the daemon runs it: cursor in, cursor out, logs captured under the tick's log key."""
    sensor = defs.get_sensor_def(name)
    TICKS.append([name, "tick", str(len(TICKS))])
    with SensorEvaluationContext(
        instance_ref=instance.get_ref(),
        instance=instance,
        cursor=cursor,
        log_key=TICKS[-1],
        sensor_name=sensor.name,
        resources=wrap_resources_for_execution(defs.resources),
    ) as context:
        result = sensor.evaluate_tick(context)
    assert result.run_requests == []
    return result


def alert_log_lines(instance) -> list[str]:
    return [r["msg"].split(" - ", 1)[-1] for key in TICKS for r in get_instigation_log_records(instance, key) if "K2 alert:" in r["msg"]]
