"""Alerts: failed asset checks and freshness state changes, notified once per state change.

The cursor holds the last state notified per check / asset, so a failing check alerts once (and
once more when it recovers), not on every tick. Notification = log line + optional webhook POST.
"""

import json
import urllib.request
from dataclasses import dataclass

from dagster import AssetCheckKey, AssetKey, AssetsDefinition, Definitions, SensorEvaluationContext, SkipReason, sensor
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from ..resources import K2SettingsResource
from ..settings import LakehouseSettings, Settings

HEALTHY = {"PASS", "UNKNOWN", "NOT_APPLICABLE", "SUCCEEDED"}


@dataclass(frozen=True)
class Observed:
    state: str
    detail: dict


def current_states(instance, check_keys: list[AssetCheckKey], asset_keys: list[AssetKey]) -> dict[str, Observed]:
    states = {}
    for key, record in instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys).items():
        if record.status == AssetCheckExecutionRecordStatus.PLANNED:
            continue  # a run is evaluating it right now: no news yet (not a recovery)
        evaluation = record.evaluation
        detail = (
            {
                "check_severity": evaluation.severity.value,
                "run_id": record.run_id,
                "explanation": str(getattr(evaluation.metadata.get("explanation"), "value", "")),
            }
            if evaluation
            else {}
        )
        states[f"check:{key.asset_key.to_user_string()}:{key.name}"] = Observed(record.status.value, detail)
    for key, record in instance.get_freshness_state_records(asset_keys).items():
        states[f"freshness:{key.to_user_string()}"] = Observed(record.freshness_state.value, {})
    return states


def changes(previous: dict[str, str], now: dict[str, Observed]) -> list[dict]:
    out = []
    for subject, seen in sorted(now.items()):
        before = previous.get(subject)
        if before == seen.state or (before is None and seen.state in HEALTHY):
            continue
        out.append(
            {
                "subject": subject,
                "state": seen.state,
                "previous": before or "UNKNOWN",
                "severity": "ok" if seen.state in HEALTHY else "alert",
                **seen.detail,
            }
        )
    return out


def post(url: str, payload: dict, timeout_s: float) -> None:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        response.read()


def notify(log, lake: LakehouseSettings, events: list[dict]) -> str | None:
    """Log each event, then POST them together to Settings.lakehouse.alert_webhook_url; returns the webhook's error, if any."""
    for event in events:
        line = f"K2 alert: {event['subject']} {event['previous']} -> {event['state']} {event.get('explanation', '')}".rstrip()
        (log.warning if event["severity"] == "alert" else log.info)(line)
    if events and lake.alert_webhook_url:
        try:
            post(lake.alert_webhook_url, {"source": "k2", "events": events}, lake.alert_timeout_s)
        except OSError as exc:
            log.error(f"alert webhook {lake.alert_webhook_url} failed: {exc}")
            return str(exc)
    return None


def watched(defs: Definitions) -> tuple[list[AssetCheckKey], list[AssetKey]]:
    """Every check and every materializable asset of `defs` (the medallion and whatever layer joins it)."""
    assets = [a for a in defs.assets or [] if isinstance(a, AssetsDefinition)]
    return [k for a in [*assets, *(defs.asset_checks or [])] for k in a.check_keys], [k for a in assets for k in a.keys]


def alert_sensor(settings: Settings, defs: Definitions):
    check_keys, asset_keys = watched(defs)

    @sensor(
        name="k2_alerts",
        minimum_interval_seconds=settings.lakehouse.alert_interval_s,
        description="Notifies (log + Settings.lakehouse.alert_webhook_url) when an asset check fails or recovers, "
        "or an asset's freshness state changes; once per change.",
    )
    def k2_alerts(context: SensorEvaluationContext, k2: K2SettingsResource):
        previous = json.loads(context.cursor) if context.cursor else {}
        now = current_states(context.instance, check_keys, asset_keys)
        events = changes(previous, now)
        error = notify(context.log, k2.settings.lakehouse, events)
        if error:  # keep the cursor: the same changes are retried next tick
            return SkipReason(f"webhook failed: {error}")
        context.update_cursor(json.dumps({**previous, **{s: seen.state for s, seen in now.items()}}, sort_keys=True))
        return SkipReason(f"{len(events)} alert(s) sent" if events else "no state change")

    return k2_alerts
