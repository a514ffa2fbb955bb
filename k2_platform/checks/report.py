"""The one way K2 reports a check: a lakehouse.quality RuleResult becomes an AssetCheckResult.

A run that crashes before its checks report leaves them PLANNED; the next result of such a check
says so (which run, how it ended, what stopped it), so a reader of the check sees the gap.
"""

from __future__ import annotations

from dagster import AssetCheckKey, AssetCheckResult, AssetCheckSeverity, AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from ..lakehouse.quality import RuleResult

# ERROR: the exactly-once or validity contract is broken (data lost, duplicated or invalid).
# WARN: the data is stored faithfully but needs a look (many rejects, unrepaired exchange gaps).
ERROR, WARN = AssetCheckSeverity.ERROR, AssetCheckSeverity.WARN
ENDED_UNREPORTED = (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)


def check_result(context, asset: str, name: str, result: RuleResult, severity: AssetCheckSeverity) -> AssetCheckResult:
    """context: the asset's or the check's execution context (its instance and run)."""
    unreported = left_unreported(context.instance, AssetCheckKey(AssetKey(asset), name), context.run.run_id)
    return AssetCheckResult(
        asset_key=AssetKey(asset), check_name=name, passed=result.passed, severity=severity, metadata={**result.metadata, **unreported}
    )


def left_unreported(instance: DagsterInstance, key: AssetCheckKey, run_id: str) -> dict:
    """The check's previous execution, when a run planned it and then ended without reporting it."""
    previous = next((r for r in instance.event_log_storage.get_asset_check_execution_history(key, limit=2) if r.run_id != run_id), None)
    if previous is None or previous.status != AssetCheckExecutionRecordStatus.PLANNED:
        return {}
    run = instance.get_run_by_id(previous.run_id)
    if run is None or run.status not in ENDED_UNREPORTED:
        return {}  # still in flight: not ended, so nothing to say yet
    return {"previous_run_id": run.run_id, "previous_run_status": run.status.value, "previous_run_error": failure_summary(instance, run.run_id)}


def failure_summary(instance: DagsterInstance, run_id: str) -> str:
    """What stopped a run: per failed step, its innermost error (the cause one can act on); else the run's own failure message."""
    lines = []
    for record in instance.get_records_for_run(run_id=run_id, of_type=DagsterEventType.STEP_FAILURE).records:
        event = record.event_log_entry.dagster_event
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        lines.append(f"step {event.step_key} failed: {error.message.strip() if error else 'no error recorded'}")
    if lines:
        return "; ".join(lines)
    failures = instance.get_records_for_run(run_id=run_id, of_type=DagsterEventType.RUN_FAILURE).records
    return failures[-1].event_log_entry.dagster_event.message if failures else "the run ended without a failure event"
