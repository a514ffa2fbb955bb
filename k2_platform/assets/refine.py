"""refine_silver: decode + validate bronze into silver_trades_<exchange> and trades_dlq; every record lands in one of them."""

from __future__ import annotations

from ..checks.report import WARN
from ..lakehouse import quality
from ..lakehouse.backlog import refine_backlog
from ..lakehouse.bronze import TABLE as BRONZE_TABLE
from ..lakehouse.refine import DLQ, refine, silver_table
from ..settings import EXCHANGES
from .drain_asset import BatchCheck, DrainStep, table_spec

ROWS_VALID = (
    "Guard, before the write: typed decimals, price and quantity > 0, side BUY/SELL, trade_time within the skew "
    "tolerance, no nulls in required columns."
)

REFINE = DrainStep(
    name="refine_silver",
    tables=(
        *(
            table_spec(
                silver_table(e),
                "silver",
                f"Decoded, validated, typed {e} trades (decimal(38,18)); `k2.offsets`/`k2.kafka_offsets` "
                f"= Kafka positions of {e} bronze records accounted for.",
                deps=[BRONZE_TABLE],
            )
            for e in EXCHANGES
        ),
        table_spec(
            DLQ,
            "silver",
            "Every record that failed decode or validation (stage, reason, raw bytes, source position), plus "
            "the ingest service's rejects from the DLQ topic (stage ingest.*).",
            deps=[BRONZE_TABLE],
        ),
    ),
    backlog=refine_backlog,
    drain=refine,
    checks=(
        *(BatchCheck(f"{silver_table(e)}_rows_valid", silver_table(e), quality.trade_rows_valid, ROWS_VALID) for e in EXCHANGES),
        BatchCheck(
            "trades_dlq_reasons_recorded",
            DLQ,
            quality.dlq_rows_explained,
            "Guard, before the write: every DLQ row has a stage, a reason and its source position.",
        ),
        BatchCheck(
            "trades_dlq_rate", DLQ, quality.dlq_rate, "Share of the run's bronze records rejected stays below Settings.lakehouse.max_dlq_rate.", WARN
        ),
    ),
    description="bronze_trades' offsets vs silver/DLQ watermarks -> one refine run per range (triggered by bronze snapshots).",
)
