"""The common interface of an exchange module (cryptofeed style).

An exchange module only knows its protocol: how to address and subscribe to its streams, how a
frame turns into normalized trades, and how to fetch missing trades from its REST history.
Everything else (connections, heartbeats, backoff, failover, dedup, gap repair, Kafka) is shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import httpx

from .trade_wire import WireTrade

if TYPE_CHECKING:
    from .normalize import Normalizer


class FrameRejected(ValueError):
    """A frame (or one trade in it) that cannot become a trade; the message is the reason."""

    def __init__(self, reason: str, stage: str):
        super().__init__(reason)
        self.stage = stage


# (trades, rejects): the trades of a frame, and the reasons for those of its trades that were rejected (a
# frame may hold good and bad trades). A plain tuple: one is built per frame.
ParsedFrame = tuple[Sequence[WireTrade], Sequence[FrameRejected]]


class Venue:
    name: str
    normalizer: Normalizer
    # Planned reconnect before the venue's own connection limit; None: no limit.
    max_connection_age_s: float | None = None
    # Application-level keep-alive (Kraken); None: the venue relies on WebSocket pings.
    uses_app_ping: bool = False

    def stream_url(self, endpoint: str, exchange_symbols: list[str]) -> str:
        raise NotImplementedError

    def subscribe_frames(self, exchange_symbols: list[str]) -> list[str]:
        """Frames to send after connecting (empty when the URL itself subscribes)."""
        return []

    def ping_frame(self, request_id: int) -> str:
        raise NotImplementedError

    def parse(self, raw: str | bytes, received_us: int) -> ParsedFrame:
        """Trades in a frame; control frames (acks, heartbeats, pongs) give none. Raises FrameRejected."""
        raise NotImplementedError

    async def history(
        self, http: httpx.AsyncClient, rest_url: str, exchange_symbol: str, first_id: int, last_id: int | None, after_time_us: int
    ) -> list[WireTrade]:
        """Trades with ids first_id..last_id (None: up to the newest) from REST history, oldest first.

        after_time_us is the time of the last trade before first_id, for venues whose history is
        addressed by time.
        """
        raise NotImplementedError
