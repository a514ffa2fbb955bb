"""drain_bronze: Kafka -> bronze_trades, raw and exactly once."""

from __future__ import annotations

from ..lakehouse import quality
from ..lakehouse.backlog import bronze_backlog
from ..lakehouse.bronze import TABLE, drain_to_bronze
from .drain_asset import BatchCheck, DrainStep, one_table, table_spec
from .kafka_sources import DLQ_TOPIC_KEY, TRADE_TOPIC_KEYS

BRONZE = DrainStep(
    name="drain_bronze",
    tables=(
        table_spec(
            TABLE,
            "bronze",
            "Raw Kafka records (value bytes, key, headers, topic/partition/offset, Kafka timestamp), "
            "exactly once. The snapshot summary `k2.offsets` holds the next offset per partition; each run drains one "
            "offset range.",
            deps=[*TRADE_TOPIC_KEYS.values(), DLQ_TOPIC_KEY],
            kinds=("kafka", "iceberg"),
        ),
    ),
    backlog=bronze_backlog,
    drain=one_table(TABLE, drain_to_bronze),
    checks=(
        BatchCheck(
            "bronze_range_complete", TABLE, quality.range_complete, "Guard, before the write: one row per offset of the run's range, none twice."
        ),
    ),
    description="Kafka end offsets vs bronze_trades' k2.offsets -> one run per offset range.",
)
