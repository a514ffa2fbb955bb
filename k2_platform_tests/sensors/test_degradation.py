"""The k2_degradation sensor over a real backlog (real Kafka, real drains through Dagster): CRITICAL widens
batches, skips WARN checks with the level as explanation, defers derived schedules, is on /health and /metrics,
drops no trade; and easing back to NORMAL one level per tick once the backlog is gone."""

import pytest
from dagster import AssetKey, RunRequest, build_schedule_context, build_sensor_context
from fastapi.testclient import TestClient

from k2_platform.definitions import build_definitions
from k2_platform.lakehouse import degradation_state
from k2_platform.lakehouse.degradation import Level
from k2_platform.lakehouse.tables import load
from k2_platform.query.api import create_app
from k2_platform.sensors.degradation import LEVEL_ASSET
from k2_platform.settings import DegradationSettings
from k2_platform_tests.assets.dagster_steps import evaluations, plain_metadata, produce_trades, produce_valid, temp_instance
from k2_platform_tests.assets.medallion_harness import drain_all, run_sensor_once

pytestmark = [pytest.mark.integration, pytest.mark.dagster]

PB = 1 << 50  # memory thresholds out of reach: this test is about lag
DERIVED = {"table_maintenance_schedule": "table_maintenance", "platform_cost_model_daily": "platform_cost_model"}


def pressed(settings):
    """Lag thresholds of a few records, no dwell, runs of 10 records at NORMAL (80 at CRITICAL)."""
    levels = DegradationSettings(
        lag_up=[10, 20, 40],
        lag_down=[5, 15, 30],
        rss_up_bytes=[PB, 2 * PB, 3 * PB],
        rss_down_bytes=[PB // 2, 3 * PB // 2, 5 * PB // 2],
        min_dwell_s=0,
    )
    return settings.model_copy(update={"degradation": levels, "lakehouse": settings.lakehouse.model_copy(update={"max_records_per_run": 10})})


def tick(defs, instance):
    """One evaluation of k2_degradation; its asset events are stored as the sensor daemon stores them."""
    with build_sensor_context(instance=instance, resources=defs.resources, sensor_name="k2_degradation") as context:
        result = defs.resolve_sensor_def("k2_degradation").evaluate_tick(context)
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    return result


def observed_levels(instance) -> list[str]:
    records = instance.fetch_observations(AssetKey(LEVEL_ASSET), limit=100, ascending=True).records
    return [r.event_log_entry.asset_observation.metadata["level"].value for r in records]


def derived_ticks(defs, instance) -> dict:
    out = {}
    for name in DERIVED:
        with build_schedule_context(instance=instance, resources=defs.resources) as context:
            out[name] = defs.resolve_schedule_def(name).evaluate_tick(context)
    return out


def runs_requested(ticks: dict) -> list[int]:
    return [sum(isinstance(r, RunRequest) for r in t.run_requests) for t in ticks.values()]


def test_a_trade_offered_at_critical_reaches_gold_and_derived_work_waits(settings, catalog, tmp_path):
    settings = pressed(settings)
    defs, instance = build_definitions(settings), temp_instance(tmp_path)
    assert runs_requested(derived_ticks(defs, instance)) == [1, 1]  # NORMAL: derived work runs

    stream = produce_trades(settings, 100, bad_every=10)  # 90 valid trades, 10 rejects (10 % > max_dlq_rate 5 %)
    rose = tick(defs, instance)
    assert rose.skip_message == "K2 degradation level NORMAL -> CRITICAL: rose: lag 100 records >= 40 (CRITICAL up threshold)"
    [event] = rose.asset_events
    assert {
        k: plain_metadata(event)[k]
        for k in ("level", "level_value", "previous_level", "lag_records", "lag_records.drain_bronze", "lag_records.build_gold", "changes")
    } == {
        "level": "CRITICAL",
        "level_value": 3,
        "previous_level": "NORMAL",
        "lag_records": 100,
        "lag_records.drain_bronze": 100,
        "lag_records.build_gold": 0,
        "changes": 1,
    }
    assert tick(defs, instance).skip_message == f"level CRITICAL (lag 100 records, rss {degradation_state.current(settings).rss_bytes:,} bytes)"
    offered = produce_valid(settings, range(1000, 1001))  # one trade offered at the highest level

    for name, result in derived_ticks(defs, instance).items():
        assert result.run_requests == [] and result.skip_message.startswith(f"{DERIVED[name]} deferred: K2 degradation level is CRITICAL (since "), (
            result.skip_message
        )
        assert result.skip_message.endswith("rose: lag 100 records >= 40 (CRITICAL up threshold)); back to normal below DEGRADED")

    [widened] = run_sensor_once(defs, instance, "drain_bronze")
    assert widened.tags["k2/records"] == "80"  # max_records_per_run 10 x CRITICAL's batch factor 8
    with TestClient(create_app(settings)) as client:
        health = client.get("/health").json()
        metrics = client.get("/metrics").text
    assert (health["degradation"]["level"], health["degradation"]["lag_records"]) == ("CRITICAL", 100)
    assert "k2_degradation_level 3.0" in metrics.splitlines() and "k2_degradation_level_changes_total 1.0" in metrics.splitlines()

    _defs, results = drain_all(settings, instance)
    ids = load(catalog, "market", "gold_trades").scan(selected_fields=("message_id",)).to_arrow()["message_id"].to_pylist()
    assert len(ids) == 91 and set(ids) == stream.valid_ids | offered.valid_ids
    bronze_runs = [r for r in results if r.dagster_run.tags.get("k2/step") == "drain_bronze"]
    assert [r.dagster_run.tags["k2/records"] for r in bronze_runs] == ["80", "21"]
    dlq_rate = evaluations(results)["trades_dlq_rate"]  # 10 rejects in 80 records: a failure at NORMAL, skipped at CRITICAL
    assert dlq_rate.passed and plain_metadata(dlq_rate)["skipped"] is True
    assert plain_metadata(dlq_rate)["explanation"].startswith("non-blocking check skipped, reported as passed: K2 degradation level is CRITICAL")
    assert evaluations(results)["bronze_equals_silver_plus_dlq"].passed  # blocking checks are always judged

    eased = [tick(defs, instance).skip_message for _ in range(4)]  # no backlog left, no dwell: one level down per tick
    assert [m.split(":")[0] for m in eased[:3]] == [
        "K2 degradation level CRITICAL -> DEGRADED",
        "K2 degradation level DEGRADED -> ELEVATED",
        "K2 degradation level ELEVATED -> NORMAL",
    ]
    assert eased[3].startswith("level NORMAL (lag 0 records, rss ")
    assert observed_levels(instance) == ["CRITICAL", "DEGRADED", "ELEVATED", "NORMAL"]
    assert degradation_state.current(settings).level == Level.NORMAL and degradation_state.current(settings).changes == 4
    assert runs_requested(derived_ticks(defs, instance)) == [1, 1]
