"""The normalized trade record shared by every exchange."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from .decimals import check_fits

SCHEMA_VERSION = 2
SIDES = ("BUY", "SELL")
# Fixed namespace: the same trade gets the same message_id on every machine and every replay.
MESSAGE_ID_NAMESPACE = uuid.UUID("6f1c3e0a-4b2d-5c7e-9a8b-0d1e2f3a4b5c")


def message_id(exchange: str, symbol: str, trade_id: str) -> str:
    """Identity of a trade: stable across redelivery, distinct for distinct trades."""
    return str(uuid.uuid5(MESSAGE_ID_NAMESPACE, f"{exchange}|{symbol}|{trade_id}"))


@dataclass
class Trade:
    exchange: str
    symbol: str
    exchange_symbol: str
    base: str
    quote: str
    trade_id: str
    price: Decimal
    quantity: Decimal
    side: str
    trade_time: int  # µs since epoch, exchange clock
    ingest_time: int  # µs since epoch, our clock
    sequence: int
    event_time: int | None = None
    quote_quantity: Decimal | None = None
    vendor_data: dict[str, str] = field(default_factory=dict)
    message_id: str = ""
    schema_version: int = SCHEMA_VERSION

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
        return {
            "message_id": self.message_id,
            "exchange": self.exchange,
            "symbol": self.symbol,
            "exchange_symbol": self.exchange_symbol,
            "base": self.base,
            "quote": self.quote,
            "trade_id": self.trade_id,
            "price": self.price,
            "quantity": self.quantity,
            "quote_quantity": self.quote_quantity,
            "side": self.side,
            "trade_time": self.trade_time,
            "event_time": self.event_time,
            "ingest_time": self.ingest_time,
            "sequence": self.sequence,
            "schema_version": self.schema_version,
            "vendor_data": self.vendor_data,
        }
