"""Kafka tail records to trade rows, accepting exactly what silver accepts.

Decoding and validation are the medallion's own (schemas.avro_columns / lakehouse.trade_validation):
a record silver would send to the DLQ never reaches gold, so it is left out of the hybrid read too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from ..lakehouse.trade_validation import exchange_of_topic, validate
from ..schemas.avro_columns import decode_trades
from ..schemas.codec import TradeDecoder
from ..schemas.instruments import default_instruments
from ..settings import Settings
from .trades import TIME_COLUMNS

TIMES = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class TailRecord:
    """One Kafka record of a trade topic, as the tail reader took it."""

    topic: str
    partition: int
    offset: int
    value: bytes | None


def tail_table(records: list[TailRecord], decoder: TradeDecoder, settings: Settings, columns: tuple[str, ...]) -> pa.Table:
    """The trades silver would accept, in the tail's order, with a `partition` and `offset` column;
    times as timestamps (µs, UTC) and strings as `string`, like gold's columns read by DuckDB."""
    values = pa.array([r.value for r in records], pa.large_binary())
    decoded, errors = decode_trades(values, decoder)
    topic_exchange = exchange_of_topic(settings.topics, pa.array([r.topic for r in records], pa.large_string()))
    decoded, reasons = validate(decoded, errors, topic_exchange, default_instruments(), settings.max_future_skew_s)
    decoded = decoded.append_column("partition", pa.array([r.partition for r in records], pa.int32()))
    decoded = decoded.append_column("offset", pa.array([r.offset for r in records], pa.int64()))
    decoded = decoded.filter(pa.array(reasons == "")).select([*columns, "partition", "offset"])
    fields = [
        pa.field(f.name, TIMES if f.name in TIME_COLUMNS else pa.string() if pa.types.is_large_string(f.type) else f.type) for f in decoded.schema
    ]
    return decoded.cast(pa.schema(fields))


def tail_trades(records: list[TailRecord], decoder: TradeDecoder, settings: Settings, columns: tuple[str, ...]) -> list[dict]:
    """The trades silver would accept, in the tail's order, as dicts (times in µs, exact Decimals)."""
    if not records:
        return []
    rows = tail_table(records, decoder, settings, columns).drop_columns(["partition", "offset"])
    for i, field in enumerate(rows.schema):
        if field.name in TIME_COLUMNS:
            rows = rows.set_column(i, field.name, pc.cast(rows.column(i), pa.int64()))
    return rows.to_pylist()
