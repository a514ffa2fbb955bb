"""Instrument reference data: canonical symbols and how each venue spells them.

Parsers look symbols up here instead of rewriting strings, so `XBT/USD` and `BTC/USD` on Kraken
both resolve to the one canonical `BTCUSD` because the reference data says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Instrument:
    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    # venue -> every spelling the venue uses; the first is the one we subscribe with
    venue_symbols: dict[str, tuple[str, ...]]


class UnknownInstrument(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class InstrumentRegistry:
    def __init__(self, instruments: list[Instrument]):
        self.instruments = {i.symbol: i for i in instruments}
        self._by_venue: dict[tuple[str, str], Instrument] = {}
        for inst in instruments:
            for venue, spellings in inst.venue_symbols.items():
                for spelling in spellings:
                    self._by_venue[(venue, spelling.upper())] = inst

    def by_venue(self, exchange: str, exchange_symbol: str) -> Instrument:
        try:
            return self._by_venue[(exchange, exchange_symbol.upper())]
        except KeyError:
            raise UnknownInstrument(f"unknown symbol {exchange_symbol!r} on {exchange}") from None

    def by_symbol(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol.upper()]
        except KeyError:
            raise UnknownInstrument(f"unknown symbol {symbol!r}") from None

    def venue_symbol(self, exchange: str, symbol: str) -> str:
        spellings = self.by_symbol(symbol).venue_symbols.get(exchange)
        if not spellings:
            raise UnknownInstrument(f"{symbol} is not listed on {exchange}")
        return spellings[0]

    def on_exchange(self, exchange: str) -> list[Instrument]:
        return [i for i in self.instruments.values() if exchange in i.venue_symbols]


@lru_cache(maxsize=1)
def default_instruments() -> InstrumentRegistry:
    raw = json.loads(resources.files(__package__).joinpath("instruments.json").read_text())
    return InstrumentRegistry(
        [
            Instrument(
                symbol=row["symbol"],
                base=row["base"],
                quote=row["quote"],
                tick_size=Decimal(row["tick_size"]),
                lot_size=Decimal(row["lot_size"]),
                venue_symbols={venue: tuple(names) for venue, names in row["venues"].items()},
            )
            for row in raw
        ]
    )
