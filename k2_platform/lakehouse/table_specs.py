"""The Iceberg tables of DESIGN section 3: columns, partitioning, sort order, properties."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table.sorting import SortField, SortOrder
from pyiceberg.transforms import DayTransform, HourTransform, IdentityTransform, Transform
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DecimalType,
    IcebergType,
    IntegerType,
    LongType,
    MapType,
    NestedField,
    StringType,
    TimestamptzType,
)

from ..schemas.trade import TRADE_FIELDS
from ..settings import EXCHANGES

DECIMAL = DecimalType(38, 18)
TS = TimestamptzType()

BASE_PROPERTIES = {
    "format-version": "2",
    "write.parquet.compression-codec": "zstd",
}
# Tables whose snapshots carry consumed offsets must never have a conflicting append silently
# rebased onto a new head (pyiceberg's default): K2 resolves conflicts itself (DESIGN section 2).
OFFSET_TABLE_PROPERTIES = {**BASE_PROPERTIES, "commit.retry.num-retries": "0"}


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[tuple[str, IcebergType, bool], ...]  # (name, type, required)
    partition: tuple[tuple[str, Transform], ...] = ()
    sort: tuple[str, ...] = ()
    carries_offsets: bool = False
    # Rebuildable from other tables (the bars): an existing table of an older layout is dropped and recreated.
    derived: bool = False
    doc: str = ""
    properties: dict[str, str] = field(default_factory=dict)

    def schema(self) -> Schema:
        fields, next_id = [], 1
        for name, typ, required in self.columns:
            if isinstance(typ, MapType):
                typ = MapType(next_id + 1, typ.key_type, next_id + 2, typ.value_type, value_required=False)
                fields.append(NestedField(next_id, name, typ, required=required))
                next_id += 3
            else:
                fields.append(NestedField(next_id, name, typ, required=required))
                next_id += 1
        return Schema(*fields)

    def partition_spec(self, schema: Schema) -> PartitionSpec:
        return PartitionSpec(
            *(
                PartitionField(
                    source_id=schema.find_field(col).field_id,
                    field_id=1000 + i,
                    transform=transform,
                    name=col if isinstance(transform, IdentityTransform) else f"{col}_{transform}",
                )
                for i, (col, transform) in enumerate(self.partition)
            )
        )

    def sort_order(self, schema: Schema) -> SortOrder:
        if not self.sort:
            return SortOrder()
        return SortOrder(*(SortField(source_id=schema.find_field(c).field_id, transform=IdentityTransform()) for c in self.sort))

    def table_properties(self) -> dict[str, str]:
        base = OFFSET_TABLE_PROPERTIES if self.carries_offsets else BASE_PROPERTIES
        return {**base, **self.properties, **({"comment": self.doc} if self.doc else {})}


_ICEBERG_TYPES = {
    "string": StringType(),
    "decimal": DECIMAL,
    "timestamp": TS,
    "long": LongType(),
    "int": IntegerType(),
    "string_map": MapType(0, StringType(), 0, StringType()),
}
# silver's and gold's trade columns: the trade record's fields (schemas.trade), in its order.
TRADE_TABLE_COLUMNS = tuple((f.name, _ICEBERG_TYPES[f.kind], f.required) for f in TRADE_FIELDS)
SOURCE_POSITION = (
    ("source_topic", StringType(), True),
    ("source_partition", IntegerType(), True),
    ("source_offset", LongType(), True),
)

BRONZE = TableSpec(
    "bronze_trades",
    (
        ("topic", StringType(), True),
        ("partition", IntegerType(), True),
        ("offset", LongType(), True),
        ("kafka_timestamp", TS, False),
        ("key", BinaryType(), False),
        ("value", BinaryType(), False),
        ("ingest_time", TS, True),
        # Kafka headers are part of the raw record (the ingest DLQ carries its reason there).
        ("headers", MapType(0, StringType(), 0, BinaryType()), False),
    ),
    partition=(("ingest_time", DayTransform()),),
    carries_offsets=True,
    doc="Raw Kafka records, exactly once: value bytes never parsed, never dropped.",
)


def silver_spec(exchange: str) -> TableSpec:
    return TableSpec(
        f"silver_trades_{exchange}",
        TRADE_TABLE_COLUMNS + SOURCE_POSITION,
        partition=(("trade_time", DayTransform()), ("symbol", IdentityTransform())),
        carries_offsets=True,
        doc=f"Decoded, validated, typed {exchange} trades.",
    )


DLQ = TableSpec(
    "trades_dlq",
    (
        ("failed_at", TS, True),
        ("stage", StringType(), True),
        ("reason", StringType(), True),
        ("raw", BinaryType(), False),
        ("exchange", StringType(), False),
    )
    + SOURCE_POSITION,
    partition=(("failed_at", DayTransform()),),
    carries_offsets=True,
    doc="Every record that failed a stage, with its raw bytes, source position and reason.",
)

GOLD = TableSpec(
    "gold_trades",
    TRADE_TABLE_COLUMNS,
    partition=(("trade_time", HourTransform()),),
    # The trade order of DESIGN section 8; sequence is the venue's trade id as a number (a string trade_id sorts "10" before "9").
    sort=("trade_time", "exchange", "symbol", "sequence"),
    carries_offsets=True,
    doc="All exchanges, unique by message_id, sorted by (trade_time, exchange, symbol, sequence).",
)

FEED_GAPS = TableSpec(
    "feed_gaps",
    (
        ("exchange", StringType(), True),
        ("symbol", StringType(), True),
        ("first_missing_id", LongType(), True),
        ("last_missing_id", LongType(), True),
        ("missing_count", LongType(), True),
        ("detected_at", TS, True),
        ("repaired", BooleanType(), True),
        ("repaired_count", LongType(), True),
        ("detail", StringType(), False),
    )
    + SOURCE_POSITION,
    partition=(("detected_at", DayTransform()),),
    carries_offsets=True,
    doc="Trade-id gaps detected by the feeds, with whether REST history repaired them.",
)

INSTRUMENTS = TableSpec(
    "instruments",
    (
        ("symbol", StringType(), True),
        ("exchange", StringType(), True),
        ("exchange_symbol", StringType(), True),
        ("base", StringType(), True),
        ("quote", StringType(), True),
        ("tick_size", DECIMAL, True),
        ("lot_size", DECIMAL, True),
    ),
    doc="Canonical symbol to venue spellings, base/quote, tick and lot sizes.",
)

# Bars follow the Binance kline layout (open time, OHLC, volume, close time, quote volume, trade count,
# taker-buy base and quote volume) plus VWAP, one row per (exchange, symbol, window) that has trades:
# a window without trades has no bar (Binance's klines do the same at the source; nothing is carried forward).
OHLCV_COLUMNS = (
    ("exchange", StringType(), True),
    ("symbol", StringType(), True),
    ("open_time", TS, True),  # window start, inclusive
    ("open", DECIMAL, True),  # price of the first trade by (trade_time, sequence)
    ("high", DECIMAL, True),
    ("low", DECIMAL, True),
    ("close", DECIMAL, True),  # price of the last trade by (trade_time, sequence)
    ("volume", DECIMAL, True),  # sum of quantity (base asset)
    ("close_time", TS, True),  # window end - 1 µs, as Binance's close time is window end - 1 ms
    ("quote_volume", DECIMAL, True),  # sum of quote_quantity
    ("trade_count", LongType(), True),
    ("taker_buy_base_volume", DECIMAL, True),  # sum of quantity of trades whose aggressor side is BUY
    ("taker_buy_quote_volume", DECIMAL, True),
    ("vwap", DECIMAL, True),  # quote_volume / volume rounded half-even to 18 decimals, computed exactly
)
# interval -> (bar width in µs, partition transform of its table); the Dagster partitions match them.
OHLCV_INTERVALS: dict[str, tuple[int, Transform]] = {
    "1m": (60_000_000, HourTransform()),
    "1h": (3_600_000_000, DayTransform()),
    "1d": (86_400_000_000, DayTransform()),
}
OHLCV = {
    interval: TableSpec(
        f"ohlcv_{interval}",
        OHLCV_COLUMNS,
        partition=(("open_time", transform),),
        sort=("open_time", "exchange", "symbol"),
        derived=True,
        doc=f"{interval} OHLCV bars (Binance kline columns + VWAP) per exchange and symbol from gold_trades; no bar for a window without trades.",
        # A partition rewrite (delete + append) must not be rebased onto a head it did not see: K2 re-plans it.
        properties={"commit.retry.num-retries": "0"},
    )
    for interval, (_width, transform) in OHLCV_INTERVALS.items()
}

ALL_TABLES: tuple[TableSpec, ...] = (
    BRONZE,
    *(silver_spec(e) for e in EXCHANGES),
    DLQ,
    GOLD,
    FEED_GAPS,
    INSTRUMENTS,
    *OHLCV.values(),
)
SPECS = {spec.name: spec for spec in ALL_TABLES}
