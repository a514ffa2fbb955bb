"""Seeding the sequencer with what is durably in Kafka, so a restarted feed knows what it missed.

On a feed's first connect each symbol's newest trade id is read back from the trade topic
(durable_marks); the REST catch-up then asks for everything after it. On later reconnects the
in-memory mark is what is in Kafka plus what is still in flight, which either lands or fails; only
after a failed delivery can memory be ahead of Kafka, so then the marks are read back again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .durable_marks import MarkScan
from .publisher import Publisher
from .sequencer import Sequencer

log = logging.getLogger(__name__)
ReadMarks = Callable[[str, list[str]], MarkScan]  # (exchange, canonical symbols) -> scan of the trade topic


class Resume:
    def __init__(self, sequencer: Sequencer, publisher: Publisher, read_marks: ReadMarks, settle_timeout_s: float):
        self.sequencer = sequencer
        self.publisher = publisher
        self.read_marks = read_marks
        self.settle_timeout_s = settle_timeout_s
        self._synced: set[tuple[str, str]] = set()
        self._failures_seen: dict[str, int] = {}

    async def sync(self, exchange: str, keys: list[tuple[str, str]]) -> None:
        """Make the sequencer's marks for these (exchange, symbol) keys the ones durably in Kafka."""
        failed = self.publisher.failed
        if failed != self._failures_seen.get(exchange, 0):
            log.warning("%s: %d Kafka deliveries failed: reading back what is durable before catching up", exchange, failed)
            await self.publisher.settle(self.settle_timeout_s)
            self._synced = {k for k in self._synced if k[0] != exchange}
            self._failures_seen[exchange] = self.publisher.failed
        todo = [k for k in keys if k not in self._synced]
        if not todo:
            return
        scan = await asyncio.to_thread(self.read_marks, exchange, [symbol for _, symbol in todo])
        for key in todo:
            mark = scan.marks.get(key[1])
            if mark is not None:
                self.sequencer.resume(key, mark.trade_id, mark.trade_time_us)
                log.info(
                    "%s %s: newest trade in Kafka is %d (%s[%d] offset %d): catching up from REST after it",
                    *key,
                    mark.trade_id,
                    scan.topic,
                    mark.partition,
                    mark.offset,
                )
            elif self.sequencer.last_time_us(key) is None:
                report = log.warning if scan.bounded else log.info
                report("%s %s: %s: starting at the live stream", *key, scan.why_missing(key[1]))
            self._synced.add(key)
