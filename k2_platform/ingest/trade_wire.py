"""A trade ready for Kafka: what sequencing needs, and the record's bytes (schemas.trade_encoder wrote them)."""

from __future__ import annotations

from ..schemas.trade_encoder import VenueSymbol


class WireTrade:
    __slots__ = ("venue_symbol", "sequence", "trade_time", "value")

    def __init__(self, venue_symbol: VenueSymbol, sequence: int, trade_time: int, value: bytes):
        self.venue_symbol = venue_symbol
        self.sequence = sequence
        self.trade_time = trade_time
        self.value = value
