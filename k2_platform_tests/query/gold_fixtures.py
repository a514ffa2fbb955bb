"""Rows written straight into the real Iceberg tables (no dependency on the medallion's writers)."""

from __future__ import annotations

import json
from decimal import Decimal

import pyarrow as pa

from k2_platform.schemas.instruments import default_instruments
from k2_platform.schemas.trade import Trade
from k2_platform.settings import EXCHANGES

T0 = 1_723_161_255_342_000  # 2024-08-08T23:54:15.342Z (µs), from the shared Binance recording
BASES = {"BTCUSDT": ("BTC", "USDT"), "ETHUSDT": ("ETH", "USDT"), "SHIBUSDT": ("SHIB", "USDT"), "BTCUSD": ("BTC", "USD")}


def trade(
    seq: int, symbol: str = "BTCUSDT", exchange: str = "binance", t_us: int | None = None, price: str = "61837.63", quantity: str = "0.02"
) -> dict:
    """A valid trade record (the Avro dict), trade id = seq."""
    base, quote = BASES[symbol]
    return Trade(
        exchange=exchange,
        symbol=symbol,
        exchange_symbol=default_instruments().venue_symbol(exchange, symbol),
        base=base,
        quote=quote,
        trade_id=str(seq),
        price=Decimal(price),
        quantity=Decimal(quantity),
        side="BUY" if seq % 2 else "SELL",
        trade_time=T0 + seq * 1000 if t_us is None else t_us,
        ingest_time=T0 + seq * 1000 + 500,
        sequence=seq,
        event_time=None,
        vendor_data={"m": "true"},
    ).to_avro()


def gold_arrow(table, records: list[dict]) -> pa.Table:
    schema = table.schema().as_arrow()
    rows = [{**r, "vendor_data": list(dict(r["vendor_data"] or {}).items())} for r in records]
    return pa.Table.from_pylist(rows, schema=schema)


def append_gold(table, records: list[dict], kafka_offsets: dict[str, dict[int, int]] | None = None):
    props = {}
    if kafka_offsets is not None:
        props["k2.kafka_offsets"] = json.dumps({t: {str(p): o for p, o in ps.items()} for t, ps in kafka_offsets.items()})
    table.append(gold_arrow(table, records), snapshot_properties=props)


def trade_topics(settings) -> list[str]:
    return [settings.topics.trades(e) for e in EXCHANGES]
