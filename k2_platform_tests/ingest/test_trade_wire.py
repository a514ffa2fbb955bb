"""The ingest hot path (Normalizer -> TradeEncoder.write) writes exactly fastavro's bytes, and the schema's message ids."""

from __future__ import annotations

from decimal import Context, Decimal

import pytest
from hypothesis import given, settings, strategies as st

from k2_platform.ingest.normalize import Normalizer
from k2_platform.ingest.venue import FrameRejected
from k2_platform.schemas.codec import TradeDecoder
from k2_platform.schemas.decimals import to_scale
from k2_platform.schemas.instruments import default_instruments
from k2_platform.schemas.trade import Trade, message_id
from k2_platform.schemas.trade_encoder import TradeEncoder
from k2_platform_tests.schemas.test_trade_encoder import fastavro_bytes

# Positive decimal(38, 18) values, every scale from 0 to 18 places, small and huge coefficients.
amounts = st.builds(
    lambda coefficient, places: Decimal(coefficient).scaleb(-places, Context(prec=100)),
    st.integers(min_value=1, max_value=10**38 - 1) | st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=0, max_value=18),
).filter(lambda d: d.adjusted() < 20)
micros = st.integers(min_value=0, max_value=2**62)
texts = st.text(max_size=12)
normalizers = {e: Normalizer(e, default_instruments(), max_future_skew_s=1e13) for e in ("binance", "kraken")}
_WIDE = Context(prec=100)


def unscaled(d: Decimal) -> int:
    _, digits, exponent = d.as_tuple()
    return int("".join(map(str, digits))) * 10 ** (exponent + 18)


@settings(max_examples=300, deadline=None)
@given(
    exchange_symbol=st.sampled_from([("binance", "BTCUSDT"), ("binance", "SHIBUSDT"), ("kraken", "XBT/USD"), ("kraken", "BTC/USD")]),
    trade_id=st.integers(min_value=0, max_value=2**63 - 1),
    price=amounts,
    quantity=amounts,
    sells=st.booleans(),
    trade_time=micros,
    event_time=st.none() | micros,
    ingest_time=micros,
    vendor=st.dictionaries(texts, texts, max_size=3),
)
def test_wire_bytes_are_the_codecs_bytes(exchange_symbol, trade_id, price, quantity, sells, trade_time, event_time, ingest_time, vendor):
    exchange, symbol = exchange_symbol
    n = normalizers[exchange]
    product = _WIDE.scaleb(Decimal(unscaled(price) * unscaled(quantity)), -36)  # exact
    try:
        wire = n.trade(
            symbol,
            trade_id,
            n.amount(str(price), "price"),
            n.amount(str(quantity), "quantity"),
            sells,
            trade_time,
            ingest_time,
            event_time,
            tuple(vendor.items()),
        )
    except FrameRejected as exc:
        assert product >= Decimal("99999999999999999999.9999999999999999995") and "more than 20 integer digits" in str(exc)
        return
    rounded = product != to_scale(product)
    instrument = default_instruments().by_venue(exchange, symbol)
    expected = Trade(
        exchange=exchange,
        symbol=instrument.symbol,
        exchange_symbol=symbol,
        base=instrument.base,
        quote=instrument.quote,
        trade_id=str(trade_id),
        price=price,
        quantity=quantity,
        side="SELL" if sells else "BUY",
        trade_time=trade_time,
        ingest_time=ingest_time,
        sequence=trade_id,
        event_time=event_time,
        quote_quantity=to_scale(product),
        vendor_data={**vendor, "k2_quote_quantity_rounded": "true"} if rounded else vendor,
    )
    assert wire.value == fastavro_bytes(TradeEncoder(), expected.to_avro())
    assert (wire.venue_symbol.key, wire.sequence, wire.trade_time) == ((exchange, instrument.symbol), trade_id, trade_time)


@pytest.mark.parametrize(
    "exchange, symbol, trade_id", [("binance", "BTCUSDT", "3735683259"), ("kraken", "BTCUSD", "1"), ("kraken", "ÉTH/ü", "0"), ("binance", "X", "")]
)
def test_message_ids_are_the_schema_identity(exchange, symbol, trade_id):
    writer = TradeEncoder()
    s = writer.venue_symbol(exchange, symbol, symbol, "B", "Q")
    one = writer.write(s, trade_id, b"\x02\x01", b"\x02\x01", b"\x02\x01", False, 0, None, 0, 0, ())
    assert TradeDecoder().decode(one)["message_id"] == message_id(exchange, symbol, trade_id)


def test_a_schema_the_writer_does_not_lay_out_is_refused_at_startup():
    with pytest.raises(ValueError, match="does not match the codec's schema"):
        Normalizer("binance", default_instruments(), 5.0, TradeEncoder(version=1))
