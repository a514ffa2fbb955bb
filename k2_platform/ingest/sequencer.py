"""Exactly-once admission of trades by consecutive trade id, per exchange + symbol.

Memory per symbol is one high-water id plus a bounded window of id ranges that are known missing
(a gap REST could not fill): a trade at or below the high-water mark is a redelivery unless it
falls in one of those ranges.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    NEW = "new"
    DUPLICATE = "duplicate"
    GAP = "gap"  # new, but ids between the high-water mark and this one were never seen


@dataclass
class _SymbolState:
    high: int
    last_time_us: int
    open_ranges: deque = field(default_factory=deque)  # (first, last) still missing


class Sequencer:
    def __init__(self, open_range_window: int):
        self.open_range_window = open_range_window
        self._state: dict[tuple[str, str], _SymbolState] = {}
        self.forgotten_ranges = 0  # missing ranges dropped from the bounded window

    def check(self, key: tuple[str, str], trade_id: int) -> Verdict:
        state = self._state.get(key)
        if state is None or trade_id == state.high + 1:
            return Verdict.NEW
        if trade_id > state.high:
            return Verdict.GAP
        if any(first <= trade_id <= last for first, last in state.open_ranges):
            return Verdict.NEW
        return Verdict.DUPLICATE

    def take_next(self, key: tuple[str, str], trade_id: int, trade_time_us: int) -> bool:
        """Accept trade_id if it is the next id of a symbol already seen (the usual case); else check() decides."""
        state = self._state.get(key)
        if state is None or trade_id != state.high + 1:
            return False
        state.high, state.last_time_us = trade_id, trade_time_us
        return True

    def next_id(self, key: tuple[str, str]) -> int:
        return self._state[key].high + 1

    def last_time_us(self, key: tuple[str, str]) -> int | None:
        state = self._state.get(key)
        return state.last_time_us if state else None

    def resume(self, key: tuple[str, str], high: int, last_time_us: int) -> None:
        """Start from a high-water mark known from elsewhere (the newest trade in Kafka), forgetting any other state."""
        self._state[key] = _SymbolState(high, last_time_us)

    def accept(self, key: tuple[str, str], trade_id: int, trade_time_us: int) -> None:
        state = self._state.get(key)
        if state is None:
            self._state[key] = _SymbolState(trade_id, trade_time_us)
        elif trade_id > state.high:
            state.high, state.last_time_us = trade_id, trade_time_us
        else:
            self._fill(state, trade_id)

    def close_gap(self, key: tuple[str, str], first: int, last: int, repaired_ids: list[int]) -> None:
        """After a repair attempt: move past the gap, remembering the ids that are still missing."""
        state = self._state[key]
        state.high = max(state.high, last)
        start = first
        for trade_id in sorted(repaired_ids) + [last + 1]:
            if trade_id > start:
                self._remember_missing(state, start, trade_id - 1)
            start = trade_id + 1

    def _remember_missing(self, state: _SymbolState, first: int, last: int) -> None:
        state.open_ranges.append((first, last))
        if len(state.open_ranges) > self.open_range_window:
            state.open_ranges.popleft()
            self.forgotten_ranges += 1

    @staticmethod
    def _fill(state: _SymbolState, trade_id: int) -> None:
        for index, (first, last) in enumerate(state.open_ranges):
            if first <= trade_id <= last:
                del state.open_ranges[index]
                # Put back what is still missing on either side, in order.
                for rest in reversed([r for r in ((first, trade_id - 1), (trade_id + 1, last)) if r[0] <= r[1]]):
                    state.open_ranges.insert(index, rest)
                return
