"""Data-quality rules of DESIGN section 4, as plain functions over Arrow batches and tables.

Each returns a RuleResult; the Dagster layer turns them into asset-check results. Batch rules
take the Batch a commit is about to write (a failing ERROR rule stops that write); the table-wide
rules at the end look at the committed tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from ..settings import Settings
from .bronze import TABLE as BRONZE
from .gold import TABLE as GOLD, already_in_gold, gold_topics
from .offsets import TopicPartition, committed, flatten
from .positions import position_filter
from .refine import DLQ
from .tables import load


@dataclass
class RuleResult:
    passed: bool
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    """The exact rows one commit is about to write into `table`, for the Kafka windows `todo`."""

    settings: Settings
    table: Table
    todo: dict[TopicPartition, tuple[int, int]]
    rows: pa.Table

    def records(self, topics=None) -> int:
        """Kafka records the pending windows span (of `topics` only, when given)."""
        return sum(hi - lo for (topic, _p), (lo, hi) in self.todo.items() if topics is None or topic in topics)


SAMPLE = 10  # offending ids listed in a failed check's metadata


def _count(mask) -> int:
    return int(pc.sum(pc.fill_null(mask, True)).as_py() or 0)


def trade_rows_valid(batch: Batch) -> RuleResult:
    """Guard for silver/gold rows: typed, decimal(38,18), price/quantity > 0, side, no future trades."""
    rows, max_future_skew_s = batch.rows, batch.settings.max_future_skew_s
    expected = pa.decimal128(38, 18)
    zero = pa.scalar(Decimal(0), expected)
    skew_us = int(max_future_skew_s * 1e6)
    trade_us, ingest_us = rows["trade_time"].cast(pa.int64()), rows["ingest_time"].cast(pa.int64())
    required = ("message_id", "symbol", "trade_id", "price", "quantity", "side")
    masks = {
        "price_not_positive": pc.less_equal(rows["price"], zero),
        "quantity_not_positive": pc.less_equal(rows["quantity"], zero),
        "side_not_buy_sell": pc.invert(pc.is_in(rows["side"], value_set=pa.array(["BUY", "SELL"], rows["side"].type))),
        "trade_time_in_future": pc.greater(pc.subtract(trade_us, ingest_us), skew_us),
    }
    problems = {
        "wrong_decimal_type": sum(rows.schema.field(c).type != expected for c in ("price", "quantity", "quote_quantity")),
        **{name: _count(mask) for name, mask in masks.items()},
        "null_required": sum(rows[c].null_count for c in required),
    }
    bad = {k: v for k, v in problems.items() if v}
    offending = [pc.fill_null(m, True) for m in masks.values()] + [pc.is_null(rows[c]) for c in required]
    any_bad = offending[0]
    for mask in offending[1:]:
        any_bad = pc.or_(any_bad, mask)
    return RuleResult(
        not bad,
        {
            "rows_checked": rows.num_rows,
            **problems,
            "offending_message_ids": rows.filter(any_bad)["message_id"].to_pylist()[:SAMPLE] if bad and rows.num_rows else [],
            "explanation": "rows about to be written break: " + ", ".join(bad) if bad else "all rows conform",
        },
    )


def range_complete(batch: Batch) -> RuleResult:
    """Guard for Kafka drains: every offset of the range exactly once."""
    rows, expected_rows = batch.rows, batch.records()
    distinct = rows.group_by(["topic", "partition", "offset"]).aggregate([]).num_rows if rows.num_rows else 0
    ok = rows.num_rows == expected_rows == distinct
    return RuleResult(
        ok,
        {
            "rows": rows.num_rows,
            "expected_rows": expected_rows,
            "distinct_positions": distinct,
            "explanation": "one row per offset of the range"
            if ok
            else "a Kafka offset of the range is missing or present twice: the write was stopped",
        },
    )


def message_ids_new(batch: Batch) -> RuleResult:
    """Guard for gold: ids unique within the batch and not already in gold."""
    rows = batch.rows
    already_present = int(pc.sum(already_in_gold(batch.table, rows)).as_py() or 0)
    distinct = pc.count_distinct(rows["message_id"]).as_py() if rows.num_rows else 0
    ok = distinct == rows.num_rows and already_present == 0
    return RuleResult(
        ok,
        {
            "rows": rows.num_rows,
            "distinct_message_ids": distinct,
            "already_in_gold": already_present,
            "explanation": "every message_id is new and unique" if ok else "duplicate message_id would be written",
        },
    )


def dlq_rows_explained(batch: Batch) -> RuleResult:
    """Guard for the DLQ: every row names its stage and reason."""
    rows = batch.rows
    ok = rows.num_rows == 0 or (pc.min(pc.utf8_length(rows["reason"])).as_py() > 0 and pc.min(pc.utf8_length(rows["stage"])).as_py() > 0)
    return RuleResult(ok, {"rows": rows.num_rows, "explanation": "every DLQ row names its stage and reason"})


def dlq_rate(batch: Batch) -> RuleResult:
    """The share of the batch's trade records rejected stays below Settings.lakehouse.max_dlq_rate."""
    rejected, total, max_rate = batch.rows.num_rows, batch.records(gold_topics(batch.settings)), batch.settings.lakehouse.max_dlq_rate
    rate = rejected / total if total else 0.0
    return RuleResult(
        rate <= max_rate,
        {
            "rejected": rejected,
            "records": total,
            "dlq_rate": round(rate, 6),
            "max_dlq_rate": max_rate,
            "explanation": f"{rate:.2%} of the batch was rejected (threshold {max_rate:.2%}); see trades_dlq.reason",
        },
    )


def gaps_repaired(batch: Batch) -> RuleResult:
    """Every trade-id gap of the batch was repaired from REST history (unrepaired gaps are stored, and reported)."""
    rows = batch.rows
    unrepaired = rows.filter(pc.invert(rows["repaired"])) if rows.num_rows else rows
    missing = int(pc.sum(pc.subtract(unrepaired["missing_count"], unrepaired["repaired_count"])).as_py() or 0) if unrepaired.num_rows else 0
    explanation = (
        f"{unrepaired.num_rows} gap(s) not repaired: {missing} trade(s) missing, see feed_gaps"
        if unrepaired.num_rows
        else "every detected trade-id gap was repaired from REST history"
    )
    return RuleResult(
        unrepaired.num_rows == 0,
        {"gaps": rows.num_rows, "unrepaired_gaps": unrepaired.num_rows, "trades_missing": missing, "explanation": explanation},
    )


def _rows_below(catalog: Catalog, ns: str, table: str, marks: dict, cols: tuple[str, str, str]) -> int:
    windows = {tp: (0, end) for tp, end in marks.items() if end > 0}
    if not windows:
        return 0
    return load(catalog, ns, table).scan(row_filter=position_filter(windows, *cols), selected_fields=(cols[2],)).to_arrow().num_rows


def bronze_reconciles(settings: Settings, catalog: Catalog) -> RuleResult:
    """Up to where silver and the DLQ have both caught up: bronze rows = silver rows + DLQ rows."""
    ns = settings.catalog.namespace
    dlq_marks = flatten(committed(load(catalog, ns, DLQ)))
    source = ("source_topic", "source_partition", "source_offset")
    marks, silver_rows = {}, 0
    for topic, silver in gold_topics(settings).items():
        silver_marks = {tp: min(o, dlq_marks.get(tp, 0)) for tp, o in flatten(committed(load(catalog, ns, silver))).items() if tp[0] == topic}
        marks.update(silver_marks)
        silver_rows += _rows_below(catalog, ns, silver, silver_marks, source)
    marks.update({tp: o for tp, o in dlq_marks.items() if tp[0] == settings.topics.dlq})
    bronze_rows = _rows_below(catalog, ns, BRONZE, marks, ("topic", "partition", "offset"))
    dlq_rows = _rows_below(catalog, ns, DLQ, marks, source)
    ok = bronze_rows == silver_rows + dlq_rows
    return RuleResult(
        ok,
        {
            "bronze_rows": bronze_rows,
            "silver_rows": silver_rows,
            "dlq_rows": dlq_rows,
            "explanation": "bronze = silver + DLQ"
            if ok
            else f"bronze has {bronze_rows} rows but silver + DLQ hold {silver_rows + dlq_rows}: records lost or duplicated",
        },
    )


def gold_within_silver(settings: Settings, catalog: Catalog) -> RuleResult:
    """Gold holds at most silver's rows, and every message_id once, table-wide."""
    ns = settings.catalog.namespace
    gold = load(catalog, ns, GOLD)
    gold_rows = gold.scan(selected_fields=("message_id",)).to_arrow()["message_id"]
    silver_rows = sum(load(catalog, ns, s).scan(selected_fields=("message_id",)).to_arrow().num_rows for s in gold_topics(settings).values())
    counts = pa.table({"message_id": gold_rows}).group_by("message_id").aggregate([("message_id", "count")]) if len(gold_rows) else None
    duplicated = counts.filter(pc.greater(counts["message_id_count"], 1))["message_id"].to_pylist() if counts is not None else []
    ok = len(gold_rows) <= silver_rows and not duplicated
    return RuleResult(
        ok,
        {
            "gold_rows": len(gold_rows),
            "gold_distinct_message_ids": counts.num_rows if counts is not None else 0,
            "silver_rows": silver_rows,
            "duplicated_message_ids": sorted(duplicated)[:SAMPLE],
            "explanation": "gold <= silver and message_id unique"
            if ok
            else f"gold holds {len(gold_rows)} rows for {silver_rows} silver rows; {len(duplicated)} message_id(s) stored more than once",
        },
    )
