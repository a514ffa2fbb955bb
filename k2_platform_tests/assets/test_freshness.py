"""FreshnessPolicy.time_window on bronze/silver/gold, evaluated by Dagster's own freshness daemon
(one iteration per call, clock frozen): stale when the drain stops, fresh again when it resumes."""

import time

import pytest
from dagster import AssetKey
from dagster._core.test_utils import freeze_time

from k2_platform.definitions import build_definitions
from k2_platform_tests.assets.dagster_steps import (
    freshness,
    freshness_changes,
    freshness_daemon,
    produce_valid,
    run_steps,
    temp_instance,
)

pytestmark = [pytest.mark.integration, pytest.mark.dagster]

LAYERS = ("bronze_trades", "silver_trades_binance", "silver_trades_kraken", "trades_dlq", "gold_trades")


def fail_window_s(defs, name: str) -> float:
    return defs.resolve_asset_graph().get(AssetKey(name)).freshness_policy.fail_window.to_timedelta().total_seconds()


def test_medallion_goes_stale_when_the_drain_stops_and_fresh_when_it_resumes(settings, catalog, tmp_path):
    defs = build_definitions(settings)
    lake = settings.lakehouse  # the windows come from the Settings the definitions were built from
    windows = {name: fail_window_s(defs, name) for name in LAYERS}
    assert windows == {
        "bronze_trades": lake.bronze_fresh_s,
        "silver_trades_binance": lake.silver_fresh_s,
        "silver_trades_kraken": lake.silver_fresh_s,
        "trades_dlq": lake.silver_fresh_s,
        "gold_trades": lake.gold_fresh_s,
    }
    assert lake.bronze_fresh_s < lake.silver_fresh_s < lake.gold_fresh_s
    bronze_s, gold_s = lake.bronze_fresh_s, lake.gold_fresh_s
    keys = [AssetKey(n) for n in LAYERS]
    instance = temp_instance(tmp_path)
    produce_valid(settings, range(30))
    t0 = time.time()
    with freeze_time(t0):
        assert all(r.success for r in run_steps(defs, instance, "drain_bronze", "refine_silver", "build_gold"))

    with freshness_daemon(instance) as evaluate:
        evaluate(t0 + 60)
        assert freshness(instance, keys) == dict.fromkeys(LAYERS, "PASS")

        produce_valid(settings, range(100, 130))  # trades keep arriving; no drain runs
        evaluate(t0 + bronze_s + 1)
        assert freshness(instance, keys) == {**dict.fromkeys(LAYERS, "PASS"), "bronze_trades": "FAIL"}
        evaluate(t0 + gold_s + 1)
        assert freshness(instance, keys) == dict.fromkeys(LAYERS, "FAIL")
        evaluate(t0 + gold_s + 30)  # still stale: no new state change recorded

        with freeze_time(t0 + gold_s + 60):  # the drain resumes
            assert all(r.success for r in run_steps(defs, instance, "drain_bronze", "refine_silver", "build_gold"))
        evaluate(t0 + gold_s + 61)
        assert freshness(instance, keys) == dict.fromkeys(LAYERS, "PASS")

    changes = freshness_changes(instance)
    for name in LAYERS:
        assert [(p, n) for a, p, n in changes if a == name] == [("UNKNOWN", "PASS"), ("PASS", "FAIL"), ("FAIL", "PASS")]
    assert [a for a, _p, n in changes if n == "FAIL"][0] == "bronze_trades"  # bronze noticed first
