"""The ingest hot path writes exactly the bytes of the schema-generic codec, and the schema's message ids."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from k2_platform.ingest.normalize import Normalizer
from k2_platform.ingest.trade_wire import TradeWriter
from k2_platform.ingest.venue import FrameRejected
from k2_platform.schemas.codec import TradeCodec
from k2_platform.schemas.decimals import to_scale
from k2_platform.schemas.instruments import Instrument, default_instruments
from k2_platform.schemas.trade import Trade, message_id

amounts = st.decimals(min_value=Decimal("1e-18"), max_value=Decimal("99999999999999999999.999999999999999999"), places=None,
                      allow_nan=False, allow_infinity=False).filter(lambda d: d.as_tuple().exponent >= -18 and d > 0)
micros = st.integers(min_value=0, max_value=2**62)
texts = st.text(max_size=12)
normalizers = {e: Normalizer(e, default_instruments(), max_future_skew_s=2.0**40) for e in ("binance", "kraken")}


@settings(max_examples=400, deadline=None)
@given(exchange_symbol=st.sampled_from([("binance", "BTCUSDT"), ("binance", "SHIBUSDT"), ("kraken", "XBT/USD"), ("kraken", "BTC/USD")]),
       trade_id=st.integers(min_value=0, max_value=2**63 - 1), price=amounts, quantity=amounts, sells=st.booleans(),
       trade_time=micros, event_time=st.none() | micros, ingest_time=micros, vendor=st.dictionaries(texts, texts, max_size=3))
def test_wire_bytes_are_the_codecs_bytes(exchange_symbol, trade_id, price, quantity, sells, trade_time, event_time, ingest_time, vendor):
    exchange, symbol = exchange_symbol
    n = normalizers[exchange]
    exact = price * quantity if (price * quantity).is_finite() else None
    product = Decimal(int(price.scaleb(18)) * int(quantity.scaleb(18))).scaleb(-36)  # exact, whatever the context
    try:
        wire = n.trade(symbol, trade_id, n.amount(str(price), "price"), n.amount(str(quantity), "quantity"), sells, trade_time,
                       ingest_time, event_time, vendor)
    except FrameRejected as exc:
        assert product >= Decimal("99999999999999999999.9999999999999999995") and "more than 20 integer digits" in str(exc), exact
        return
    rounded = product.as_tuple().exponent < -18 and product != to_scale(product)
    instrument = default_instruments().by_venue(exchange, symbol)
    expected = Trade(
        exchange=exchange, symbol=instrument.symbol, exchange_symbol=symbol, base=instrument.base, quote=instrument.quote,
        trade_id=str(trade_id), price=price, quantity=quantity, side="SELL" if sells else "BUY", trade_time=trade_time,
        ingest_time=ingest_time, sequence=trade_id, event_time=event_time, quote_quantity=to_scale(product),
        vendor_data={**vendor, "k2_quote_quantity_rounded": "true"} if rounded else vendor,
    )
    assert wire.value == TradeCodec().encode(expected.to_avro())
    assert (wire.venue_symbol.key, wire.sequence, wire.trade_time) == ((exchange, instrument.symbol), trade_id, trade_time)


@pytest.mark.parametrize("exchange, symbol, trade_id", [("binance", "BTCUSDT", "3735683259"), ("kraken", "BTCUSD", "1"),
                                                        ("kraken", "ÉTH/ü", "0"), ("binance", "X", "")])
def test_message_ids_are_the_schema_identity(exchange, symbol, trade_id):
    writer = TradeWriter(TradeCodec(), exchange)
    s = writer.venue_symbol(Instrument(symbol, "B", "Q", Decimal(1), Decimal(1), {}), symbol)
    assert s.message_id(trade_id) == message_id(exchange, symbol, trade_id)


def test_a_schema_the_writer_does_not_lay_out_is_refused_at_startup():
    with pytest.raises(ValueError, match="does not match the codec's schema"):
        TradeWriter(TradeCodec(version=1), "binance")
