"""Asset checks under real Dagster runs: inject one kind of bad data, see exactly the right check fail,
with the severity it is designed to have and metadata that names the problem."""

import uuid
from decimal import Decimal

import pyarrow as pa
import pytest
from dagster import AssetCheckSeverity, DagsterInstance

from k2_platform.checks.tables import bronze_equals_silver_plus_dlq
from k2_platform.definitions import build_definitions
from k2_platform.lakehouse.backlog import gold_backlog, refine_backlog
from k2_platform.lakehouse.tables import load
from k2_platform_tests.assets.dagster_steps import (
    append_out_of_band,
    evaluations,
    offsets_of,
    plain_metadata,
    produce_trades,
    produce_valid,
    run_steps,
    snapshot_count,
)

pytestmark = [pytest.mark.integration, pytest.mark.dagster]

NS = "market"
ERROR, WARN = AssetCheckSeverity.ERROR, AssetCheckSeverity.WARN


@pytest.fixture
def medallion(settings, catalog):
    return build_definitions(settings), DagsterInstance.ephemeral()


def failed(results) -> dict:
    return {name: e for name, e in evaluations(results).items() if not e.passed}


def test_bad_row_in_silver_trips_the_gold_guard_and_gold_is_not_written(settings, catalog, medallion):
    defs, instance = medallion
    produce_valid(settings, range(30))  # 20 binance + 10 kraken trades
    assert all(r.success for r in run_steps(defs, instance, "drain_bronze", "refine_silver"))
    silver = load(catalog, NS, "silver_trades_binance")
    offsets_before = offsets_of(catalog, NS, "silver_trades_binance")
    bad_id = str(uuid.uuid4())
    bad = silver.scan().to_arrow().slice(0, 1)
    bad = bad.set_column(bad.schema.get_field_index("message_id"), "message_id", pa.array([bad_id], bad.schema.field("message_id").type))
    bad = bad.set_column(bad.schema.get_field_index("price"), "price", pa.array([Decimal(0)], bad.schema.field("price").type))
    bad = bad.set_column(bad.schema.get_field_index("side"), "side", pa.array(["HOLD"], bad.schema.field("side").type))
    append_out_of_band(catalog, NS, "silver_trades_binance", bad)
    # the repair append carries no offsets: silver's watermark must survive it (nothing to refine again)
    assert not refine_backlog(settings, catalog)

    runs = run_steps(defs, instance, "build_gold")
    assert [r.success for r in runs] == [False]
    checks = evaluations(runs)
    assert set(failed(runs)) == {"gold_rows_valid"}
    assert checks["gold_message_id_unique"].passed
    valid = checks["gold_rows_valid"]
    assert (valid.severity, valid.blocking) == (ERROR, True)
    assert plain_metadata(valid) == {
        "rows_checked": 31,
        "wrong_decimal_type": 0,
        "price_not_positive": 1,
        "quantity_not_positive": 0,
        "side_not_buy_sell": 1,
        "trade_time_in_future": 0,
        "null_required": 0,
        "offending_message_ids": [bad_id],
        "explanation": "rows about to be written break: price_not_positive, side_not_buy_sell",
    }
    # blocking means blocking before the write: gold got no snapshot, the whole range is still pending
    assert snapshot_count(catalog, NS, "gold_trades") == 0
    assert gold_backlog(settings, catalog).size == 30
    assert offsets_of(catalog, NS, "silver_trades_binance") == offsets_before


def test_duplicated_message_id_in_gold_trips_gold_uniqueness(settings, catalog, medallion):
    defs, instance = medallion
    produce_valid(settings, range(30))
    assert all(r.success for r in run_steps(defs, instance, "drain_bronze", "refine_silver", "build_gold"))
    assert not failed(run_steps(defs, instance))  # nothing ran, nothing failed
    gold = load(catalog, NS, "gold_trades").scan().to_arrow()
    assert gold.num_rows == 30
    dup = gold.slice(7, 1)
    append_out_of_band(catalog, NS, "gold_trades", dup)  # the same trade stored twice

    produce_valid(settings, range(100, 106))
    runs = run_steps(defs, instance, "drain_bronze", "refine_silver", "build_gold")
    assert all(r.success for r in runs)  # an after-commit check reports; it cannot undo the commit
    assert set(failed(runs)) == {"gold_within_silver"}
    unique = evaluations(runs)["gold_within_silver"]
    assert unique.severity == ERROR
    assert plain_metadata(unique) == {
        "gold_rows": 37,
        "gold_distinct_message_ids": 36,
        "silver_rows": 36,
        "duplicated_message_ids": [dup["message_id"][0].as_py()],
        "explanation": "gold holds 37 rows for 36 silver rows; 1 message_id(s) stored more than once",
    }
    assert load(catalog, NS, "gold_trades").scan().to_arrow().num_rows == 37  # the new 6 trades went in once


def test_bronze_row_without_silver_or_dlq_counterpart_fails_reconciliation(settings, catalog, medallion):
    defs, instance = medallion
    produce_valid(settings, range(30))
    assert all(r.success for r in run_steps(defs, instance, "drain_bronze", "refine_silver"))
    bronze = load(catalog, NS, "bronze_trades").scan().to_arrow()
    append_out_of_band(catalog, NS, "bronze_trades", bronze.slice(3, 1))  # a record bronze holds twice

    produce_valid(settings, range(100, 106))
    runs = run_steps(defs, instance, "drain_bronze", "refine_silver")
    # the check is blocking: the refine run fails loudly (its commits are made; nothing downstream of it runs in that run)
    assert [r.success for r in runs] == [True, False]
    assert "bronze_equals_silver_plus_dlq" in str(runs[1].failure_data_for_node(bronze_equals_silver_plus_dlq.node_def.name).error)
    assert set(failed(runs)) == {"bronze_equals_silver_plus_dlq"}
    reconcile = evaluations(runs)["bronze_equals_silver_plus_dlq"]
    assert reconcile.severity == ERROR
    assert plain_metadata(reconcile) == {
        "bronze_rows": 37,
        "silver_rows": 36,
        "dlq_rows": 0,
        "explanation": "bronze has 37 rows but silver + DLQ hold 36: records lost or duplicated",
    }


def test_dlq_rate_above_threshold_warns(settings, catalog, medallion):
    defs, instance = medallion
    stream = produce_trades(settings, 20, bad_every=10)  # records 5 and 15: garbage and truncated
    assert dict(stream.kinds) == {"valid": 18, "garbage": 1, "truncated": 1}
    runs = run_steps(defs, instance, "drain_bronze", "refine_silver")
    assert all(r.success for r in runs)
    assert set(failed(runs)) == {"trades_dlq_rate"}
    rate = evaluations(runs)["trades_dlq_rate"]
    assert rate.severity == WARN
    assert plain_metadata(rate) == {
        "rejected": 2,
        "records": 20,
        "dlq_rate": 0.1,
        "max_dlq_rate": 0.05,
        "explanation": "10.00% of the batch was rejected (threshold 5.00%); see trades_dlq.reason",
    }
    assert evaluations(runs)["bronze_equals_silver_plus_dlq"].passed
    reasons = sorted(load(catalog, NS, "trades_dlq").scan().to_arrow()["reason"].to_pylist())
    assert [r.split(":")[0] for r in reasons] == ["corrupt Avro body", "not an Avro trade record (first bytes 6e6f7420)"]
