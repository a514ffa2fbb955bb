"""The normalized trade record shared by every exchange: the one definition of its fields.

Each field of `Trade`, in wire order, carries its Avro type and whether every silver/gold row has a
value. The current Avro schema (`avro_schema`), the bulk decoder's Arrow columns
(`avro_columns.TRADE_ARROW_SCHEMA`) and the Iceberg trade columns (`lakehouse.table_specs`) are
derived from these fields. Version 1 of the contract stays as it was published (avro/trade_v1.avsc),
so records written with it remain readable.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal
from typing import Any, NamedTuple

from .decimals import PRECISION, SCALE, check_fits

SCHEMA_VERSION = 2
SIDES = ("BUY", "SELL")
# Fixed namespace: the same trade gets the same message_id on every machine and every replay.
MESSAGE_ID_NAMESPACE = uuid.UUID("6f1c3e0a-4b2d-5c7e-9a8b-0d1e2f3a4b5c")

_DECIMAL = {"type": "bytes", "logicalType": "decimal", "precision": PRECISION, "scale": SCALE}
_MICROS = {"type": "long", "logicalType": "timestamp-micros"}
_EXCHANGE = {"type": "enum", "name": "Exchange", "symbols": ["binance", "kraken"]}  # a new venue is a new schema version
_SIDE = {"type": "enum", "name": "Side", "symbols": list(SIDES)}
_NO_AVRO_DEFAULT = object()


def message_id(exchange: str, symbol: str, trade_id: str) -> str:
    """Identity of a trade: stable across redelivery, distinct for distinct trades."""
    return str(uuid.uuid5(MESSAGE_ID_NAMESPACE, f"{exchange}|{symbol}|{trade_id}"))


def _wire(avro_type, *, default=MISSING, default_factory=MISSING, avro_default=_NO_AVRO_DEFAULT, required: bool = True):
    """A Trade field with its Avro type; avro_default is what readers fill in for records of older writers."""
    metadata = {"avro": avro_type, "required": required, "avro_default": avro_default}
    return field(default=default, default_factory=default_factory, metadata=metadata)


@dataclass(kw_only=True)
class Trade:
    message_id: str = _wire("string", default="")  # empty: derived from (exchange, symbol, trade_id)
    exchange: str = _wire(_EXCHANGE)
    symbol: str = _wire("string")
    exchange_symbol: str = _wire("string")
    base: str = _wire("string")
    quote: str = _wire("string")
    trade_id: str = _wire("string")
    price: Decimal = _wire(_DECIMAL)
    quantity: Decimal = _wire(_DECIMAL)
    # v1 writers sent none (null on the wire); silver computes it, so every table row has one.
    quote_quantity: Decimal | None = _wire(["null", _DECIMAL], default=None, avro_default=None)
    side: str = _wire(_SIDE)
    trade_time: int = _wire(_MICROS)  # µs since epoch, exchange clock
    event_time: int | None = _wire(["null", _MICROS], default=None, avro_default=None, required=False)
    ingest_time: int = _wire(_MICROS)  # µs since epoch, our clock
    sequence: int = _wire("long")
    schema_version: int = _wire("int", default=SCHEMA_VERSION)
    vendor_data: dict[str, str] = _wire({"type": "map", "values": "string"}, default_factory=dict, avro_default={}, required=False)

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"side must be BUY or SELL, got {self.side!r}")
        check_fits(self.price, "price")
        check_fits(self.quantity, "quantity")
        if self.quote_quantity is None:
            self.quote_quantity = check_fits(self.price * self.quantity, "quote_quantity")
        if not self.message_id:
            self.message_id = message_id(self.exchange, self.symbol, self.trade_id)

    def to_avro(self) -> dict:
        return {name: getattr(self, name) for name in FIELD_NAMES}


class TradeField(NamedTuple):
    name: str
    avro_type: Any
    kind: str  # the value's type whatever the nullability: string, decimal (38, 18), timestamp (µs), long, int, string_map
    required: bool  # every silver/gold row has a value


def _kind(avro_type) -> str:
    if isinstance(avro_type, list):  # ["null", T]
        return _kind(next(t for t in avro_type if t != "null"))
    if isinstance(avro_type, str):
        return avro_type
    if avro_type.get("logicalType") == "decimal":
        return "decimal"
    if avro_type.get("logicalType") == "timestamp-micros":
        return "timestamp"
    return {"enum": "string", "map": f"{avro_type.get('values')}_map"}.get(avro_type["type"], avro_type["type"])


TRADE_FIELDS = tuple(TradeField(f.name, f.metadata["avro"], _kind(f.metadata["avro"]), f.metadata["required"]) for f in fields(Trade))
FIELD_NAMES = tuple(f.name for f in TRADE_FIELDS)


def avro_schema() -> dict:
    """The current (v2) Avro record schema, as registered and fingerprinted."""
    avro_fields = []
    for f in fields(Trade):
        spec = {"name": f.name, "type": f.metadata["avro"]}
        if f.metadata["avro_default"] is not _NO_AVRO_DEFAULT:
            spec["default"] = f.metadata["avro_default"]
        avro_fields.append(spec)
    return copy.deepcopy(
        {  # callers may annotate their copy (fastavro does)
            "type": "record",
            "name": "Trade",
            "namespace": "k2.market",
            "doc": "v2: adds quote_quantity, event_time and vendor_data, all with defaults so v1 records still decode.",
            "fields": avro_fields,
        }
    )
