"""A late trade end to end: the replay exchange holds one trade back (WebSocket and REST) and sends it after
the rest; bars are built from gold without it; once the next drain brings it into gold, the bars sensor
requests exactly the partitions covering its hour, and the rebuilt bars equal the reference with it."""

from __future__ import annotations

import json

import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from pyiceberg.expressions import GreaterThanOrEqual

from k2_platform.definitions import build_definitions
from k2_platform.ingest.replay.faults import FaultPlan
from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.tables import ensure_all_tables, load
from k2_platform_tests.assets.bar_harness import BAR_KEY, bars_frame, reference_bars, run_requests, tick
from k2_platform_tests.assets.dagster_steps import run_steps, temp_instance
from k2_platform_tests.ingest.conftest import FIRST_ID, RECORDED_TRADES, run_ingest, start_replay

pytestmark = [pytest.mark.integration, pytest.mark.dagster, pytest.mark.slow]

LATE_ID = FIRST_ID + 3000  # traded 2024-08-08T23:56:52.186Z
LATE_MINUTE_US = 1_723_161_360_000_000
MIDNIGHT_US = 1_723_161_600_000_000


def _files_after_midnight(catalog, namespace: str) -> set[str]:
    bars = load(catalog, namespace, "ohlcv_1m")
    return {t.file.file_path for t in bars.scan(row_filter=GreaterThanOrEqual("open_time", MIDNIGHT_US)).plan_files()}


def _requested(result) -> set[tuple[str, str, str]]:
    return {(r.job_name, r.tags[ASSET_PARTITION_RANGE_START_TAG], r.tags[ASSET_PARTITION_RANGE_END_TAG]) for r in result.run_requests}


def test_a_late_trade_rebuilds_only_the_partitions_it_touches_to_the_right_value(settings, binance_recordings, tmp_path):
    # One drain run takes all but the last record, so the held-back trade (sent last) reaches gold one run later.
    lakehouse = settings.lakehouse.model_copy(update={"max_records_per_run": RECORDED_TRADES - 1})
    ingest = settings.ingest.model_copy(update={"backoff_initial_s": 0.01, "metrics_port": 0, "linger_ms": 5})
    settings = settings.model_copy(update={"lakehouse": lakehouse, "ingest": ingest})
    catalog, namespace = open_catalog(settings), settings.catalog.namespace
    ensure_all_tables(catalog, namespace)
    # 300x the recorded pace (about 2 s): the feed's REST repair of the gap runs while the trade is still held back.
    with start_replay(binance_recordings, FaultPlan(hold_back=(LATE_ID, 10**9)), speed=300) as server:
        run_ingest(settings, server.url, ["binance"], ["BTCUSDT"], RECORDED_TRADES)
    defs, instance = build_definitions(settings), temp_instance(tmp_path)

    assert all(r.success for r in run_steps(defs, instance, "drain_bronze", "refine_silver", "build_gold"))
    gold = load(catalog, namespace, "gold_trades").scan().to_arrow()
    assert gold.num_rows == RECORDED_TRADES - 1 and str(LATE_ID) not in set(gold["trade_id"].to_pylist())
    first = tick(defs, instance, None)
    assert _requested(first) == {
        ("build_ohlcv_1m", "2024-08-08-23:00", "2024-08-09-00:00"),
        ("build_ohlcv_1h", "2024-08-08", "2024-08-09"),
        ("build_ohlcv_1d", "2024-08-08", "2024-08-09"),
    }
    assert all(r.success for r in run_requests(defs, instance, first))
    before = bars_frame(catalog, namespace, "1m")
    late_bar_before = before[before["open_time"] == LATE_MINUTE_US].iloc[0]
    files_after_midnight = _files_after_midnight(catalog, namespace)

    assert all(r.success for r in run_steps(defs, instance, "drain_bronze", "refine_silver", "build_gold"))  # the late trade lands in gold
    assert load(catalog, namespace, "gold_trades").scan().to_arrow().num_rows == RECORDED_TRADES
    second = tick(defs, instance, first.cursor)
    assert _requested(second) == {
        ("build_ohlcv_1m", "2024-08-08-23:00", "2024-08-08-23:00"),
        ("build_ohlcv_1h", "2024-08-08", "2024-08-08"),
        ("build_ohlcv_1d", "2024-08-08", "2024-08-08"),
    }
    assert json.loads(second.cursor)["snapshot_id"] == load(catalog, namespace, "gold_trades").current_snapshot().snapshot_id
    assert all(r.success for r in run_requests(defs, instance, second))

    for interval in ("1m", "1h", "1d"):
        built, expected = bars_frame(catalog, namespace, interval), reference_bars(binance_recordings, interval)
        assert list(built[BAR_KEY].itertuples(index=False)) == list(expected[BAR_KEY].itertuples(index=False))
        for column in expected.columns:
            assert built[column].tolist() == expected[column].tolist(), f"{interval} {column}"
    after = bars_frame(catalog, namespace, "1m")
    assert after[after["open_time"] == LATE_MINUTE_US].iloc[0]["trade_count"] == late_bar_before["trade_count"] + 1
    # The hour after midnight was not rebuilt: its bars are the very files and rows written before.
    assert _files_after_midnight(catalog, namespace) == files_after_midnight
    assert after[after["open_time"] >= MIDNIGHT_US].reset_index(drop=True).equals(before[before["open_time"] >= MIDNIGHT_US].reset_index(drop=True))
    third = tick(defs, instance, second.cursor)
    assert not third.run_requests and third.skip_message == "no gold change to rebuild"
