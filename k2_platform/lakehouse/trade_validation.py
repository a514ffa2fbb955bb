"""Silver validation rules, vectorized over a decoded batch; each failure gets a recorded reason."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schemas.decimals import DecimalRejected, check_fits
from ..schemas.instruments import InstrumentRegistry
from ..settings import EXCHANGES, TopicSettings


def exchange_of_topic(topics: TopicSettings, topic: pa.Array) -> pa.Array:
    """Per row, the exchange whose trades its topic carries (null for any other topic): what validate() checks against."""
    names = pa.array([topics.trades(e) for e in EXCHANGES], pa.large_string())
    return pc.take(pa.array(list(EXCHANGES), pa.large_string()), pc.index_in(topic, value_set=names))


def _venue_keys(exchange, exchange_symbol):
    return pc.binary_join_element_wise(exchange, pc.utf8_upper(exchange_symbol), pa.scalar("|", pa.large_string()))


def _canonical(instruments: InstrumentRegistry):
    pairs = [
        (f"{venue}|{spelling.upper()}", inst.symbol)
        for inst in instruments.instruments.values()
        for venue, spellings in inst.venue_symbols.items()
        for spelling in spellings
    ]
    return pa.array([k for k, _ in pairs], pa.large_string()), pa.array([s for _, s in pairs], pa.large_string())


def _np(mask) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def fill_quote_quantity(trades: pa.Table, reasons: np.ndarray) -> pa.Table:
    """v1 records carry no quote_quantity: compute price × quantity exactly, or reject if it does not fit."""
    qq = trades["quote_quantity"]
    missing = np.flatnonzero(_np(pc.is_null(qq)) & (reasons == ""))
    if missing.size == 0:
        return trades
    values = qq.to_pylist()
    prices, quantities = trades["price"], trades["quantity"]
    for i in missing:
        try:
            values[i] = check_fits(Decimal(prices[int(i)].as_py()) * Decimal(quantities[int(i)].as_py()), "quote_quantity")
            values[i].quantize(Decimal(1).scaleb(-18))
        except (DecimalRejected, ArithmeticError) as exc:
            reasons[i] = str(exc)
            values[i] = None
    return trades.set_column(trades.schema.get_field_index("quote_quantity"), "quote_quantity", pa.array(values, qq.type))


def validate(
    trades: pa.Table, decode_errors: np.ndarray, topic_exchange: pa.Array, instruments: InstrumentRegistry, max_future_skew_s: float
) -> tuple[pa.Table, np.ndarray]:
    """Per row "" (valid) or the first rule it breaks; rows come back with quote_quantity filled."""
    reasons = decode_errors.copy()
    keys, canon = _canonical(instruments)
    canonical = pc.take(canon, pc.index_in(_venue_keys(trades["exchange"], trades["exchange_symbol"]), value_set=keys))
    zero = pa.scalar(Decimal(0), pa.decimal128(38, 18))
    skew_us = int(max_future_skew_s * 1_000_000)
    rules = [
        (pc.not_equal(trades["exchange"], topic_exchange), lambda r, t: f"exchange {r['exchange']} on the {t} topic"),
        (pc.is_null(canonical), lambda r, t: f"unknown instrument {r['exchange_symbol']!r} on {r['exchange']}"),
        (pc.not_equal(trades["symbol"], canonical), lambda r, t: f"symbol {r['symbol']!r} is not the canonical name of {r['exchange_symbol']!r}"),
        (pc.less_equal(trades["price"], zero), lambda r, t: f"price must be > 0, got {r['price']}"),
        (pc.less_equal(trades["quantity"], zero), lambda r, t: f"quantity must be > 0, got {r['quantity']}"),
        (
            pc.greater(pc.subtract(trades["trade_time"], trades["ingest_time"]), skew_us),
            lambda r, t: f"trade_time is {(r['trade_time'] - r['ingest_time']) / 1e6:.3f}s ahead of ingest_time (tolerance {max_future_skew_s}s)",
        ),
    ]
    for mask, describe in rules:
        broken = np.flatnonzero(_np(mask) & (reasons == ""))
        for i in broken:
            reasons[i] = describe(trades.slice(int(i), 1).to_pylist()[0], topic_exchange[int(i)].as_py())
    trades = fill_quote_quantity(trades, reasons)
    negative_qq = np.flatnonzero(_np(pc.less(trades["quote_quantity"], zero)) & (reasons == ""))
    for i in negative_qq:
        reasons[i] = f"quote_quantity must be >= 0, got {trades['quote_quantity'][int(i)].as_py()}"
    return trades, reasons
