"""Schedules of derived work (cost model, maintenance, bars) that wait while K2 is under pressure.

Each tick asks lakehouse.degradation_state.deferred first: at or above Settings.degradation.defer_derived_from
the tick is skipped with the level as its reason (visible on the schedule's tick history), else it runs.
"""

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from ..lakehouse.degradation_state import deferred
from ..resources import K2SettingsResource


def deferrable_schedule(name: str, target, cron: str, what: str, description: str | None = None):
    @schedule(
        name=name,
        target=target,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description=description or f"{what}; deferred while K2's degradation level is high",
    )
    def _deferrable(context: ScheduleEvaluationContext, k2: K2SettingsResource):
        reason = deferred(k2.settings, what)
        return SkipReason(reason) if reason else RunRequest()

    return _deferrable
