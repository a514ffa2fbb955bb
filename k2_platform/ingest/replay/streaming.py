"""Sending one subscription's trades on one connection, at the configured pace, with faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from ..recording import RecordedTrade, Timeline
from .state import Pacer, ReplayState

FrameBuilder = Callable[[list[RecordedTrade]], list[str]]
MalformedBuilder = Callable[[int, RecordedTrade], str]
GOING_AWAY = 1001
POLICY_VIOLATION = 1008


class ReplayConnection:
    """One client connection: counts messages and applies the connection-level faults."""

    def __init__(self, ws: ServerConnection, state: ReplayState):
        self.ws = ws
        self.state = state
        self.faults = state.config.faults
        self.messages = 0
        self.silent = False
        state.connections += 1

    def room(self, wanted: int) -> int:
        """How many more messages may go out before a planned fault."""
        limits = [wanted]
        if self.faults.disconnect_after and self.state.disconnects_left > 0:
            limits.append(self.faults.disconnect_after - self.messages)
        if self.faults.silent_after and not self.state.silenced:
            limits.append(self.faults.silent_after - self.messages)
        return max(1, min(limits))

    async def send(self, frames: list[str]) -> None:
        if self.silent:
            await self.ws.wait_closed()
            raise ConnectionClosed(None, None)
        async with self.ws.send_context():
            for frame in frames:
                self.ws.protocol.send_text(frame.encode())
        limit = self.faults.slow_consumer_kb
        if limit is not None and self.ws.transport.get_write_buffer_size() > limit * 1024:
            await self.ws.close(POLICY_VIOLATION, "slow consumer")
            raise ConnectionClosed(None, None)
        await self.ws.drain()
        self.messages += len(frames)

    async def after_messages(self) -> None:
        """Planned faults, once the messages sent so far are accounted for in the cursor."""
        f, state = self.faults, self.state
        if f.disconnect_after and state.disconnects_left > 0 and self.messages >= f.disconnect_after:
            state.disconnects_left -= 1
            await self.ws.close(GOING_AWAY, "replay fault: disconnect")
            raise ConnectionClosed(None, None)
        if f.silent_after and not state.silenced and self.messages >= f.silent_after:
            state.silenced = self.silent = True


async def stream(conn: ReplayConnection, key: str, timeline: Timeline, build: FrameBuilder, malformed: MalformedBuilder) -> None:
    """Send the timeline from the key's cursor until it ends or the connection closes."""
    state, faults = conn.state, conn.faults
    position = state.start(key, timeline)
    pacer = Pacer(state.config.speed, timeline[position]) if position < len(timeline) else None
    try:
        while position < len(timeline):
            batch, next_position = [], position
            while next_position < len(timeline) and len(batch) < conn.room(state.config.batch):
                trade = timeline[next_position]
                wait = pacer.wait_s(trade)
                if wait > 0:
                    if batch:
                        break
                    await asyncio.sleep(wait)
                next_position += 1
                if not faults.skips(trade.trade_id):
                    batch += state.hold_or_release(key, trade)
            frames = build(batch) if batch else []
            if faults.malformed_every and frames:
                frames = _with_malformed(conn, frames, batch[-1], malformed)
            if frames:
                await conn.send(frames)
            position = state.cursors[key] = next_position
            await conn.after_messages()
        late = state.release(key)  # the stream ended before N more trades: the held-back trade goes last
        if late:
            await conn.send(build(late))
    except ConnectionClosed:
        return


def _with_malformed(conn: ReplayConnection, frames: list[str], last: RecordedTrade, malformed: MalformedBuilder) -> list[str]:
    every, out = conn.faults.malformed_every, []
    for frame in frames:
        out.append(frame)
        if (conn.messages + len(out)) % every == 0:
            out.append(malformed(conn.state.malformed_sent, last))
            conn.state.malformed_sent += 1
    return out
