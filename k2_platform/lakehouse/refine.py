"""bronze_trades -> silver_trades_<exchange> + trades_dlq: decode, validate, type, route.

One run refines one bronze offset range for three targets. Iceberg has no multi-table commit, so
each target commits on its own compare-and-set watermark (Kafka positions of the bronze rows it
has accounted for): a run killed between two commits is completed by the next run, which writes
only what each target still lacks. Every bronze row ends in exactly one silver table or the DLQ.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog

from ..schemas.avro_columns import decode_trades
from ..schemas.codec import decoder_from_settings
from ..schemas.ingest_reject import IngestReject
from ..schemas.instruments import default_instruments
from ..settings import EXCHANGES, Settings
from .bronze import TABLE as BRONZE, bronze_topics
from .exactly_once import CommitOutcome, commit_step
from .memory import releases_memory
from .offsets import OffsetRange, select_positions
from .positions import rows_in_range
from .tables import load
from .trade_validation import exchange_of_topic, validate

DLQ = "trades_dlq"
INGEST_STAGE, DECODE_STAGE, VALIDATE_STAGE = "ingest", "decode", "validate"
BRONZE_COLUMNS = ("topic", "partition", "offset", "value", "headers")  # what routing reads of a bronze row


def silver_table(exchange: str) -> str:
    return f"silver_trades_{exchange}"


def target_topics(settings: Settings) -> dict[str, list[str]]:
    """Which bronze topics each refine target accounts for (its watermark's keys)."""
    targets = {silver_table(e): [settings.topics.trades(e)] for e in EXCHANGES}
    targets[DLQ] = bronze_topics(settings)
    return targets


def route(settings: Settings, bronze: pa.Table, schemas: dict[str, pa.Schema], now_us: int) -> dict[str, pa.Table]:
    """Split bronze rows into each target's rows (silver rows per exchange, DLQ rows)."""
    is_ingest_dlq = pc.equal(bronze["topic"], settings.topics.dlq).to_numpy(zero_copy_only=False)
    trades_part = _rows_where(bronze, ~is_ingest_dlq)
    topic_exchange = exchange_of_topic(settings.topics, trades_part["topic"])
    decoded, errors = decode_trades(trades_part["value"], decoder_from_settings(settings))
    stages = np.where(errors != "", DECODE_STAGE, VALIDATE_STAGE)
    decoded, reasons = validate(decoded, errors, topic_exchange, default_instruments(), settings.max_future_skew_s)
    valid = reasons == ""
    position = {"source_topic": trades_part["topic"], "source_partition": trades_part["partition"], "source_offset": trades_part["offset"]}
    out = {}
    for exchange in EXCHANGES:
        mine = valid & pc.equal(topic_exchange, exchange).to_numpy(zero_copy_only=False)
        out[silver_table(exchange)] = _typed(decoded, position, mine, schemas[silver_table(exchange)])
    rejected = ~valid  # a mask, not indices: take() on a chunked column would first concatenate all of it
    ingest_rows = _rows_where(bronze, is_ingest_dlq)
    ingest = [IngestReject.from_kafka(v, h) for v, h in zip(ingest_rows["value"].to_pylist(), ingest_rows["headers"].to_pylist())]
    out[DLQ] = pa.concat_tables(
        [
            _dlq_rows(
                _rows_where(trades_part, rejected),
                stages[rejected],
                reasons[rejected],
                topic_exchange.filter(pa.array(rejected)),
                now_us,
                schemas[DLQ],
            ),
            _dlq_rows(
                ingest_rows,
                [r.stage or INGEST_STAGE for r in ingest],
                [r.reason for r in ingest],
                pa.array([r.exchange or None for r in ingest], pa.large_string()),
                now_us,
                schemas[DLQ],
            ),
        ]
    )
    return out


def _dlq_rows(bronze: pa.Table, stages, reasons, exchanges: pa.Array, now_us: int, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pydict(
        {
            "failed_at": pa.array([now_us] * bronze.num_rows, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "stage": pa.array(list(stages), pa.large_string()),
            "reason": pa.array(list(reasons), pa.large_string()),
            "raw": bronze["value"],
            "exchange": exchanges,
            "source_topic": bronze["topic"],
            "source_partition": bronze["partition"],
            "source_offset": bronze["offset"],
        }
    ).cast(schema)


def _typed(decoded: pa.Table, position: dict, mask: np.ndarray, schema: pa.Schema) -> pa.Table:
    ts = pa.timestamp("us", tz="UTC")
    cols = []
    for f in schema:
        col = position[f.name] if f.name in position else decoded[f.name]
        cols.append(col.cast(ts) if f.name in ("trade_time", "event_time", "ingest_time") else col)
    return _rows_where(pa.Table.from_arrays(cols, names=schema.names), mask).cast(schema)


def _rows_where(rows: pa.Table, mask: np.ndarray) -> pa.Table:
    """rows.filter(mask), without copying the whole batch when the mask keeps all or nothing."""
    if mask.all():
        return rows
    return rows.filter(pa.array(mask)) if mask.any() else rows.slice(0, 0)


@releases_memory
def refine(settings: Settings, catalog: Catalog, rng: OffsetRange, guards: dict | None = None) -> dict[str, CommitOutcome]:
    """One commit_step per target; bronze is read and routed once, by the first target still lacking part of the range."""
    ns = settings.catalog.namespace
    tables = {name: load(catalog, ns, name) for name in target_topics(settings)}

    @functools.cache
    def routed() -> dict[str, pa.Table]:
        bronze = rows_in_range(load(catalog, ns, BRONZE), rng, "topic", "partition", "offset", columns=BRONZE_COLUMNS)
        return route(settings, bronze, {name: t.schema().as_arrow() for name, t in tables.items()}, int(time.time() * 1e6))

    def prepare(name: str):
        return lambda _table: lambda _t, todo: select_positions(routed()[name], todo, "source_topic", "source_partition", "source_offset")

    return {
        name: commit_step(settings, tables[name], rng.only(topics), prepare(name), kafka_positions=True, guard=(guards or {}).get(name))
        for name, topics in target_topics(settings).items()
    }
