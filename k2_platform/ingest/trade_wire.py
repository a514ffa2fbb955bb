"""A normalized trade straight to its Kafka record (key and Avro value bytes): the ingest hot path.

The schema-generic route (Trade dataclass -> dict -> TradeCodec.encode) walks 17 fields per trade.
Here what is constant for a venue symbol (exchange tag, symbol, exchange symbol, base, quote, the
Kafka key, the hash state of "exchange|symbol|") is encoded once, amounts arrive already encoded
from the normalizer's cache, and a trade is one join of byte chunks. The bytes are the codec's
exactly: a writer checks itself against TradeCodec.encode when built, and the tests compare the
two on random trades.
"""
from __future__ import annotations

import hashlib
from decimal import Decimal

from ..schemas.avro_writer import encode_long, encode_string, encode_unscaled
from ..schemas.codec import TradeCodec
from ..schemas.instruments import Instrument
from ..schemas.trade import MESSAGE_ID_NAMESPACE, SCHEMA_VERSION, message_id

_UUID_TEXT_LENGTH = encode_long(36)  # Avro string length of a UUID's text
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # RFC 4122 variant bits in the 17th digit
_NULL, _PRESENT = b"\x00", b"\x02"  # branches of a ["null", T] union
_EMPTY_MAP = b"\x00"
_MAX_CACHED_MAPS = 4096

# vendor_data as (key, text) pairs in the venue's order: hashable, so its encoding is cached by value.
VendorData = tuple[tuple[str, str], ...]


class VenueSymbol:
    """One venue spelling of an instrument and everything about it that each of its trades repeats."""

    __slots__ = ("exchange", "symbol", "exchange_symbol", "key", "kafka_key", "fields", "id_hash")

    def __init__(self, exchange: str, exchange_tag: bytes, instrument: Instrument, exchange_symbol: str):
        self.exchange = exchange
        self.symbol = instrument.symbol
        self.exchange_symbol = exchange_symbol
        self.key = (exchange, instrument.symbol)  # sequencing identity: every spelling of the instrument shares it
        self.kafka_key = instrument.symbol.encode()
        # exchange, symbol, exchange_symbol, base, quote: consecutive in the schema
        self.fields = exchange_tag + b"".join(map(encode_string, (instrument.symbol, exchange_symbol, instrument.base, instrument.quote)))
        # message_id is uuid5: SHA-1 over namespace bytes + "exchange|symbol|trade_id", whose prefix is the same
        # for every trade of the symbol.
        self.id_hash = hashlib.sha1(MESSAGE_ID_NAMESPACE.bytes + f"{exchange}|{instrument.symbol}|".encode())


class WireTrade:
    """A trade ready for Kafka: what sequencing needs, and the encoded record."""

    __slots__ = ("venue_symbol", "sequence", "trade_time", "value")

    def __init__(self, venue_symbol: VenueSymbol, sequence: int, trade_time: int, value: bytes):
        self.venue_symbol = venue_symbol
        self.sequence = sequence
        self.trade_time = trade_time
        self.value = value


class TradeWriter:
    """Encodes the trades of one exchange with one codec's framing."""

    def __init__(self, codec: TradeCodec, exchange: str):
        fields = {f["name"]: f["type"] for f in codec.writer.json["fields"]}
        self.exchange = exchange
        self._exchange_tag = encode_long(fields["exchange"]["symbols"].index(exchange))
        self._sides = tuple(encode_long(fields["side"]["symbols"].index(side)) for side in ("BUY", "SELL"))
        self._lead = codec.header + _UUID_TEXT_LENGTH  # framing, then message_id's length
        self._version = encode_long(SCHEMA_VERSION)
        self._maps: dict[VendorData, bytes] = {}  # vendor maps repeat (Binance: four variants)
        self._check_against(codec)

    def venue_symbol(self, instrument: Instrument, exchange_symbol: str) -> VenueSymbol:
        return VenueSymbol(self.exchange, self._exchange_tag, instrument, exchange_symbol)

    def write(self, s: VenueSymbol, trade_id: str, price: bytes, quantity: bytes, quote_quantity: bytes, sells: bool,
              trade_time: int, event_time: int | None, ingest_time: int, sequence: int, vendor_data: VendorData) -> bytes:
        """The record's bytes; decimals come as their Avro encoding (avro_writer.encode_unscaled)."""
        trade_id_bytes = trade_id.encode()
        digest = s.id_hash.copy()
        digest.update(trade_id_bytes)
        x = digest.hexdigest()  # as uuid.UUID(version=5) formats it: version digit 5, RFC 4122 variant
        uuid_text = f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"
        return b"".join((
            self._lead, uuid_text.encode(), s.fields,
            encode_long(len(trade_id_bytes)), trade_id_bytes, price, quantity, _PRESENT, quote_quantity, self._sides[sells],
            encode_long(trade_time), _NULL if event_time is None else _PRESENT + encode_long(event_time),
            encode_long(ingest_time), encode_long(sequence), self._version, self._map(vendor_data),
        ))

    def _map(self, vendor_data: VendorData) -> bytes:
        encoded = self._maps.get(vendor_data)
        if encoded is None:
            encoded = _EMPTY_MAP
            if vendor_data:
                items = b"".join(encode_string(k) + encode_string(v) for k, v in vendor_data)
                encoded = encode_long(len(vendor_data)) + items + _EMPTY_MAP
            if len(self._maps) >= _MAX_CACHED_MAPS:
                self._maps.clear()
            self._maps[vendor_data] = encoded
        return encoded

    def _check_against(self, codec: TradeCodec) -> None:
        """Fail at startup, not silently on the wire, if the codec's schema is not the layout written here."""
        instrument = Instrument("BTCUSD", "BTC", "USD", Decimal(1), Decimal(1), {})
        s = self.venue_symbol(instrument, "XBT/USD")
        price, quantity, quote = Decimal("61837.63"), Decimal("0.0000001234"), Decimal("0.007630763542")
        amounts = [encode_unscaled(int(d.scaleb(18))) for d in (price, quantity, quote)]
        mine = self.write(s, "42", *amounts, True, 1_723_161_255_342_000, None, 1_723_161_256_000_001, 42, (("k", "v"),))
        record = {
            "message_id": message_id(self.exchange, "BTCUSD", "42"), "exchange": self.exchange, "symbol": "BTCUSD", "exchange_symbol": "XBT/USD",
            "base": "BTC", "quote": "USD", "trade_id": "42", "price": price, "quantity": quantity, "quote_quantity": quote,
            "side": "SELL", "trade_time": 1_723_161_255_342_000, "event_time": None, "ingest_time": 1_723_161_256_000_001,
            "sequence": 42, "schema_version": SCHEMA_VERSION, "vendor_data": {"k": "v"},
        }
        if mine != codec.encode(record):
            raise ValueError(f"TradeWriter's layout does not match the codec's schema {codec.writer.json.get('name')} "
                             "(fields added or reordered?): update ingest/trade_wire.py")
