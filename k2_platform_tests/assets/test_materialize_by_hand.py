"""A drain asset materialized by hand (the UI's Materialize button, `dagster asset materialize`) needs no
run config: it drains the step's current backlog, capped per run as the drain sensor caps it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, Failure, materialize

from k2_platform.assets.drain_asset import RangeConfig
from k2_platform.definitions import build_definitions
from k2_platform.lakehouse.tables import load
from k2_platform_tests.assets.dagster_steps import produce_valid

pytestmark = [pytest.mark.integration, pytest.mark.dagster]

ROOT = Path(__file__).resolve().parents[2]


def by_hand(defs, instance, *tables: str):
    """What the Materialize button launches: the selected assets and their checks, no run config."""
    return materialize([*defs.assets, *defs.asset_checks], selection=list(tables), resources=defs.resources, instance=instance)


def rows(catalog, table: str) -> int:
    return load(catalog, "market", table).scan().to_arrow().num_rows


def written(result, step: str) -> dict:
    """table -> (rows_written, lag_before, lag_after) of the step's materializations in this run."""
    return {
        m.asset_key.to_user_string(): tuple(m.metadata[k].value for k in ("rows_written", "lag_before", "lag_after"))
        for m in result.asset_materializations_for_node(step)
    }


def test_materialize_without_run_config_drains_exactly_the_pending_records_capped_per_run(settings, catalog):
    settings = settings.model_copy(update={"lakehouse": settings.lakehouse.model_copy(update={"max_records_per_run": 20})})
    defs, instance = build_definitions(settings), DagsterInstance.ephemeral()
    produced = produce_valid(settings, range(30))  # 20 binance + 10 kraken trades

    first = by_hand(defs, instance, "bronze_trades")
    assert first.success and written(first, "drain_bronze") == {"bronze_trades": (20, 30, 10)}
    second = by_hand(defs, instance, "bronze_trades")
    assert written(second, "drain_bronze") == {"bronze_trades": (10, 10, 0)}
    idle = by_hand(defs, instance, "bronze_trades")  # nothing pending: nothing read or written
    assert written(idle, "drain_bronze") == {"bronze_trades": (0, 0, 0)} and rows(catalog, "bronze_trades") == 30
    assert len(load(catalog, "market", "bronze_trades").snapshots()) == 2

    refined = [by_hand(defs, instance, "silver_trades_binance", "silver_trades_kraken", "trades_dlq") for _ in range(2)]
    assert all(r.success for r in refined)
    assert (rows(catalog, "silver_trades_binance"), rows(catalog, "silver_trades_kraken"), rows(catalog, "trades_dlq")) == (20, 10, 0)
    passed = {e.check_name for r in refined for e in r.get_asset_check_evaluations() if e.passed}
    assert passed >= {"bronze_equals_silver_plus_dlq", "trades_dlq_rate"}

    gold = [by_hand(defs, instance, "gold_trades") for _ in range(2)]
    assert [written(g, "build_gold")["gold_trades"][0] for g in gold] == [20, 10]
    ids = load(catalog, "market", "gold_trades").scan(selected_fields=("message_id",)).to_arrow()["message_id"].to_pylist()
    assert sorted(ids) == sorted(produced.valid_ids) and len(ids) == 30


def k2_environment(settings, dagster_home: Path) -> dict:
    """The environment under which `load_settings()` in a fresh process yields this test's settings."""
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "DAGSTER_HOME": str(dagster_home),
        "K2_STATE_DIR": str(settings.state_dir),
        "K2_KAFKA__PORT": str(settings.kafka.port),
        "K2_KAFKA__CONTROLLER_PORT": str(settings.kafka.controller_port),
        "K2_TOPICS__TRADES_PREFIX": settings.topics.trades_prefix,
        "K2_TOPICS__DLQ": settings.topics.dlq,
        "K2_TOPICS__FEED_GAPS": settings.topics.feed_gaps,
    }


def test_dagster_asset_materialize_cli_needs_no_offsets(settings, catalog, tmp_path):
    produce_valid(settings, range(12))
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "k2_platform.definitions", "--select", "bronze_trades"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=k2_environment(settings, tmp_path),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Missing required config entry" not in result.stdout + result.stderr
    assert rows(catalog, "bronze_trades") == 12


def test_a_range_with_only_one_end_is_refused_clearly():
    with pytest.raises(Failure, match="gives only one of start and end: give both offset maps, or neither to drain the current backlog"):
        RangeConfig(start='{"t":{"0":5}}').offset_range(lambda: pytest.fail("the backlog must not be read"))
