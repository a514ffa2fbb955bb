"""Faults the replay exchange can inject, for tests and drills."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaultPlan:
    # Close each connection (going away, 1001) after this many trade messages, at most `disconnects` times.
    disconnect_after: int | None = None
    disconnects: int = 1
    # Trade ids never sent on the WebSocket (REST history still has them): a repairable gap.
    skip_ids: tuple[int, int] | None = None
    # After a reconnect, send again this many trades the previous connection already delivered.
    resend: int = 0
    # Every this many messages, an extra malformed frame (bad JSON, unknown symbol, bad values).
    malformed_every: int | None = None
    # Once, after this many messages: stop sending anything and stop answering pings.
    silent_after: int | None = None
    # Disconnect a client whose unsent backlog exceeds this (what exchanges do to slow consumers).
    slow_consumer_kb: int | None = None

    # (trade id, N): that trade is withheld from the WebSocket and REST history until N more trades of its
    # stream went out (or the stream ends), then sent late (a trade reaching gold after its bar was built).
    hold_back: tuple[int, int] | None = None

    def holds(self, trade_id: int) -> bool:
        return self.hold_back is not None and self.hold_back[0] == trade_id

    def skips(self, trade_id: int) -> bool:
        return self.skip_ids is not None and self.skip_ids[0] <= trade_id <= self.skip_ids[1]


def parse_hold_back(text: str) -> tuple[int, int]:
    trade_id, sep, later = text.partition(":")
    if not sep or not trade_id.isdigit() or not later.isdigit() or int(later) < 1:
        raise ValueError(f"expected TRADE_ID:N (N >= 1 trades later), got {text!r}")
    return int(trade_id), int(later)


def parse_id_range(text: str) -> tuple[int, int]:
    first, sep, last = text.partition("-")
    if not sep or not first.isdigit() or not last.isdigit() or int(first) > int(last):
        raise ValueError(f"expected an id range FIRST-LAST, got {text!r}")
    return int(first), int(last)
