"""Kafka -> bronze_trades: raw records, exactly once."""

from __future__ import annotations

import pyarrow as pa
from pyiceberg.catalog import Catalog

from ..settings import EXCHANGES, Settings
from .exactly_once import CommitOutcome, commit_step
from .kafka_reader import read_range
from .memory import releases_memory
from .offsets import OffsetRange, select_positions
from .tables import load

TABLE = "bronze_trades"


def bronze_topics(settings: Settings) -> list[str]:
    """Every trade topic, plus the ingest DLQ topic: nothing that reached Kafka bypasses bronze."""
    return [settings.topics.trades(e) for e in EXCHANGES] + [settings.topics.dlq]


def bronze_rows(records: pa.Table, schema: pa.Schema) -> pa.Table:
    # The Kafka timestamp (producer time) is when the record entered the platform.
    return pa.Table.from_arrays(
        [
            records["topic"],
            records["partition"],
            records["offset"],
            records["kafka_timestamp"],
            records["key"],
            records["value"],
            records["kafka_timestamp"],
            records["headers"].cast(schema.field("headers").type),
        ],
        schema=schema,
    )


@releases_memory
def drain_to_bronze(settings: Settings, catalog: Catalog, rng: OffsetRange, guard=None) -> CommitOutcome:
    def prepare(table):
        rows = bronze_rows(read_range(settings, rng), table.schema().as_arrow())
        return lambda _t, todo: select_positions(rows, todo, "topic", "partition", "offset")

    return commit_step(settings, load(catalog, settings.catalog.namespace, TABLE), rng, prepare, guard=guard)
