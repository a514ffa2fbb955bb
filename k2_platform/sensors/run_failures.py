"""Failed runs are visible: each failed run of this code location is notified once, through the
same log + webhook path as the check alerts. (Dagster's run-status cursor makes it once: a webhook
that is down gets an error line in the tick's log, and the run's checks report the failure on the
step's next run, see checks/report.py.)"""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from ..checks.report import failure_summary
from ..resources import K2SettingsResource
from ..settings import Settings
from .alerts import notify


def run_failure_alerts(settings: Settings):
    # Running by default: a failed drain run is exactly what nobody must miss.
    @run_failure_sensor(
        name="k2_run_failures",
        minimum_interval_seconds=settings.lakehouse.alert_interval_s,
        default_status=DefaultSensorStatus.RUNNING,
        description="Notifies (log + Settings.lakehouse.alert_webhook_url) once per failed run, with what stopped it.",
    )
    def k2_run_failures(context: RunFailureSensorContext, k2: K2SettingsResource):
        run = context.dagster_run
        notify(
            context.log,
            k2.settings.lakehouse,
            [
                {
                    "subject": f"run:{run.job_name}",
                    "state": "FAILURE",
                    "previous": "STARTED",
                    "severity": "alert",
                    "run_id": run.run_id,
                    "explanation": failure_summary(context.instance, run.run_id),
                }
            ],
        )

    return k2_run_failures
