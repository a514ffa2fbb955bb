"""What the replay exchange remembers across connections: timelines, cursors, fault budgets.

Each subscription key (protocol + stream as subscribed) has a cursor: the next trade to send.
A reconnecting client continues from its cursor (minus `resend`), so a replay is deterministic:
trades are lost only where a fault says so.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from ..recording import RecordedTrade, Timeline
from .faults import FaultPlan


@dataclass
class ReplayConfig:
    timelines: dict[str, Timeline]  # Binance symbol (as recorded) -> trades
    speed: float | None = None  # None: as fast as possible; 1.0: recorded pace; N: N times faster
    faults: FaultPlan = field(default_factory=FaultPlan)
    kraken_pairs: dict[str, str] = field(default_factory=dict)  # canonical Kraken instrument -> recorded symbol
    batch: int = 256  # frames written per socket write at full speed


class ReplayState:
    def __init__(self, config: ReplayConfig):
        self.config = config
        self.cursors: dict[str, int] = {}
        self._timeline_of: dict[str, Timeline] = {}
        self.disconnects_left = config.faults.disconnects if config.faults.disconnect_after else 0
        self.silenced = False
        self.connections = 0
        self.malformed_sent = 0
        self.held: dict[str, tuple[RecordedTrade, int]] = {}  # subscription key -> (held-back trade, trades left before it)

    def withheld(self, trade_id: int) -> bool:
        """A held-back trade not yet sent late: REST history does not show it either."""
        return any(trade.trade_id == trade_id and left >= 0 for trade, left in self.held.values())

    def hold_or_release(self, key: str, trade: RecordedTrade) -> list[RecordedTrade]:
        """The trades to send now in place of `trade` under the hold-back fault."""
        if self.config.faults.holds(trade.trade_id) and key not in self.held:
            self.held[key] = (trade, self.config.faults.hold_back[1])
            return []
        if key not in self.held or self.held[key][1] < 0:
            return [trade]
        held, left = self.held[key]
        if left > 1:
            self.held[key] = (held, left - 1)
            return [trade]
        self.held[key] = (held, -1)  # released: never held again on this subscription
        return [trade, held]

    def release(self, key: str) -> list[RecordedTrade]:
        if key not in self.held or self.held[key][1] < 0:
            return []
        held, _left = self.held[key]
        self.held[key] = (held, -1)
        return [held]

    def horizon(self, timeline: Timeline) -> int:
        """Trades before this position have happened (been streamed); REST history shows only those."""
        return max((self.cursors[k] for k, t in self._timeline_of.items() if t is timeline), default=0)

    def start(self, key: str, timeline: Timeline) -> int:
        self._timeline_of[key] = timeline
        if key in self.cursors:
            return max(0, self.cursors[key] - self.config.faults.resend)
        self.cursors[key] = 0
        return 0

    def sent_ids(self, key: str, timeline: Timeline) -> list[int]:
        """Ids delivered on the WebSocket so far for a subscription (skipped ids excluded)."""
        return [t.trade_id for t in (timeline[p] for p in range(self.cursors.get(key, 0))) if not self.config.faults.skips(t.trade_id)]


class Pacer:
    """Waits until a trade is due at the configured speed (no wait at full speed)."""

    def __init__(self, speed: float | None, first: RecordedTrade):
        self.speed = speed
        self.start_wall = time.monotonic()
        self.start_ms = first.trade_ms

    def wait_s(self, trade: RecordedTrade) -> float:
        if self.speed is None:
            return 0.0
        due = self.start_wall + (trade.trade_ms - self.start_ms) / 1000 / self.speed
        return max(0.0, due - time.monotonic())

    async def until_due(self, trade: RecordedTrade) -> None:
        delay = self.wait_s(trade)
        if delay > 0:
            await asyncio.sleep(delay)
