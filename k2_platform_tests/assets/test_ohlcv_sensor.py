"""The bars sensor's decisions on a frozen clock: minute bars follow every gold snapshot; hour and day bars
of windows in progress at most every bars.coarse_interval_s, and at once when an ended hour changed."""

from __future__ import annotations

import json

import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._core.test_utils import freeze_time

from k2_platform.definitions import build_definitions
from k2_platform.lakehouse.tables import load
from k2_platform_tests.assets.bar_harness import tick
from k2_platform_tests.assets.dagster_steps import temp_instance
from k2_platform_tests.query.gold_fixtures import append_gold, trade

pytestmark = pytest.mark.dagster

NOW = 1_723_163_400.0  # 2024-08-09T00:30Z: hour 00 is in progress, hour 23 of the 8th has ended
MINUTE_US = 60_000_000


def _at(minute_of_hour_23: int, seq: int) -> dict:
    return trade(seq, t_us=int(NOW * 1e6) - 90 * MINUTE_US + minute_of_hour_23 * MINUTE_US)


def _requested(result) -> set[tuple[str, str, str]]:
    return {(r.job_name, r.tags[ASSET_PARTITION_RANGE_START_TAG], r.tags[ASSET_PARTITION_RANGE_END_TAG]) for r in result.run_requests}


def test_minute_bars_follow_each_snapshot_coarse_bars_wait_unless_an_ended_hour_changed(bar_settings, bar_catalog, tmp_path):
    gold = load(bar_catalog, bar_settings.catalog.namespace, "gold_trades")
    append_gold(gold, [_at(m, m + 1) for m in (10, 50, 65, 85)], {})  # 23:10, 23:50, 00:05, 00:25
    defs, instance = build_definitions(bar_settings), temp_instance(tmp_path)
    with freeze_time(NOW):
        first = tick(defs, instance, None)
    assert _requested(first) == {
        ("build_ohlcv_1m", "2024-08-08-23:00", "2024-08-09-00:00"),
        ("build_ohlcv_1h", "2024-08-08", "2024-08-09"),
        ("build_ohlcv_1d", "2024-08-08", "2024-08-09"),
    }

    append_gold(gold, [_at(87, 100)], {})  # 00:27, the hour in progress
    with freeze_time(NOW + 10):
        second = tick(defs, instance, first.cursor)
    assert _requested(second) == {("build_ohlcv_1m", "2024-08-09-00:00", "2024-08-09-00:00")}
    assert json.loads(second.cursor)["coarse_pending"] == [478656]  # hours since the epoch: 2024-08-09T00
    with freeze_time(NOW + 20):
        third = tick(defs, instance, second.cursor)
    assert not third.run_requests and third.skip_message == "no gold change to rebuild"
    with freeze_time(NOW + 61):
        fourth = tick(defs, instance, third.cursor)
    assert _requested(fourth) == {("build_ohlcv_1h", "2024-08-09", "2024-08-09"), ("build_ohlcv_1d", "2024-08-09", "2024-08-09")}

    append_gold(gold, [_at(30, 200)], {})  # a late trade at 23:30: an ended hour, rebuilt at once at every size
    with freeze_time(NOW + 70):
        fifth = tick(defs, instance, fourth.cursor)
    assert _requested(fifth) == {
        ("build_ohlcv_1m", "2024-08-08-23:00", "2024-08-08-23:00"),
        ("build_ohlcv_1h", "2024-08-08", "2024-08-08"),
        ("build_ohlcv_1d", "2024-08-08", "2024-08-08"),
    }
