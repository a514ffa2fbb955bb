"""The bar assets materialized by real Dagster runs over gold built from the shared BTCUSDT recordings
(23:54 to 00:05, across midnight), against klines pandas computes straight from the raw frames."""

from __future__ import annotations

import pytest

from k2_platform.definitions import build_definitions
from k2_platform_tests.assets.bar_harness import BAR_KEY, bars_frame, gold_from_recordings, reference_bars, run_range
from k2_platform_tests.assets.dagster_steps import evaluations, temp_instance

pytestmark = pytest.mark.dagster

MINUTE_US = 60_000_000
FIRST_COMPLETE = 1_723_161_300_000_000  # 2024-08-08T23:55Z
LAST_COMPLETE = 1_723_161_840_000_000  # 2024-08-09T00:04Z


def test_bars_of_the_recordings_equal_an_independent_pandas_reference(bar_settings, bar_catalog, binance_recordings, tmp_path):
    namespace = bar_settings.catalog.namespace
    trades = gold_from_recordings(bar_catalog, namespace, binance_recordings)
    defs, instance = build_definitions(bar_settings), temp_instance(tmp_path)
    results = [
        run_range(defs, instance, "1m", "2024-08-08-23:00", "2024-08-09-00:00"),  # one run, across midnight
        run_range(defs, instance, "1h", "2024-08-08", "2024-08-09"),
        run_range(defs, instance, "1d", "2024-08-08", "2024-08-09"),
    ]
    assert all(r.success for r in results)
    assert {name: e.passed for name, e in evaluations(results).items()} == {"high_low_bound_open_close": True, "reconciles_with_gold": True}

    for interval in ("1m", "1h", "1d"):
        built, expected = bars_frame(bar_catalog, namespace, interval), reference_bars(binance_recordings, interval)
        assert list(built[BAR_KEY].itertuples(index=False)) == list(expected[BAR_KEY].itertuples(index=False))
        for column in expected.columns:
            assert built[column].tolist() == expected[column].tolist(), f"{interval} {column}"
    minutes = bars_frame(bar_catalog, namespace, "1m")
    complete = list(range(FIRST_COMPLETE, LAST_COMPLETE + MINUTE_US, MINUTE_US))
    assert set(complete) <= set(minutes["open_time"]) and len(complete) == 10
    assert sorted(bars_frame(bar_catalog, namespace, "1d")["open_time"]) == [1_723_075_200_000_000, 1_723_161_600_000_000]
    assert int(minutes["trade_count"].sum()) == trades
