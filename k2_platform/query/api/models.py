"""Response shapes, for the OpenAPI document. Decimals are exact strings (never JSON numbers, which
clients parse as floats); times are ISO 8601 UTC strings with microseconds."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

DecimalText = Annotated[
    str,
    Field(
        pattern=r"^-?\d+(\.\d+)?$",
        description="Exact decimal as a string (up to 38 digits, 18 after the point)",
        examples=["61837.63", "0.0000001234"],
    ),
]
Timestamp = Annotated[str, Field(description="ISO 8601 UTC with microseconds", examples=["2024-08-08T23:54:15.342000Z"])]


class Trade(BaseModel):
    message_id: str
    exchange: str
    symbol: str
    exchange_symbol: str
    base: str
    quote: str
    trade_id: str
    price: DecimalText
    quantity: DecimalText
    quote_quantity: DecimalText
    side: str
    trade_time: Timestamp
    event_time: Timestamp | None
    ingest_time: Timestamp
    sequence: int


class TradesPage(BaseModel):
    data: list[Trade]
    next_cursor: str | None = Field(description="Opaque; pass back as `cursor` for the next page. Null on the last page.")
    snapshot_id: int | None = Field(description="gold_trades snapshot every page of this walk reads")


class RecentTrades(BaseModel):
    data: list[Trade] = Field(description="Newest first")
    snapshot_id: int | None
    kafka_offsets: dict[str, dict[str, int]] = Field(description="gold's k2.kafka_offsets: the tail was read from here")
    kafka_end_offsets: dict[str, dict[str, int]] = Field(description="the tail was read up to here: every trade below is included")
    tail_records: int = Field(description="Kafka records after gold's offsets that were read (all symbols)")


class Bar(BaseModel):
    """A kline (Binance's columns) plus VWAP; no bar exists for a window without trades."""

    exchange: str
    symbol: str
    open_time: Timestamp = Field(description="Window start (inclusive)")
    open: DecimalText = Field(description="First trade's price by (trade_time, sequence)")
    high: DecimalText
    low: DecimalText
    close: DecimalText = Field(description="Last trade's price by (trade_time, sequence)")
    volume: DecimalText = Field(description="Base-asset volume")
    close_time: Timestamp = Field(description="Window end minus 1 µs")
    quote_volume: DecimalText
    trade_count: int
    taker_buy_base_volume: DecimalText = Field(description="Base volume of trades whose aggressor bought")
    taker_buy_quote_volume: DecimalText
    vwap: DecimalText = Field(description="quote_volume / volume, rounded half-even to 18 decimals")


class Bars(BaseModel):
    interval: str
    data: list[Bar]


class SymbolInfo(BaseModel):
    symbol: str
    base: str
    quote: str
    tick_size: DecimalText
    lot_size: DecimalText
    venues: dict[str, list[str]] = Field(description="exchange -> how it spells the symbol")


class Symbols(BaseModel):
    data: list[SymbolInfo]


class SymbolSummary(BaseModel):
    symbol: str
    trade_count: int
    volume: DecimalText
    quote_volume: DecimalText
    vwap: DecimalText = Field(description="quote_volume / volume at 18 decimal places, half-even")
    open: DecimalText
    high: DecimalText
    low: DecimalText
    close: DecimalText
    first_trade_time: Timestamp
    last_trade_time: Timestamp


class Summary(BaseModel):
    window_start: Timestamp
    window_end: Timestamp
    data: list[SymbolSummary]


class Health(BaseModel):
    ok: bool
    broker: dict
    catalog: dict
    gold_freshness: dict
    degradation: dict  # level, since, reason, lag_records, rss_bytes, evaluated_age_s
