"""The fast trade encoder writes exactly fastavro's bytes, and decoding still reads them."""

from __future__ import annotations

import io
from decimal import Decimal

import fastavro
from hypothesis import given, settings, strategies as st

from k2_platform.schemas.avro_binary import encode_long
from k2_platform.schemas.codec import TradeDecoder, known_schema
from k2_platform.schemas.trade_encoder import TradeEncoder

decimals = st.decimals(
    min_value=Decimal("-99999999999999999999"), max_value=Decimal("99999999999999999999"), allow_nan=False, allow_infinity=False, places=None
).filter(lambda d: d.as_tuple().exponent >= -18 and len(d.as_tuple().digits) <= 38)
texts = st.text(max_size=40)
longs = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def fastavro_bytes(encoder: TradeEncoder, record: dict) -> bytes:
    buf = io.BytesIO()
    buf.write(encoder.header)
    fastavro.schemaless_writer(buf, encoder.schema.parsed, record)
    return buf.getvalue()


RECORD_FIELDS = {
    "message_id": texts,
    "exchange": st.sampled_from(["binance", "kraken"]),
    "symbol": texts,
    "exchange_symbol": texts,
    "base": texts,
    "quote": texts,
    "trade_id": texts,
    "price": decimals,
    "quantity": decimals,
    "quote_quantity": st.none() | decimals,
    "side": st.sampled_from(["BUY", "SELL"]),
    "trade_time": longs,
    "event_time": st.none() | longs,
    "ingest_time": longs,
    "sequence": longs,
    "schema_version": st.integers(-(2**31), 2**31 - 1),
    "vendor_data": st.dictionaries(texts, texts, max_size=4),
}


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries(RECORD_FIELDS))
def test_fast_encode_is_byte_identical_to_fastavro(record):
    encoder = TradeEncoder()
    data = encoder.encode(record)
    assert data == fastavro_bytes(encoder, record)
    decoded = TradeDecoder().decode(data)
    assert decoded["price"] == record["price"] and decoded["vendor_data"] == record["vendor_data"]


def test_records_outside_the_fast_path_fall_back_to_fastavro():
    codec = TradeEncoder()
    record = {
        "message_id": "m",
        "exchange": "kraken",
        "symbol": "S",
        "exchange_symbol": "S",
        "base": "B",
        "quote": "Q",
        "trade_id": "1",
        "price": Decimal("1.5"),
        "quantity": Decimal("2"),
        "side": "BUY",
        "trade_time": 1,
        "ingest_time": 2,
        "sequence": 3,
        "schema_version": 2,
    }  # no quote_quantity/event_time/vendor_data: defaults
    assert codec.encode(record) == fastavro_bytes(codec, record)
    assert TradeDecoder().decode(codec.encode(record))["vendor_data"] == {}
    v1 = TradeEncoder(version=1)
    assert v1.schema is known_schema(1)
    assert v1.encode(record) == fastavro_bytes(v1, record)


def test_zigzag_varints_match_the_avro_spec():
    assert [encode_long(n) for n in (0, -1, 1, -64, 64, 2**63 - 1)] == [
        b"\x00",
        b"\x01",
        b"\x02",
        b"\x7f",
        b"\x80\x01",
        b"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01",
    ]
