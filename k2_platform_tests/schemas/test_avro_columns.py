"""The bulk Avro decoder (silver hot path) against the reference TradeDecoder.decode (fastavro), record by record.

Every row the bulk decoder accepts must equal TradeDecoder.decode's dict field for field; every row
it rejects must carry the exact reason (TradeDecoder's own message when it also rejects it).
"""

from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from k2_platform.schemas.avro_columns import decode_trades
from k2_platform.schemas.codec import SINGLE_OBJECT_MAGIC, TradeDecoder, UndecodableRecord
from k2_platform.schemas.trade_encoder import TradeEncoder
from k2_platform_tests.schemas.test_codec import RegistryOfKnownSchemas, make_trade
from k2_platform_tests.schemas.test_trade_encoder import RECORD_FIELDS, fastavro_bytes

V1_DROPPED = ("quote_quantity", "event_time", "vendor_data")


def v1_record(trade_id: str) -> bytes:
    record = {k: v for k, v in make_trade(trade_id=trade_id).to_avro().items() if k not in V1_DROPPED}
    record["schema_version"] = 1
    return TradeEncoder(version=1).encode(record)


def decoded_rows(values: list, decoder: TradeDecoder) -> tuple[list[dict], list[str]]:
    table, errors = decode_trades(pa.array(values, pa.large_binary()), decoder)
    assert table.num_rows == len(values)
    rows = table.to_pylist()
    for row in rows:
        row["vendor_data"] = dict(row["vendor_data"]) if row["vendor_data"] is not None else None
    return rows, list(errors)


def reference(decoder: TradeDecoder, value: bytes) -> dict:
    record = decoder.decode(value)
    record["vendor_data"] = dict(record["vendor_data"])
    return record


def test_valid_records_of_every_framing_decode_exactly_as_trade_codec():
    registry = RegistryOfKnownSchemas()
    reader = TradeDecoder(registry=registry)
    values = [
        TradeEncoder().encode(make_trade().to_avro()),  # v2 single-object
        v1_record("9"),  # v1 single-object: v2 defaults for the new fields
        TradeEncoder(registry=registry, topic="t").encode(make_trade(trade_id="10", vendor_data={"a": "1", "b": "ü"}).to_avro()),  # Confluent
        TradeEncoder().encode(
            make_trade(
                trade_id="11", price=Decimal("61837.63000000"), quantity=Decimal("0.00012"), side="BUY", event_time=None, vendor_data={}
            ).to_avro()
        ),
    ]
    rows, errors = decoded_rows(values, reader)
    assert errors == ["", "", "", ""]
    assert rows == [reference(reader, v) for v in values]
    shib, v1, confluent, btc = rows
    assert (shib["price"], shib["quantity"], shib["quote_quantity"]) == (Decimal("0.0000001234"), Decimal("46116860414"), Decimal("5690.8205750876"))
    assert (shib["trade_time"], shib["event_time"], shib["ingest_time"]) == (1723161255342000, 1723161255343000, 1723161256600123)
    assert (shib["side"], shib["exchange"], shib["trade_id"], shib["schema_version"]) == ("SELL", "binance", "3735683259", 2)
    assert (v1["schema_version"], v1["trade_id"], v1["quote_quantity"], v1["event_time"], v1["vendor_data"]) == (1, "9", None, None, {})
    assert confluent["vendor_data"] == {"a": "1", "b": "ü"}
    assert (btc["price"], btc["quantity"], btc["quote_quantity"], btc["event_time"]) == (
        Decimal("61837.63"),
        Decimal("0.00012"),
        Decimal("7.4205156"),
        None,
    )


def _corrupt(data: bytes, at: int, byte: int) -> bytes:
    return data[:at] + bytes([byte]) + data[at + 1 :]


def test_bad_records_are_rejected_with_their_exact_reason_and_good_neighbours_survive():
    codec, encoder = TradeDecoder(), TradeEncoder()
    good = encoder.encode(make_trade().to_avro())
    confluent = TradeEncoder(registry=RegistryOfKnownSchemas(), topic="t").encode(make_trade().to_avro())
    enum_at = 10 + 1 + 36  # header, length varint and 36 chars of message_id: the exchange enum index
    cases = [
        (good + b"\x00", "corrupt Avro body: 1 trailing bytes after the record"),  # TradeDecoder refuses it too
        (good[:40], "corrupt Avro body: EOFError: Expected 36 bytes, read 29"),
        (good[:10], "corrupt Avro body: EOFError: "),
        (b"garbage", "not an Avro trade record (first bytes 67617262)"),
        (b"", "empty record value"),
        (None, "empty record value"),
        (SINGLE_OBJECT_MAGIC + b"\x00" * 8 + b"x", "unknown schema fingerprint 0000000000000000"),
        (confluent, "Confluent-framed record (schema id 41) but no schema registry is configured"),
        (_corrupt(good, enum_at, 0x06), "corrupt Avro body: IndexError: list index out of range"),
        (encoder.encode({**make_trade().to_avro(), "quantity": Decimal("1" + "0" * 21)}), "decimal wider than decimal(38,18)"),
    ]
    values = [good]
    for value, _reason in cases:
        values += [value, good]
    rows, errors = decoded_rows(values, codec)
    assert errors[1::2] == [reason for _value, reason in cases]
    assert errors[0::2] == [""] * (len(cases) + 1)
    expected = reference(codec, good)
    assert rows[0::2] == [expected] * (len(cases) + 1)
    assert all(v is None for row in rows[1::2] for v in row.values())
    for value, reason in cases:  # where TradeDecoder rejects too, the bulk reason is TradeDecoder's own message
        try:
            codec.decode(value or b"")
        except UndecodableRecord as exc:
            assert reason in (str(exc), "empty record value")
        else:
            assert reason in ("trailing bytes after the record", "decimal wider than decimal(38,18)")


def test_invalid_utf8_in_a_string_is_rejected():
    good = TradeEncoder().encode(make_trade().to_avro())
    bad = _corrupt(good, 12, 0xFF)  # inside message_id
    _rows, errors = decoded_rows([bad, good], TradeDecoder())
    with pytest.raises(UndecodableRecord) as exc:
        TradeDecoder().decode(bad)
    assert errors == [str(exc.value), ""]
    assert errors[0].startswith("corrupt Avro body: UnicodeDecodeError:")


def test_empty_batch():
    table, errors = decode_trades(pa.array([], pa.large_binary()), TradeDecoder())
    assert table.num_rows == 0 and list(errors) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(st.fixed_dictionaries(RECORD_FIELDS), min_size=1, max_size=12), st.booleans())
def test_bulk_decoding_equals_fastavro_on_random_records(records, as_v1):
    """fastavro writes the bytes (any valid record, either version), fastavro reads them back: the bulk decoder agrees."""
    encoder = TradeEncoder(version=1 if as_v1 else 2)
    values = [fastavro_bytes(encoder, record) for record in records]
    decoder = TradeDecoder()
    rows, errors = decoded_rows(values, decoder)
    assert errors == [""] * len(values)
    assert rows == [reference(decoder, v) for v in values]
