"""The bar builder and the bar reads without Dagster: exact VWAP rounding, open/close by (trade_time, sequence),
partition-exact rewrites, the JSON rows the API serves, and the pinned Definitions' settings-driven parts."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from dagster import AssetKey

from k2_platform.definitions import build_definitions
from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.tables import ensure_all_tables, load
from k2_platform.ops.cli import main
from k2_platform.query.bar_build import build_bars, exact_vwap
from k2_platform.query.bar_json import RenderedBarFiles
from k2_platform.query.bars import BAR_COLUMNS, bars
from k2_platform.query.engine import QueryEngine
from k2_platform.query.rows import json_row
from k2_platform.settings import BarsSettings, Settings

from .gold_fixtures import T0, append_gold, trade

HOUR = 3_600_000_000
HOUR0 = T0 // HOUR * HOUR  # 2024-08-08T23:00Z
DAY = 24 * HOUR


@pytest.fixture
def engine(tmp_path):
    settings = Settings(state_dir=tmp_path / "state")
    catalog = open_catalog(settings)
    ensure_all_tables(catalog, settings.catalog.namespace)
    return QueryEngine.from_settings(settings, catalog)


def _gold(engine):
    return load(engine.tables.catalog, engine.tables.namespace, "gold_trades")


def test_vwap_is_the_exact_quotient_rounded_half_even_at_18_decimals():
    assert exact_vwap(Decimal("2"), Decimal("3")) == Decimal("0.666666666666666667")
    assert exact_vwap(Decimal("0.000000000000000001"), Decimal("2")) == Decimal("0")  # a tie rounds to the even 0 ...
    assert exact_vwap(Decimal("0.000000000000000003"), Decimal("2")) == Decimal("0.000000000000000002")  # ... and 1.5 to 2
    # 20 integer digits and 18 decimals exact: beyond DOUBLE and beyond Decimal's default 28 digits.
    assert exact_vwap(Decimal("86419752308641975230.864197523086419746"), Decimal("7")) == Decimal("12345678901234567890.123456789012345678")


def test_open_and_close_follow_trade_time_then_sequence_as_a_number(engine):
    # One microsecond, sequences 9 and 10: as strings "10" < "9", as numbers 9 comes first.
    same = T0 // 60_000_000 * 60_000_000 + 1_000
    append_gold(_gold(engine), [trade(10, t_us=same, price="2"), trade(9, t_us=same, price="1"), trade(11, t_us=same - 1, price="3")], {})
    outcome = build_bars(engine, "1m", HOUR0, HOUR0 + HOUR)
    [bar] = bars(engine, "BTCUSDT", "1m", HOUR0, HOUR0 + HOUR, 10).to_pylist()
    assert (outcome.bars, bar["open"], bar["close"], bar["high"], bar["low"], bar["trade_count"]) == (1, 3, 2, 3, 1, 3)
    assert bar["taker_buy_base_volume"] == Decimal("0.04")  # trades 9 and 11 (odd) are BUY in the fixture
    assert bar["vwap"] == exact_vwap(bar["quote_volume"], bar["volume"]) == Decimal("2")


def test_a_rewrite_replaces_exactly_its_partition_and_the_api_rows_match(engine):
    append_gold(_gold(engine), [trade(i, t_us=HOUR0 + i * 600_000_000) for i in range(1, 12)], {})  # 23:10 .. 00:50
    build_bars(engine, "1m", HOUR0, HOUR0 + 2 * HOUR)
    append_gold(_gold(engine), [trade(50, t_us=HOUR0 + 5 * 600_000_000 + 1, price="70000")], {})  # late, into 23:50
    outcome = build_bars(engine, "1m", HOUR0, HOUR0 + HOUR)
    table = load(engine.tables.catalog, engine.tables.namespace, "ohlcv_1m")
    summary = table.current_snapshot().summary
    assert outcome.bars == 5 and json.loads(json.dumps(summary.additional_properties))["k2.bars.range_us"] == f"{HOUR0},{HOUR0 + HOUR}"
    rows = bars(engine, "BTCUSDT", "1m", HOUR0, HOUR0 + 2 * HOUR, 100)
    assert rows.num_rows == 11 and rows["trade_count"].to_pylist() == [1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1]
    assert rows["high"].to_pylist()[4] == Decimal("70000")
    rendered = RenderedBarFiles(16).bars_json(engine, "BTCUSDT", "1m", HOUR0 + 600_000_000, HOUR0 + 2 * HOUR, 4)
    expected = bars(engine, "BTCUSDT", "1m", HOUR0 + 600_000_000, HOUR0 + 2 * HOUR, 4)
    times = frozenset({"open_time", "close_time"})
    as_us = [
        {**r, **{t: int(r[t].timestamp()) * 1_000_000 + r[t].microsecond for t in times}} for r in expected.select(list(BAR_COLUMNS)).to_pylist()
    ]
    assert len(rendered) == 4 and [json.loads(r) for r in rendered] == [json_row(r, times) for r in as_us]
    with pytest.raises(ValueError, match="not aligned"):
        build_bars(engine, "1h", HOUR0 + 1, HOUR0 + HOUR)


def test_partitions_backfill_policy_freshness_and_sensor_interval_come_from_settings(tmp_path):
    bars_settings = BarsSettings(
        start="2024-08-05", max_partitions_per_run=12, fresh_1m_s=120, fresh_1h_s=4000, fresh_1d_s=100000, sensor_interval_s=7
    )
    defs = build_definitions(Settings(state_dir=tmp_path / "state", bars=bars_settings))
    graph = defs.resolve_asset_graph()
    for interval, window, first in (("1m", 120, "2024-08-05-00:00"), ("1h", 4000, "2024-08-05"), ("1d", 100000, "2024-08-05")):
        node = graph.get(AssetKey(f"ohlcv_{interval}"))
        assert node.freshness_policy.fail_window.to_timedelta().total_seconds() == window
        assert node.partitions_def.get_first_partition_key() == first
        assert node.backfill_policy.max_partitions_per_run == 12
    assert defs.get_sensor_def("bars_follow_gold").minimum_interval_seconds == 7
    assert "duckdb" in defs.resources


def test_k2_query_ohlcv_serves_the_built_bars(engine, tmp_path, monkeypatch, capsys):
    append_gold(_gold(engine), [trade(i, t_us=HOUR0 + i * 600_000_000) for i in range(1, 4)], {})  # 23:10, 23:20, 23:30
    build_bars(engine, "1h", HOUR0 // DAY * DAY, HOUR0 // DAY * DAY + DAY)
    monkeypatch.setenv("K2_STATE_DIR", str(tmp_path / "state"))  # the engine fixture's catalog
    assert (
        main(
            [
                "query",
                "ohlcv",
                "BTCUSDT",
                "--interval",
                "1h",
                "--start",
                "2024-08-08T00:00:00Z",
                "--end",
                "2024-08-09T00:00:00Z",
                "--exchange",
                "binance",
                "--format",
                "json",
            ]
        )
        == 0
    )
    [bar] = json.loads(capsys.readouterr().out)
    assert (bar["open_time"], bar["close_time"], bar["trade_count"], bar["volume"]) == (
        "2024-08-08T23:00:00+00:00",
        "2024-08-08T23:59:59.999999+00:00",
        3,
        "0.06",
    )
