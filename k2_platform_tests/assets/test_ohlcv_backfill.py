"""A backfill of ohlcv_1m over 50 hourly partitions through Dagster's own asset-backfill machinery (what
the UI's backfill dialog creates, run by the backfill daemon's iteration), on a real instance."""

from __future__ import annotations

import logging
import math

import pyarrow as pa
import pytest
from dagster import AssetKey, DagsterInstance
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.storage.dagster_run import RunsFilter
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.backfill import execute_backfill_iteration

from k2_platform.definitions import build_definitions
from k2_platform.lakehouse.tables import load
from k2_platform_tests.assets.bar_harness import run_range
from k2_platform_tests.query.gold_fixtures import append_gold, trade

pytestmark = [pytest.mark.dagster, pytest.mark.slow]

HOURS = 50
START_US = 1_723_075_200_000_000  # 2024-08-08T00:00Z
TEN_MINUTES = 600_000_000


def _instance(tmp_path) -> DagsterInstance:
    """A persistent instance whose submitted runs start at once and execute in this process (Dagster's test launcher)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n"
        "run_launcher:\n  module: dagster._core.launcher.sync_in_memory_run_launcher\n  class: SyncInMemoryRunLauncher\n"
    )
    return DagsterInstance.from_config(str(home))


def _bars(catalog, namespace: str) -> pa.Table:
    return load(catalog, namespace, "ohlcv_1m").scan().to_arrow().sort_by([("open_time", "ascending"), ("symbol", "ascending")])


def test_backfill_over_50_hourly_partitions_runs_as_few_runs_and_reruns_change_nothing(bar_settings, bar_catalog, tmp_path, monkeypatch):
    namespace = bar_settings.catalog.namespace
    # Two symbols, one trade each every ten minutes for 50 hours: 300 distinct minutes per symbol.
    records = [trade(i, symbol, t_us=START_US + i * TEN_MINUTES + 1_000) for symbol in ("BTCUSDT", "ETHUSDT") for i in range(HOURS * 6)]
    append_gold(load(bar_catalog, namespace, "gold_trades"), records, {})
    # The code location is K2's own `defs`; its k2 resource reads the settings from the environment at run time.
    monkeypatch.setenv("K2_STATE_DIR", str(bar_settings.state_dir))
    instance = _instance(tmp_path)
    origin = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="k2_platform.definitions", attribute="defs"), location_name="k2")
    partitions = [f"2024-08-{8 + h // 24:02d}-{h % 24:02d}:00" for h in range(HOURS)]
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace:
        backfill = PartitionBackfill.from_asset_partitions(
            backfill_id="bars50",
            asset_graph=workspace.create_request_context().asset_graph,
            partition_names=partitions,
            asset_selection=[AssetKey("ohlcv_1m")],
            backfill_timestamp=1_780_000_000.0,
            tags={},
            dynamic_partitions_store=instance,
            all_partitions=False,
            title="50 hours of minute bars",
            description=None,
            run_config=None,
        )
        instance.add_backfill(backfill)
        for _ in range(10):
            errors = [e for e in execute_backfill_iteration(workspace, logging.getLogger("backfill")) if e is not None]
            assert not errors, errors
            if instance.get_backfill("bars50").status != BulkActionStatus.REQUESTED:
                break
    assert instance.get_backfill("bars50").status == BulkActionStatus.COMPLETED_SUCCESS
    runs = instance.get_runs(RunsFilter(tags={"dagster/backfill": "bars50"}))
    per_run = bar_settings.bars.max_partitions_per_run
    assert len(runs) == math.ceil(HOURS / per_run) == 2
    assert all(r.is_success for r in runs)

    bars = _bars(bar_catalog, namespace)
    assert bars.num_rows == 2 * HOURS * 6
    assert len(set(zip(bars["symbol"].to_pylist(), bars["open_time"].to_pylist()))) == bars.num_rows  # no bar twice
    assert sum(bars["trade_count"].to_pylist()) == len(records)

    defs = build_definitions(bar_settings)
    assert run_range(defs, instance, "1m", partitions[7]).success
    assert _bars(bar_catalog, namespace).equals(bars)
