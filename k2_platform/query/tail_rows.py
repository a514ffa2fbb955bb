"""Kafka tail records to trade rows, accepting exactly what silver accepts.

Decoding and validation are the medallion's own (lakehouse.avro_columns / lakehouse.trade_validation):
a record silver would send to the DLQ never reaches gold, so it is left out of the hybrid read too.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..lakehouse.avro_columns import decode_trades
from ..lakehouse.trade_validation import validate
from ..schemas.codec import TradeCodec
from ..schemas.instruments import default_instruments
from ..settings import EXCHANGES, Settings
from .kafka_tail import TailRecord
from .trades import TIME_COLUMNS

TIMES = pa.timestamp("us", tz="UTC")


def _exchange_of_topic(settings: Settings, topics: pa.Array) -> pa.Array:
    names = pa.array([settings.topics.trades(e) for e in EXCHANGES], pa.large_string())
    return pc.take(pa.array(list(EXCHANGES), pa.large_string()), pc.index_in(topics, value_set=names))


def tail_table(records: list[TailRecord], codec: TradeCodec, settings: Settings, columns: tuple[str, ...]) -> pa.Table:
    """The trades silver would accept, in the tail's order, with a `partition` and `offset` column;
    times as timestamps (µs, UTC) and strings as `string`, like gold's columns read by DuckDB."""
    values = pa.array([r.value for r in records], pa.large_binary())
    decoded, errors = decode_trades(values, codec)
    topic_exchange = _exchange_of_topic(settings, pa.array([r.topic for r in records], pa.large_string()))
    decoded, reasons = validate(decoded, errors, topic_exchange, default_instruments(), settings.max_future_skew_s)
    decoded = decoded.append_column("partition", pa.array([r.partition for r in records], pa.int32()))
    decoded = decoded.append_column("offset", pa.array([r.offset for r in records], pa.int64()))
    decoded = decoded.filter(pa.array(reasons == "")).select([*columns, "partition", "offset"])
    fields = [pa.field(f.name, TIMES if f.name in TIME_COLUMNS else pa.string() if pa.types.is_large_string(f.type) else f.type)
              for f in decoded.schema]
    return decoded.cast(pa.schema(fields))


def tail_trades(records: list[TailRecord], codec: TradeCodec, settings: Settings, columns: tuple[str, ...]) -> list[dict]:
    """The trades silver would accept, in the tail's order, as dicts (times in µs, exact Decimals)."""
    if not records:
        return []
    rows = tail_table(records, codec, settings, columns).drop_columns(["partition", "offset"])
    for i, field in enumerate(rows.schema):
        if field.name in TIME_COLUMNS:
            rows = rows.set_column(i, field.name, pc.cast(rows.column(i), pa.int64()))
    return rows.to_pylist()
