import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey

from k2_platform.definitions import build_definitions
from k2_platform.sensors.alerts import watched
from k2_platform.settings import BarsSettings, DegradationSettings, LakehouseSettings, Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.dagster
def test_dagster_definitions_validate(tmp_path):
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": str(dagster.parent) + ":/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path), "K2_STATE_DIR": str(tmp_path / "state")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation." in result.stdout + result.stderr


def fail_window_s(defs, name: str) -> float:
    return defs.resolve_asset_graph().get(AssetKey(name)).freshness_policy.fail_window.to_timedelta().total_seconds()


@pytest.mark.dagster
def test_definitions_take_windows_and_intervals_from_the_settings_they_are_built_from():
    lake = LakehouseSettings(bronze_fresh_s=61, silver_fresh_s=123, gold_fresh_s=1801, drain_interval_s=17, alert_interval_s=45)
    bars = BarsSettings(sensor_interval_s=7, fresh_1m_s=241, fresh_1h_s=3601, fresh_1d_s=86401)
    pinned = Settings(lakehouse=lake, degradation=DegradationSettings(interval_s=23), bars=bars, state_dir=Path("/nonexistent/k2-pinned"))
    defs = build_definitions(pinned)
    assert {
        name: fail_window_s(defs, name)
        for name in (
            "bronze_trades",
            "silver_trades_binance",
            "silver_trades_kraken",
            "trades_dlq",
            "gold_trades",
            "ohlcv_1m",
            "ohlcv_1h",
            "ohlcv_1d",
        )
    } == {
        "bronze_trades": 61,
        "silver_trades_binance": 123,
        "silver_trades_kraken": 123,
        "trades_dlq": 123,
        "gold_trades": 1801,
        "ohlcv_1m": 241,
        "ohlcv_1h": 3601,
        "ohlcv_1d": 86401,
    }
    assert defs.resolve_asset_graph().get(AssetKey("feed_gaps")).freshness_policy is None
    assert {s.name: s.minimum_interval_seconds for s in defs.sensors} == {
        "drain_bronze": 17,
        "drain_feed_gaps": 17,
        "refine_silver": 17,
        "build_gold": 17,
        "k2_alerts": 45,
        "k2_run_failures": 45,
        "k2_degradation": 23,
        "bars_follow_gold": 7,
    }
    assert defs.resources["k2"].settings == pinned  # runs and ticks get these very settings, not env/TOML re-read
    assert build_definitions(Settings()).get_sensor_def("drain_bronze").minimum_interval_seconds == LakehouseSettings().drain_interval_s


@pytest.mark.dagster
def test_a_bad_k2_config_breaks_loading_the_definitions_clearly_not_importing_them(tmp_path):
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DAGSTER_HOME": str(tmp_path),
        "K2_CONFIG": str(tmp_path / "absent.toml"),
    }
    imports = (
        "import k2_platform.definitions, k2_platform.assets.bronze, k2_platform.assets.refine, k2_platform.assets.gold, "
        "k2_platform.assets.feed_gaps, k2_platform.sensors.drain, k2_platform.sensors.alerts, k2_platform.checks.tables"
    )
    imported = subprocess.run([sys.executable, "-c", imports], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert imported.returncode == 0, imported.stderr
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"], cwd=ROOT, env=env, check=False, capture_output=True, text=True, timeout=300
    )
    assert result.returncode != 0
    assert f"K2_CONFIG points to {tmp_path / 'absent.toml'}, which does not exist" in result.stdout + result.stderr


@pytest.mark.dagster
def test_the_alert_sensor_watches_every_table_and_check():
    defs = build_definitions(Settings(state_dir=Path("/nonexistent/k2-pinned")))
    check_keys, asset_keys = watched(defs)
    assert sorted(k.to_user_string() for k in asset_keys) == [
        "bronze_trades",
        "feed_gaps",
        "gold_trades",
        "ohlcv_1d",
        "ohlcv_1h",
        "ohlcv_1m",
        "platform_cost_model",
        "silver_trades_binance",
        "silver_trades_kraken",
        "table_maintenance",
        "trades_dlq",
    ]
    assert sorted(k.to_user_string() for k in check_keys) == sorted(k.to_user_string() for k in defs.resolve_asset_graph().asset_check_keys)
    assert len(check_keys) == 16  # 10 on the medallion, 2 on each bar table
