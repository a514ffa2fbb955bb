"""End to end through real Dagster: sensors request runs, runs drain Kafka -> bronze -> silver/DLQ -> gold."""

from decimal import Decimal

import pyarrow.compute as pc
import pytest
from dagster import DagsterInstance

from k2_platform.lakehouse.offsets import KAFKA_OFFSETS_KEY, committed
from k2_platform.lakehouse.tables import load
from k2_platform_tests.assets.medallion_harness import drain_all
from k2_platform_tests.lakehouse.trade_stream import BAD_KINDS, build_stream, produce

pytestmark = [pytest.mark.integration, pytest.mark.dagster, pytest.mark.slow]


def test_100k_records_end_to_end_exactly_once(settings, catalog):
    settings = settings.model_copy(update={"lakehouse": settings.lakehouse.model_copy(update={"max_records_per_run": 40_000})})
    stream = build_stream(settings, 100_000)
    produce(settings, stream)
    instance = DagsterInstance.ephemeral()
    _defs, runs = drain_all(settings, instance)
    assert runs and all(r.success for r in runs)

    ns = settings.catalog.namespace
    bronze = load(catalog, ns, "bronze_trades").scan(selected_fields=("topic", "partition", "offset")).to_arrow()
    assert bronze.num_rows == stream.total == 100_000
    assert bronze.group_by(["topic", "partition", "offset"]).aggregate([]).num_rows == 100_000
    silver = {e: load(catalog, ns, f"silver_trades_{e}").scan().to_arrow() for e in ("binance", "kraken")}
    dlq = load(catalog, ns, "trades_dlq").scan().to_arrow()
    assert sum(t.num_rows for t in silver.values()) + dlq.num_rows == bronze.num_rows
    bad = sum(stream.kinds[k] for k in BAD_KINDS)
    assert dlq.num_rows == bad
    assert set(pc.unique(dlq["stage"]).to_pylist()) == {"decode", "validate"}
    gold = load(catalog, ns, "gold_trades").scan().to_arrow()
    assert gold.num_rows == len(stream.valid_ids)
    assert set(gold["message_id"].to_pylist()) == stream.valid_ids
    prices = set(gold["price"].to_pylist())
    assert {Decimal("61837.63"), Decimal("0.0000001234"), Decimal("105433.6")} == prices
    assert Decimal("46116860414") in set(gold["quantity"].to_pylist())
    # gold publishes the Kafka positions it fully reflects: every trade-topic record
    gold_offsets = committed(load(catalog, ns, "gold_trades"), KAFKA_OFFSETS_KEY)
    bronze_offsets = committed(load(catalog, ns, "bronze_trades"))
    assert gold_offsets == {t: ps for t, ps in bronze_offsets.items() if t != settings.topics.dlq}
    # every check evaluated in those runs passed
    checks = [e for r in runs for e in r.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed = [e.event_specific_data.check_name for e in checks if not e.event_specific_data.passed]
    assert checks and failed == []
