"""feed_gaps through real Dagster: gap records produced with the ingest side's encoder land in the
feed_gaps table exactly once, and unrepaired gaps fail the (WARN) gap check with their count."""

from datetime import UTC, datetime

import pytest
from confluent_kafka import Producer
from dagster import AssetCheckSeverity, DagsterInstance

from k2_platform.definitions import build_definitions
from k2_platform.lakehouse.tables import load
from k2_platform.schemas.feed_gap import FeedGap
from k2_platform_tests.assets.dagster_steps import evaluations, plain_metadata, run_step, snapshot_count
from k2_platform_tests.lakehouse.trade_stream import BASE_US

pytestmark = [pytest.mark.integration, pytest.mark.dagster]

GAPS = [
    FeedGap("binance", "BTCUSDT", 101, 120, 20, BASE_US, True, 20, "repaired from REST history"),
    FeedGap("kraken", "BTCUSD", 5000, 5999, 1000, BASE_US + 1, False, 0, "larger than max_repair_trades"),
    FeedGap("binance", "ETHUSDT", 7, 9, 3, BASE_US + 2, False, 1),
]
GARBAGE = b"{not json"
COLUMNS = ("exchange", "symbol", "first_missing_id", "last_missing_id", "missing_count", "detected_at", "repaired", "repaired_count", "detail")


def produce_gaps(settings, values: list[tuple[bytes, bytes]]) -> None:
    p = Producer({"bootstrap.servers": settings.kafka.bootstrap, "enable.idempotence": True, "acks": "all"})
    for key, value in values:
        p.produce(settings.topics.feed_gaps, value, key=key)
    assert p.flush(30) == 0


def as_row(gap: FeedGap) -> tuple:
    return (
        gap.exchange,
        gap.symbol,
        gap.first_missing_id,
        gap.last_missing_id,
        gap.missing_count,
        datetime.fromtimestamp(gap.detected_at / 1e6, UTC),
        gap.repaired,
        gap.repaired_count,
        gap.detail,
    )


def table_rows(catalog) -> list[tuple]:
    rows = load(catalog, "market", "feed_gaps").scan().to_arrow().to_pylist()
    return sorted(((tuple(r[c] for c in COLUMNS)), (r["source_topic"], r["source_partition"], r["source_offset"])) for r in rows)


def test_feed_gap_records_are_drained_exactly_once_and_unrepaired_gaps_warn(settings, catalog):
    defs, instance = build_definitions(settings), DagsterInstance.ephemeral()
    produce_gaps(settings, [(g.key(), g.encode()) for g in GAPS] + [(b"binance|BTCUSDT", GARBAGE)])

    runs = run_step(defs, instance, "drain_feed_gaps")
    assert [r.success for r in runs] == [True]
    rows = table_rows(catalog)
    assert len(rows) == 4
    assert sorted(values for values, _pos in rows if values[0] != "unknown") == sorted(as_row(g) for g in GAPS)
    ((garbage, _pos),) = [r for r in rows if r[0][0] == "unknown"]
    assert garbage[:5] == ("unknown", "unknown", 0, 0, 0) and garbage[6:8] == (False, 0)
    assert (
        garbage[8] == "undecodable gap record (feed gap is not JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)): {not json"
    )
    positions = [pos for _values, pos in rows]
    assert len(set(positions)) == 4 and {t for t, _p, _o in positions} == {settings.topics.feed_gaps}

    gaps_check = evaluations(runs)["feed_gaps_repaired"]
    assert (gaps_check.passed, gaps_check.severity) == (False, AssetCheckSeverity.WARN)
    assert plain_metadata(gaps_check) == {
        "gaps": 4,
        "unrepaired_gaps": 3,
        "trades_missing": 1002,
        "explanation": "3 gap(s) not repaired: 1002 trade(s) missing, see feed_gaps",
    }

    # exactly once: no further run is requested, and replaying the same run writes nothing
    assert run_step(defs, instance, "drain_feed_gaps") == []
    job = defs.resolve_job_def(defs.get_sensor_def("drain_feed_gaps").job_name)
    replay = job.execute_in_process(run_config=runs[0].dagster_run.run_config, instance=instance)
    materialization = replay.asset_materializations_for_node("drain_feed_gaps")[0]
    assert (materialization.metadata["committed"].value, materialization.metadata["rows_written"].value) == (False, 0)
    assert table_rows(catalog) == rows and snapshot_count(catalog, "market", "feed_gaps") == 1

    later = FeedGap("kraken", "ETHUSD", 40, 41, 2, BASE_US + 3, True, 2, "repaired from REST history")
    produce_gaps(settings, [(later.key(), later.encode())])
    runs = run_step(defs, instance, "drain_feed_gaps")
    assert [r.success for r in runs] == [True]
    assert sorted(v for v, _p in table_rows(catalog)) == sorted([as_row(later)] + [v for v, _p in rows])
    assert evaluations(runs)["feed_gaps_repaired"].passed  # the check judges each run's gaps
