"""Turning venue values into normalized trades: exact decimals, reference-data symbols, wire bytes."""

from __future__ import annotations

import time
from decimal import Decimal

from ..schemas.avro_binary import encode_unscaled
from ..schemas.decimals import SCALE, DecimalRejected, parse_decimal
from ..schemas.ingest_reject import STAGE_NORMALIZE
from ..schemas.instruments import InstrumentRegistry, UnknownInstrument
from ..schemas.trade_encoder import TradeEncoder, VendorData, VenueSymbol
from .trade_wire import WireTrade
from .venue import FrameRejected

_ONE = 10**SCALE  # 1 as an unscaled decimal(38, 18)
_MAX_UNSCALED = 10**38  # 20 integer digits + 18 places
_MAX_CACHED_TEXTS = 1 << 16
_MAX_CACHED_SYMBOLS = 4096
QUOTE_ROUNDED_FLAG = "k2_quote_quantity_rounded"

# An exact positive decimal(38, 18) as (unscaled integer, Avro bytes): what both quote_quantity and the wire need.
Amount = tuple[int, bytes]


def now_us() -> int:
    return time.time_ns() // 1000


def json_text(value) -> str:
    """A venue value as text for vendor_data, spelled the way JSON spells it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


class Normalizer:
    """Builds the wire records of one exchange's trades; rejects anything that cannot be stored exactly."""

    def __init__(self, exchange: str, instruments: InstrumentRegistry, max_future_skew_s: float, encoder: TradeEncoder | None = None):
        self.exchange = exchange
        self.instruments = instruments
        self.max_future_skew_us = int(max_future_skew_s * 1_000_000)
        self.writer = encoder or TradeEncoder()
        self.writer.require_fast_layout(exchange)
        # Prices and sizes repeat; parsing and encoding a text once is enough (bounded).
        self._amounts: dict[str, Amount] = {}
        self._symbols: dict[str, VenueSymbol] = {}

    def amount(self, value, field: str) -> Amount:
        """Exact positive decimal from a venue's text (or a JSON number already parsed as Decimal or int)."""
        if type(value) is not str:
            if type(value) is not Decimal and type(value) is not int:
                raise FrameRejected(f"{field}: expected a decimal number, got {json_text(value)!r}", STAGE_NORMALIZE)
            value = str(value)  # exact: a Decimal's text is its value
        cached = self._amounts.get(value)
        if cached is None:
            cached = self._parse_text(value, field)
        return cached

    def _parse_text(self, text: str, field: str) -> Amount:
        try:
            parsed = self._positive(parse_decimal(text, field), field, text)
        except DecimalRejected as exc:
            raise FrameRejected(str(exc), STAGE_NORMALIZE) from None
        if len(self._amounts) >= _MAX_CACHED_TEXTS:
            self._amounts.clear()
        self._amounts[text] = parsed
        return parsed

    @staticmethod
    def _positive(value: Decimal, field: str, raw) -> Amount:
        if value <= 0:
            raise FrameRejected(f"{field}: {raw} is not positive", STAGE_NORMALIZE)
        _, digits, exponent = value.as_tuple()
        coefficient, shift = int("".join(map(str, digits))), exponent + SCALE
        # Exact either way: parse_decimal admitted at most 18 places, so a negative shift drops only zeros.
        unscaled = coefficient * 10**shift if shift >= 0 else coefficient // 10**-shift
        return unscaled, encode_unscaled(unscaled)

    def venue_symbol(self, exchange_symbol: str) -> VenueSymbol:
        found = self._symbols.get(exchange_symbol)
        if found is None:
            try:
                instrument = self.instruments.by_venue(self.exchange, exchange_symbol)
            except UnknownInstrument as exc:
                raise FrameRejected(str(exc), STAGE_NORMALIZE) from None
            if len(self._symbols) >= _MAX_CACHED_SYMBOLS:
                self._symbols.clear()
            found = self._symbols[exchange_symbol] = self.writer.venue_symbol(
                self.exchange, instrument.symbol, exchange_symbol, instrument.base, instrument.quote
            )
        return found

    def trade(
        self,
        exchange_symbol: str,
        trade_id: int,
        price: Amount,
        quantity: Amount,
        aggressor_sells: bool,
        trade_time_us: int,
        received_us: int,
        event_time_us: int | None,
        vendor_data: VendorData,
    ) -> WireTrade:
        s = self._symbols.get(exchange_symbol) or self.venue_symbol(exchange_symbol)
        if trade_time_us - received_us > self.max_future_skew_us:
            raise FrameRejected(f"trade_time {trade_time_us} is more than {self.max_future_skew_us} µs ahead of our clock", STAGE_NORMALIZE)
        # quote_quantity is derived, not sent: price * quantity exactly, at scale 18. A product with more
        # places (10-place price times 9-place size) is rounded half-even and flagged, rather than losing
        # the venue's exact trade.
        quote, rest = divmod(price[0] * quantity[0], _ONE)
        if rest:
            if rest * 2 > _ONE or (rest * 2 == _ONE and quote & 1):
                quote += 1
            vendor_data += ((QUOTE_ROUNDED_FLAG, "true"),)
        if quote >= _MAX_UNSCALED:
            raise FrameRejected(f"quote_quantity: price * quantity of trade {trade_id} has more than 20 integer digits", STAGE_NORMALIZE)
        trade_id_text = str(trade_id)
        value = self.writer.write(
            s,
            trade_id_text,
            price[1],
            quantity[1],
            encode_unscaled(quote),
            aggressor_sells,
            trade_time_us,
            event_time_us,
            received_us,
            trade_id,
            vendor_data,
        )
        return WireTrade(s, trade_id, trade_time_us, value)


def require_int(value, field: str) -> int:
    if type(value) is not int or value < 0:
        raise FrameRejected(f"{field}: expected a non-negative integer, got {json_text(value)!r}", STAGE_NORMALIZE)
    return value
