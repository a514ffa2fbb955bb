"""From frames to Kafka: parse, reject to the DLQ, admit exactly once, repair gaps from REST."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from ..schemas.feed_gap import FeedGap
from ..schemas.ingest_reject import IngestReject
from .normalize import now_us
from .publisher import Publisher
from .sequencer import Sequencer, Verdict
from .trade_wire import WireTrade
from .venue import FrameRejected, Venue

log = logging.getLogger(__name__)
_POLL_EVERY = 512  # serve delivery reports this often even when frames never stop coming


@dataclass
class FeedStats:
    messages: int = 0
    trades: int = 0
    repaired_trades: int = 0
    duplicates: int = 0
    rejects: int = 0
    gaps_found: int = 0
    gaps_repaired: int = 0


class Pipeline:
    def __init__(self, publisher: Publisher, sequencer: Sequencer, http: httpx.AsyncClient, rest_urls: dict[str, str],
                 max_repair_trades: int):
        self.publisher = publisher
        self.sequencer = sequencer
        self.http = http
        self.rest_urls = rest_urls
        self.max_repair_trades = max_repair_trades
        self.stats: dict[str, FeedStats] = {exchange: FeedStats() for exchange in rest_urls}
        # One repair at a time: another connection reaching the same gap waits, then sees it filled.
        self._repair_lock = asyncio.Lock()
        self._since_poll = 0

    async def handle(self, venue: Venue, raw: str | bytes, received_us: int) -> None:
        stats = self.stats[venue.name]
        stats.messages += 1
        self._since_poll += 1
        if self._since_poll >= _POLL_EVERY:
            self._since_poll = 0
            self.publisher.poll()
        try:
            trades, rejects = venue.parse(raw, received_us)
        except FrameRejected as exc:
            self._reject(venue.name, raw, exc, received_us)
            return
        for exc in rejects:
            self._reject(venue.name, raw, exc, received_us)
        for trade in trades:
            # The usual trade, the next id of its symbol, is taken and published without suspending. Taking
            # it first loses nothing: a produce that fails raises and ends the service.
            if self.sequencer.take_next(trade.venue_symbol.key, trade.sequence, trade.trade_time):
                self.publisher.trade(trade)
                stats.trades += 1
            else:
                await self._admit(venue, trade, stats)

    async def _admit(self, venue: Venue, trade: WireTrade, stats: FeedStats) -> None:
        """A trade beyond a gap (repaired first) or a redelivery (dropped)."""
        key = trade.venue_symbol.key
        verdict = self.sequencer.check(key, trade.sequence)
        if verdict is Verdict.GAP:
            async with self._repair_lock:
                if self.sequencer.check(key, trade.sequence) is Verdict.GAP:
                    await self._repair(venue, trade, key, stats)
                verdict = self.sequencer.check(key, trade.sequence)
        if verdict is Verdict.DUPLICATE:
            stats.duplicates += 1
            return
        self._publish(trade, stats)

    def _publish(self, trade: WireTrade, stats: FeedStats) -> None:
        self.publisher.trade(trade)
        self.sequencer.accept(trade.venue_symbol.key, trade.sequence, trade.trade_time)
        stats.trades += 1

    async def catch_up(self, venue: Venue, exchange_symbols: list[str]) -> None:
        """After a (re)connect: fetch from REST what was traded since the last trade we have.

        Frames in flight when a connection dies are lost without any later trade revealing it
        (a quiet market, the end of a replay); asking REST closes that hole at once.
        """
        stats = self.stats[venue.name]
        async with self._repair_lock:
            for exchange_symbol in exchange_symbols:
                key = venue.normalizer.venue_symbol(exchange_symbol).key
                if self.sequencer.last_time_us(key) is not None:
                    await self._fill(venue, exchange_symbol, key, None, stats)

    async def _repair(self, venue: Venue, trade: WireTrade, key: tuple[str, str], stats: FeedStats) -> None:
        await self._fill(venue, trade.venue_symbol.exchange_symbol, key, trade.sequence - 1, stats)

    async def _fill(self, venue: Venue, exchange_symbol: str, key: tuple[str, str], last: int | None, stats: FeedStats) -> None:
        """Publish the trades after the high-water mark up to `last` (None: the newest) from REST; record any gap."""
        first = self.sequencer.next_id(key)
        detected_at = now_us()
        fetched, detail = await self._fetch(venue, exchange_symbol, key, first, last)
        got = []
        for repaired in fetched:
            if self.sequencer.check(key, repaired.sequence) is not Verdict.DUPLICATE:
                self._publish(repaired, stats)
                got.append(repaired.sequence)
        if last is None:
            if not got:
                return  # nothing was missed
            last = got[-1]
            detail = f"after reconnect: {detail}"
        count = last - first + 1
        stats.gaps_found += 1
        stats.repaired_trades += len(got)
        self.sequencer.close_gap(key, first, last, got)
        if len(got) == count:
            stats.gaps_repaired += 1
        else:
            log.warning("%s %s: gap %d..%d only %d of %d trades repaired: %s", *key, first, last, len(got), count, detail)
        self.publisher.gap(FeedGap(
            exchange=key[0], symbol=key[1], first_missing_id=first, last_missing_id=last,
            missing_count=count, detected_at=detected_at, repaired=len(got) == count, repaired_count=len(got), detail=detail,
        ))

    async def _fetch(self, venue: Venue, exchange_symbol: str, key, first: int, last: int | None) -> tuple[list[WireTrade], str]:
        if last is not None and last - first + 1 > self.max_repair_trades:
            return [], f"gap of {last - first + 1} trades exceeds max_repair_trades={self.max_repair_trades}; not fetched"
        source = f"REST history {self.rest_urls[venue.name]}"
        try:
            fetched = await venue.history(self.http, self.rest_urls[venue.name], exchange_symbol, first, last,
                                          self.sequencer.last_time_us(key))
        except Exception as exc:  # any REST failure leaves the gap recorded as unrepaired, feed keeps running
            return [], f"{source} failed: {type(exc).__name__}: {exc}"
        return sorted(fetched, key=lambda t: t.sequence), f"{source}: {len(fetched)} trades"

    def _reject(self, exchange: str, raw: str | bytes, exc: FrameRejected, received_us: int) -> None:
        self.stats[exchange].rejects += 1
        data = raw.encode() if isinstance(raw, str) else raw
        self.publisher.reject(IngestReject(exchange=exchange, stage=exc.stage, reason=str(exc), raw=data, received_at=received_us))
