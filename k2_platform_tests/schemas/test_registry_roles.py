"""Writers register their schema under their topic's subject; readers only look schemas up."""

from __future__ import annotations

import pyarrow as pa
import pytest

from k2_platform.schemas.avro_columns import decode_trades
from k2_platform.schemas.codec import TradeDecoder, decoder_from_settings
from k2_platform.schemas.trade_encoder import TradeEncoder
from k2_platform.settings import Settings
from k2_platform_tests.schemas.test_codec import RegistryOfKnownSchemas, make_trade


def test_an_encoder_registers_the_subject_of_its_topic_and_a_decoder_registers_nothing():
    registry = RegistryOfKnownSchemas()
    confluent = TradeEncoder(registry=registry, topic="market.crypto.trades.kraken").encode(make_trade().to_avro())
    single_object = TradeEncoder().encode(make_trade(trade_id="2").to_avro())
    assert registry.subjects == ["market.crypto.trades.kraken-value"]
    decoder = TradeDecoder(registry=registry)
    assert [decoder.decode(v)["trade_id"] for v in (confluent, single_object, confluent)] == ["3735683259", "2", "3735683259"]
    table, errors = decode_trades(pa.array([confluent, single_object], pa.large_binary()), TradeDecoder(registry=registry))
    assert table["trade_id"].to_pylist() == ["3735683259", "2"] and list(errors) == ["", ""]
    assert registry.subjects == ["market.crypto.trades.kraken-value"]  # reading added no subject
    assert registry.lookups == [41, 41]  # one lookup per decoder, then cached


def test_an_encoder_for_a_registry_needs_its_topic():
    with pytest.raises(ValueError, match="needs the topic"):
        TradeEncoder(registry=RegistryOfKnownSchemas())


def test_with_a_registry_configured_building_a_reader_contacts_no_registry():
    # Nothing listens on port 1: a reader that registered (as refining did) could not even be built.
    decoder = decoder_from_settings(Settings(schema_registry_url="http://127.0.0.1:1"))
    assert decoder.decode(TradeEncoder().encode(make_trade().to_avro()))["trade_id"] == "3735683259"
