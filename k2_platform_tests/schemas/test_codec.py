import struct
from decimal import Decimal

import pytest

from k2_platform.schemas.codec import SINGLE_OBJECT_MAGIC, TradeDecoder, UndecodableRecord, known_schema
from k2_platform.schemas.trade import Trade, message_id
from k2_platform.schemas.trade_encoder import TradeEncoder


def make_trade(**overrides) -> Trade:
    fields = dict(
        exchange="binance",
        symbol="SHIBUSDT",
        exchange_symbol="SHIBUSDT",
        base="SHIB",
        quote="USDT",
        trade_id="3735683259",
        price=Decimal("0.0000001234"),
        quantity=Decimal("46116860414"),
        side="SELL",
        trade_time=1723161255342000,
        ingest_time=1723161256600123,
        sequence=7,
        event_time=1723161255343000,
        vendor_data={"M": "true"},
    )
    fields.update(overrides)
    return Trade(**fields)


def test_single_object_round_trip_is_exact():
    data = TradeEncoder().encode(make_trade().to_avro())
    assert data[:2] == SINGLE_OBJECT_MAGIC
    assert data[2:10] == known_schema(2).fingerprint
    record = TradeDecoder().decode(data)
    assert record["price"] == Decimal("0.0000001234")
    assert record["quantity"] == Decimal("46116860414")
    assert record["quote_quantity"] == Decimal("5690.8205750876")
    assert record["trade_time"] == 1723161255342000
    assert record["event_time"] == 1723161255343000
    assert record["vendor_data"] == {"M": "true"}
    assert record["message_id"] == message_id("binance", "SHIBUSDT", "3735683259")


def test_message_id_is_identity_not_content():
    a, b = make_trade(trade_id="1"), make_trade(trade_id="2")
    assert a.message_id != b.message_id
    assert make_trade(trade_id="1", price=Decimal("1")).message_id == a.message_id


def test_v1_records_still_decode_with_v2_defaults():
    old = TradeEncoder(version=1)
    record = {k: v for k, v in make_trade().to_avro().items() if k not in ("quote_quantity", "event_time", "vendor_data")}
    record["schema_version"] = 1
    decoded = TradeDecoder().decode(old.encode(record))
    assert decoded["schema_version"] == 1
    assert decoded["price"] == Decimal("0.0000001234")
    assert decoded["quote_quantity"] is None
    assert decoded["event_time"] is None
    assert decoded["vendor_data"] == {}


class RegistryOfKnownSchemas:
    """Stands in for the registry's id lookup; the framing, not the HTTP client, is under test here."""

    def __init__(self):
        self.schemas = {}
        self.subjects: list[str] = []  # every register() call, in order
        self.lookups: list[int] = []

    def register(self, subject, schema_json):
        self.subjects.append(subject)
        self.schemas[41] = schema_json
        return 41

    def lookup(self, schema_id):
        self.lookups.append(schema_id)
        return self.schemas[schema_id]


def test_confluent_wire_format_is_detected_on_read():
    registry = RegistryOfKnownSchemas()
    writer = TradeEncoder(registry=registry, topic="market.crypto.trades.binance")
    data = writer.encode(make_trade().to_avro())
    assert data[0] == 0 and struct.unpack(">I", data[1:5])[0] == 41
    assert TradeDecoder(registry=registry).decode(data)["quantity"] == Decimal("46116860414")
    with pytest.raises(UndecodableRecord, match="no schema registry is configured"):
        TradeDecoder().decode(data)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "not an Avro trade record"),
        (b'{"price": 1}', "not an Avro trade record"),
        (SINGLE_OBJECT_MAGIC + b"\x00" * 8 + b"x", "unknown schema fingerprint"),
    ],
)
def test_garbage_is_rejected_with_reason(data, reason):
    with pytest.raises(UndecodableRecord, match=reason):
        TradeDecoder().decode(data)


def test_truncated_body_is_rejected_with_reason():
    data = TradeEncoder().encode(make_trade().to_avro())
    with pytest.raises(UndecodableRecord, match="corrupt Avro body"):
        TradeDecoder().decode(data[:40])


def test_trailing_bytes_are_rejected_with_reason():
    data = TradeEncoder().encode(make_trade().to_avro())
    with pytest.raises(UndecodableRecord, match="3 trailing bytes after the record"):
        TradeDecoder().decode(data + b"abc")


def test_trade_rejects_bad_side_and_unfit_values():
    with pytest.raises(ValueError, match="side must be BUY or SELL"):
        make_trade(side="buy")
    with pytest.raises(ValueError, match="more than 18 decimal places"):
        make_trade(price=Decimal("0.0000000000000000001"))
