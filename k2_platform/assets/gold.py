"""build_gold: all exchanges into gold_trades, one row per message_id, hourly partitions, sorted by (trade_time, exchange, symbol, sequence)."""

from __future__ import annotations

from ..lakehouse import quality
from ..lakehouse.backlog import gold_backlog
from ..lakehouse.gold import TABLE, build_gold
from ..lakehouse.refine import silver_table
from ..settings import EXCHANGES
from .drain_asset import BatchCheck, DrainStep, one_table, table_spec

GOLD = DrainStep(
    name="build_gold",
    tables=(
        table_spec(
            TABLE,
            "gold",
            "Unified trades of all exchanges, unique by message_id (also against rows already in gold), "
            "hour(trade_time) partitions, sorted by (trade_time, exchange, symbol, sequence). `k2.kafka_offsets` = Kafka positions fully "
            "reflected here: the query layer's hybrid read continues from them.",
            deps=[silver_table(e) for e in EXCHANGES],
        ),
    ),
    backlog=gold_backlog,
    drain=one_table(TABLE, build_gold),
    checks=(
        BatchCheck(
            "gold_message_id_unique", TABLE, quality.message_ids_new, "Guard, before the write: no message_id twice in the batch or already in gold."
        ),
        BatchCheck(
            "gold_rows_valid",
            TABLE,
            quality.trade_rows_valid,
            "Guard, before the write: typed decimals, positive price/quantity, side, no future trades.",
        ),
    ),
    description="silver watermarks vs gold_trades' -> one gold run per range (triggered by silver snapshots).",
)
