"""One venue's WebSocket feed: connect, subscribe, keep alive, detect staleness, rotate, fail over.

Shared by every exchange; the venue module only supplies URLs, subscription frames and pings.
Frames go to `on_frame` as they arrive. The connection's own receive queue (max_queue) is the
bounded frame buffer: when the consumer falls behind, reading from the socket pauses and TCP
pushes back on the exchange, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, WebSocketException

from ..settings import IngestSettings
from .backoff import Backoff
from .venue import Venue

log = logging.getLogger(__name__)
_YIELD_EVERY = 256
FrameHandler = Callable[[Venue, "str | bytes", int], Awaitable[None]]
ConnectedHandler = Callable[[Venue, list[str]], Awaitable[None]]  # after subscribing, before reading


class FeedConnection:
    def __init__(
        self,
        venue: Venue,
        endpoints: list[str],
        exchange_symbols: list[str],
        config: IngestSettings,
        on_frame: FrameHandler,
        stop: asyncio.Event,
        on_connected: ConnectedHandler,
        on_reconnect: Callable[[str], None] = lambda reason: None,
    ):
        if not endpoints:
            raise ValueError(f"{venue.name}: no WebSocket endpoint configured")
        self.venue = venue
        self.endpoints = endpoints
        self.exchange_symbols = exchange_symbols
        self.config = config
        self.on_frame = on_frame
        self.on_connected = on_connected
        self.stop = stop
        self.on_reconnect = on_reconnect
        self.connections = 0
        self.frames = 0
        self._last_frame = 0.0
        self._ping_ids = itertools.count(1)

    async def run(self) -> None:
        backoff = Backoff(self.config.backoff_initial_s, self.config.backoff_max_s)
        endpoint_index = 0
        while not self.stop.is_set():
            url = self.venue.stream_url(self.endpoints[endpoint_index % len(self.endpoints)], self.exchange_symbols)
            frames_before = self.frames
            try:
                reason = await self._session(url)
            except (TimeoutError, OSError, WebSocketException) as exc:
                reason = "error"
                log.warning("%s: connection to %s failed: %s", self.venue.name, url, exc)
            if self.stop.is_set():
                return
            self.on_reconnect(reason)
            if reason == "rotation":
                continue  # planned: reconnect at once to the same endpoint
            if self.frames != frames_before:
                backoff.reset()  # the connection worked for a while: this is a fresh failure
            endpoint_index += 1  # fail over to the next endpoint
            delay = backoff.next_delay()
            try:
                await asyncio.wait_for(self.stop.wait(), delay)
            except TimeoutError:
                pass

    async def _session(self, url: str) -> str:
        c = self.config
        async with connect(
            url,
            max_queue=c.frame_queue_size,
            open_timeout=c.stale_timeout_s,
            close_timeout=c.close_timeout_s,
            ping_interval=c.app_ping_interval_s,
            ping_timeout=c.ping_timeout_s,
        ) as ws:
            self.connections += 1
            for frame in self.venue.subscribe_frames(self.exchange_symbols):
                await ws.send(frame)
            await self.on_connected(self.venue, self.exchange_symbols)
            self._last_frame = time.monotonic()
            outcome: list[str] = []
            watchdog = asyncio.create_task(self._watch(ws, outcome))
            try:
                async for raw in ws:  # ends after a normal close, once every received frame is read
                    self._last_frame = time.monotonic()
                    self.frames += 1
                    await self.on_frame(self.venue, raw, time.time_ns() // 1000)
                    if self.frames % _YIELD_EVERY == 0:
                        # Buffered frames never suspend the loop: let pings, the watchdog and
                        # delivery reports run.
                        await asyncio.sleep(0)
            except ConnectionClosedError:
                if not outcome:  # not our own abort of a stale connection
                    raise
            finally:
                watchdog.cancel()
            return outcome[0] if outcome else "server_closed"

    async def _watch(self, ws: ClientConnection, outcome: list[str]) -> None:
        """Stop, planned rotation, staleness and application pings for one connection."""
        c = self.config
        opened = last_ping = time.monotonic()
        tick = min(1.0, c.stale_timeout_s / 4, c.app_ping_interval_s)
        while True:
            try:
                await asyncio.wait_for(self.stop.wait(), tick)
            except TimeoutError:
                pass
            now = time.monotonic()
            if self.stop.is_set():
                outcome.append("stop")
                # Close handshake: frames the venue sent before our close are still read and published.
                await ws.close()
                return
            if now - self._last_frame > c.stale_timeout_s:
                outcome.append("stale")
                log.warning("%s: no frame for %.1fs, dropping the connection", self.venue.name, now - self._last_frame)
                ws.transport.abort()  # a silent peer would not answer a close handshake either
                return
            if self.venue.max_connection_age_s is not None and now - opened > self.venue.max_connection_age_s:
                outcome.append("rotation")
                await ws.close()
                return
            if self.venue.uses_app_ping and now - last_ping >= c.app_ping_interval_s:
                last_ping = now
                await ws.send(self.venue.ping_frame(next(self._ping_ids)))
