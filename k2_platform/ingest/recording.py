"""Recorded Binance trade streams (`<receive ns> <raw combined-stream frame>` per line, gzip).

The replay exchange serves these, and the benchmark loops them: loop n shifts every trade id by
n * (id span) and every time by n * (duration), so ids stay consecutive and identities distinct.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class RecordedTrade:
    symbol: str  # as Binance spells it, e.g. BTCUSDT
    trade_id: int
    price: str  # exact decimal text as recorded
    quantity: str
    trade_ms: int
    event_ms: int
    buyer_is_maker: bool
    best_match: bool

    def binance_data(self) -> str:
        """The `data` object of a Binance trade frame, in Binance's key order."""
        return (
            f'{{"e":"trade","E":{self.event_ms},"s":"{self.symbol}","t":{self.trade_id},"p":"{self.price}",'
            f'"q":"{self.quantity}","T":{self.trade_ms},"m":{_json_bool(self.buyer_is_maker)},"M":{_json_bool(self.best_match)}}}'
        )


def _json_bool(value: bool) -> str:
    return "true" if value else "false"


def parse_line(line: str) -> RecordedTrade:
    _received_ns, frame = line.split(" ", 1)
    data = json.loads(frame)["data"]
    return RecordedTrade(
        symbol=data["s"],
        trade_id=data["t"],
        price=data["p"],
        quantity=data["q"],
        trade_ms=data["T"],
        event_ms=data["E"],
        buyer_is_maker=data["m"],
        best_match=data["M"],
    )


def load_recordings(paths: list[Path]) -> dict[str, list[RecordedTrade]]:
    """Trades per symbol, ordered by trade id; a trade present in two files is kept once."""
    by_symbol: dict[str, dict[int, RecordedTrade]] = {}
    for path in paths:
        with gzip.open(path, "rt") as lines:
            for line in lines:
                if line.strip():
                    trade = parse_line(line)
                    by_symbol.setdefault(trade.symbol, {})[trade.trade_id] = trade
    return {symbol: [trades[i] for i in sorted(trades)] for symbol, trades in by_symbol.items()}


def rebased(by_symbol: dict[str, list[RecordedTrade]], first_ms: int) -> dict[str, list[RecordedTrade]]:
    """The recordings shifted in time so that their earliest trade happens at `first_ms` (all symbols alike,
    so they keep their relative timing); ids and everything else unchanged."""
    shift = first_ms - min(trades[0].trade_ms for trades in by_symbol.values())
    return {symbol: [replace(t, trade_ms=t.trade_ms + shift, event_ms=t.event_ms + shift) for t in trades] for symbol, trades in by_symbol.items()}


class Timeline:
    """The trades of one symbol, optionally repeated `loops` times with shifted ids and times."""

    def __init__(self, trades: list[RecordedTrade], loops: int = 1):
        self.trades = trades
        self.loops = loops
        self.id_span = trades[-1].trade_id - trades[0].trade_id + 1
        self.ms_span = trades[-1].trade_ms - trades[0].trade_ms + 1

    def __len__(self) -> int:
        return len(self.trades) * self.loops

    def __getitem__(self, position: int) -> RecordedTrade:
        if not 0 <= position < len(self):
            raise IndexError(f"position {position} outside a timeline of {len(self)} trades")
        loop, index = divmod(position, len(self.trades))
        trade = self.trades[index]
        if loop == 0:
            return trade
        return replace(
            trade,
            trade_id=trade.trade_id + loop * self.id_span,
            trade_ms=trade.trade_ms + loop * self.ms_span,
            event_ms=trade.event_ms + loop * self.ms_span,
        )

    def position_of(self, trade_id: int) -> int:
        """Position of the first trade with an id >= trade_id (ids are consecutive per loop)."""
        first = self.trades[0].trade_id
        offset = trade_id - first
        if offset <= 0:
            return 0
        loop, within = divmod(offset, self.id_span)
        if loop >= self.loops:
            return len(self)
        # Ids inside a loop are consecutive in the shared recordings; bisect keeps it right otherwise.
        lo, hi = 0, len(self.trades)
        target = first + within
        while lo < hi:
            mid = (lo + hi) // 2
            if self.trades[mid].trade_id < target:
                lo = mid + 1
            else:
                hi = mid
        return loop * len(self.trades) + lo
