"""The one fast Avro encoder of trades: fastavro's bytes exactly, several times faster.

fastavro spends most of a trade's ~46 µs in generic type dispatch and its digit-by-digit decimal
conversion. Here one function lays out the fields in wire order (`TradeEncoder.write`) and two entry
points feed it:
- the ingest hot path: what is constant for a venue symbol (exchange tag, symbol, exchange symbol,
  base, quote, the Kafka key, the hash state of "exchange|symbol|") is encoded once (`VenueSymbol`),
  amounts arrive already encoded (`encode_unscaled`), and message_id is derived from the trade id;
- `encode(record)`: a dict as fastavro takes it (benchmarks, tests, fixtures).
The layout is checked against fastavro when an encoder is built; a schema it does not lay out (v1)
and any value outside the fast path go through fastavro, so the bytes are never different.
"""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal

import fastavro

from .avro_binary import encode_long, encode_string, encode_unscaled, unscaled_of
from .codec import CURRENT_VERSION, SchemaRegistry, header, known_schema, registry_from_settings
from .decimals import SCALE
from .trade import MESSAGE_ID_NAMESPACE, SCHEMA_VERSION, SIDES, message_id


class _NotFast(Exception):
    """The value needs fastavro's generic writer (which writes the same bytes or raises its own error)."""


_UUID_TEXT_LENGTH = encode_long(36)  # Avro string length of a UUID's text
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # RFC 4122 variant bits in the 17th digit
_NULL, _PRESENT = b"\x00", b"\x02"  # branches of a ["null", T] union
_EMPTY_MAP = b"\x00"
_VERSION = encode_long(SCHEMA_VERSION)
_SELLS = {"BUY": False, "SELL": True}
_MAX_CACHED = 4096  # vendor maps and venue symbols: both repeat (Binance: four vendor-map variants)
_MAX_CACHED_DECIMALS = 1 << 16

# vendor_data as (key, text) pairs in the venue's order: hashable, so its encoding is cached by value.
VendorData = tuple[tuple[str, str], ...]


class VenueSymbol:
    """One venue spelling of an instrument and everything about it that each of its trades repeats."""

    __slots__ = ("exchange", "symbol", "exchange_symbol", "key", "kafka_key", "fields", "id_hash")

    def __init__(self, exchange: str, exchange_tag: bytes, symbol: str, exchange_symbol: str, base: str, quote: str):
        self.exchange = exchange
        self.symbol = symbol
        self.exchange_symbol = exchange_symbol
        self.key = (exchange, symbol)  # sequencing identity: every spelling of the instrument shares it
        self.kafka_key = symbol.encode()
        # exchange, symbol, exchange_symbol, base, quote: consecutive in the schema
        self.fields = exchange_tag + b"".join(map(encode_string, (symbol, exchange_symbol, base, quote)))
        # message_id is uuid5: SHA-1 over namespace bytes + "exchange|symbol|trade_id", whose prefix is the same
        # for every trade of the symbol.
        self.id_hash = hashlib.sha1(MESSAGE_ID_NAMESPACE.bytes + f"{exchange}|{symbol}|".encode())


class TradeEncoder:
    """Encodes trades with one schema version and one framing (registered for `topic` when a registry is given)."""

    def __init__(self, registry: SchemaRegistry | None = None, topic: str | None = None, version: int = CURRENT_VERSION):
        self.schema = known_schema(version)
        self.header = header(self.schema, registry, topic)
        enums = {f["name"]: f["type"]["symbols"] for f in self.schema.json["fields"] if isinstance(f["type"], dict) and "symbols" in f["type"]}
        self._exchange_tags = {e: encode_long(i) for i, e in enumerate(enums["exchange"])}
        self._sides = tuple(encode_long(enums["side"].index(side)) for side in SIDES)  # indexed by "aggressor sells"
        self._lead = self.header + _UUID_TEXT_LENGTH  # framing, then a derived message_id's length
        self._maps: dict[VendorData, bytes] = {}
        self._venues: dict[tuple[str, ...], VenueSymbol] = {}
        self._decimals: dict[str, bytes] = {}  # prices and sizes repeat; the key is the text, which also pins the exponent
        self.fast_layout = self._layout_matches()

    def require_fast_layout(self, exchange: str) -> None:
        """Fail at startup, not silently on the wire, if write() cannot produce this schema's bytes for `exchange`."""
        if not self.fast_layout:
            raise ValueError(
                "the fast trade layout does not match the codec's schema "
                f"({self.schema.json.get('doc')}): fields added or reordered? update schemas/trade_encoder.py"
            )
        if exchange not in self._exchange_tags:
            raise ValueError(f"exchange {exchange!r} is not in the schema's Exchange enum")

    def venue_symbol(self, exchange: str, symbol: str, exchange_symbol: str, base: str, quote: str) -> VenueSymbol:
        return VenueSymbol(exchange, self._exchange_tags[exchange], symbol, exchange_symbol, base, quote)

    def write(
        self,
        s: VenueSymbol,
        trade_id: str,
        price: bytes,
        quantity: bytes,
        quote_quantity: bytes,
        sells: bool,
        trade_time: int,
        event_time: int | None,
        ingest_time: int,
        sequence: int,
        vendor_data: VendorData,
        message_id: str | None = None,
        version: bytes = _VERSION,
    ) -> bytes:
        """The record's bytes; decimals come as their Avro encoding (encode_unscaled); message_id defaults to the derived one."""
        trade_id_bytes = trade_id.encode()
        if message_id is None:
            digest = s.id_hash.copy()
            digest.update(trade_id_bytes)
            x = digest.hexdigest()  # as uuid.UUID(version=5) formats it: version digit 5, RFC 4122 variant
            lead, identity = self._lead, f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}".encode()
        else:
            lead, identity = self.header, encode_string(message_id)
        return b"".join(
            (
                lead,
                identity,
                s.fields,
                encode_long(len(trade_id_bytes)),
                trade_id_bytes,
                price,
                quantity,
                _PRESENT,
                quote_quantity,
                self._sides[sells],
                encode_long(trade_time),
                _NULL if event_time is None else _PRESENT + encode_long(event_time),
                encode_long(ingest_time),
                encode_long(sequence),
                version,
                self._map(vendor_data),
            )
        )

    def encode(self, record: dict) -> bytes:
        """A record dict (as Trade.to_avro gives it) with this encoder's framing."""
        if self.fast_layout:
            try:
                return self._encode_fast(record)
            except (_NotFast, KeyError, TypeError, AttributeError, ValueError):
                pass  # fastavro writes the same bytes, or raises its usual error
        return self._fastavro(record)

    def _fastavro(self, record: dict) -> bytes:
        buf = io.BytesIO()
        buf.write(self.header)
        fastavro.schemaless_writer(buf, self.schema.parsed, record)
        return buf.getvalue()

    def _encode_fast(self, r: dict) -> bytes:
        names = (r["exchange"], r["symbol"], r["exchange_symbol"], r["base"], r["quote"])
        s = self._venues.get(names)
        if s is None:
            if len(self._venues) >= _MAX_CACHED:
                self._venues.clear()
            s = self._venues[names] = self.venue_symbol(*names)
        trade_time, event_time, ingest_time, sequence, version = (
            r["trade_time"],
            r["event_time"],
            r["ingest_time"],
            r["sequence"],
            r["schema_version"],
        )
        if (
            type(trade_time) is not int
            or type(ingest_time) is not int
            or type(sequence) is not int
            or type(version) is not int
            or (event_time is not None and type(event_time) is not int)
        ):
            raise _NotFast("an integer field holds a non-int")
        message_id, trade_id, vendor_data = r["message_id"], r["trade_id"], r["vendor_data"]
        if type(message_id) is not str or type(trade_id) is not str or type(vendor_data) is not dict:
            raise _NotFast("a string or map field holds another type")
        # a null quote_quantity (only hand-made records: Trade computes it) is left to fastavro
        return self.write(
            s,
            trade_id,
            self._decimal(r["price"]),
            self._decimal(r["quantity"]),
            self._decimal(r["quote_quantity"]),
            _SELLS[r["side"]],
            trade_time,
            event_time,
            ingest_time,
            sequence,
            tuple(vendor_data.items()),
            message_id,
            encode_long(version),
        )

    def _decimal(self, value) -> bytes:
        if type(value) is not Decimal or not value.is_finite():
            raise _NotFast("decimal field holds a non-Decimal")
        key = str(value)
        encoded = self._decimals.get(key)
        if encoded is None:
            if len(self._decimals) >= _MAX_CACHED_DECIMALS:
                self._decimals.clear()
            unscaled = unscaled_of(value)
            if unscaled is None:
                raise _NotFast("decimal outside the schema's scale/precision")
            encoded = self._decimals[key] = encode_unscaled(unscaled)
        return encoded

    def _map(self, vendor_data: VendorData) -> bytes:
        encoded = self._maps.get(vendor_data)
        if encoded is None:
            encoded = _EMPTY_MAP
            if vendor_data:
                items = b"".join(encode_string(k) + encode_string(v) for k, v in vendor_data)
                encoded = encode_long(len(vendor_data)) + items + _EMPTY_MAP
            if len(self._maps) >= _MAX_CACHED:
                self._maps.clear()
            self._maps[vendor_data] = encoded
        return encoded

    def _layout_matches(self) -> bool:
        """Whether write() gives fastavro's bytes for this schema (a sample with every field set)."""
        exchange = next(iter(self._exchange_tags))
        s = self.venue_symbol(exchange, "BTCUSD", "XBT/USD", "BTC", "USD")
        price, quantity, quote = Decimal("61837.63"), Decimal("0.0000001234"), Decimal("0.007630763542")
        amounts = [encode_unscaled(int(d.scaleb(SCALE))) for d in (price, quantity, quote)]
        mine = self.write(s, "42", *amounts, True, 1_723_161_255_342_000, 1_723_161_255_343_000, 1_723_161_256_000_001, 42, (("k", "v"),))
        record = {
            "message_id": message_id(exchange, "BTCUSD", "42"),
            "exchange": exchange,
            "symbol": "BTCUSD",
            "exchange_symbol": "XBT/USD",
            "base": "BTC",
            "quote": "USD",
            "trade_id": "42",
            "price": price,
            "quantity": quantity,
            "quote_quantity": quote,
            "side": "SELL",
            "trade_time": 1_723_161_255_342_000,
            "event_time": 1_723_161_255_343_000,
            "ingest_time": 1_723_161_256_000_001,
            "sequence": 42,
            "schema_version": SCHEMA_VERSION,
            "vendor_data": {"k": "v"},
        }
        return mine == self._fastavro(record)


def encoder_from_settings(settings, topic: str) -> TradeEncoder:
    """The encoder of a producer to `topic`: with a registry configured, its subject is `<topic>-value`."""
    return TradeEncoder(registry_from_settings(settings), topic)
