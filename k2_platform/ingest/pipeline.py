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
from .resume import Resume
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
    def __init__(
        self,
        publisher: Publisher,
        sequencer: Sequencer,
        http: httpx.AsyncClient,
        rest_urls: dict[str, str],
        max_repair_trades: int,
        max_catch_up_trades: int,
        resume: Resume,
    ):
        self.publisher = publisher
        self.sequencer = sequencer
        self.http = http
        self.rest_urls = rest_urls
        self.max_repair_trades = max_repair_trades
        self.max_catch_up_trades = max_catch_up_trades
        self.resume = resume
        # Symbols whose last catch-up stopped at its bound: the next trade beyond the mark shows where the
        # remainder ends, and that exact range is recorded unrepaired instead of being fetched.
        self._beyond_bound: dict[tuple[str, str], str] = {}
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
                if self._beyond_bound:
                    self._beyond_bound.pop(trade.venue_symbol.key, None)  # the catch-up bound left nothing over
            else:
                await self._admit(venue, trade, stats)

    async def _admit(self, venue: Venue, trade: WireTrade, stats: FeedStats) -> None:
        """A trade beyond a gap (repaired first) or a redelivery (dropped)."""
        key = trade.venue_symbol.key
        verdict = self.sequencer.check(key, trade.sequence)
        if verdict is Verdict.GAP:
            async with self._repair_lock:
                if self.sequencer.check(key, trade.sequence) is Verdict.GAP:
                    if key in self._beyond_bound:
                        self._record_gap(key, self.sequencer.next_id(key), trade.sequence - 1, [], now_us(), self._beyond_bound.pop(key), stats)
                    else:
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
        """After a (re)connect: fetch from REST what was traded since the newest trade durably in Kafka.

        Frames in flight when a connection (or the process) dies are lost without any later trade
        revealing it (a quiet market, the end of a replay); asking REST closes that hole at once.
        """
        stats = self.stats[venue.name]
        async with self._repair_lock:
            keys: dict[tuple[str, str], str] = {}
            for exchange_symbol in exchange_symbols:  # one catch-up per instrument, whatever its spellings
                keys.setdefault(venue.normalizer.venue_symbol(exchange_symbol).key, exchange_symbol)
            await self.resume.sync(venue.name, list(keys))
            for key, exchange_symbol in keys.items():
                if self.sequencer.last_time_us(key) is not None:
                    await self._fill(venue, exchange_symbol, key, None, stats)

    async def _repair(self, venue: Venue, trade: WireTrade, key: tuple[str, str], stats: FeedStats) -> None:
        await self._fill(venue, trade.venue_symbol.exchange_symbol, key, trade.sequence - 1, stats)

    async def _fill(self, venue: Venue, exchange_symbol: str, key: tuple[str, str], last: int | None, stats: FeedStats) -> None:
        """Publish from REST the trades after the high-water mark up to `last` (None: the newest, at most
        max_catch_up_trades of them); record the range and how much of it was repaired."""
        first = self.sequencer.next_id(key)
        detected_at = now_us()
        if last is None:
            fetched, detail = await self._catch_up_fetch(venue, exchange_symbol, key, first)
        elif last - first + 1 > self.max_repair_trades:
            fetched, detail = [], f"gap of {last - first + 1} trades exceeds max_repair_trades={self.max_repair_trades}; not fetched"
        else:
            fetched, detail = await self._fetch(venue, exchange_symbol, key, first, last)
        got = [t for t in fetched if self.sequencer.check(key, t.sequence) is not Verdict.DUPLICATE]
        if last is None:
            if not got:
                return  # nothing was missed
            last = got[-1].sequence
            detail = f"after reconnect: {detail}"
            log.info("%s %s: caught up %d trades (%d..%d) from REST", *key, len(got), first, last)
        # The record goes first: should the process die before these trades are in Kafka, a restart fetches them
        # again; the other order could leave trades in Kafka beyond a hole that nobody recorded.
        self._record_gap(key, first, last, [t.sequence for t in got], detected_at, detail, stats)
        for repaired in got:
            self._publish(repaired, stats)
        stats.repaired_trades += len(got)

    async def _catch_up_fetch(self, venue: Venue, exchange_symbol: str, key: tuple[str, str], first: int) -> tuple[list[WireTrade], str]:
        """The trades after the mark, oldest first, at most max_catch_up_trades; notes when the bound cut it short."""
        self._beyond_bound.pop(key, None)
        bound = self.max_catch_up_trades
        fetched, detail = await self._fetch(venue, exchange_symbol, key, first, first + bound - 1) if bound else ([], "")
        if bound == 0 or (fetched and fetched[-1].sequence == first + bound - 1):
            # There may be more: the next trade beyond the mark (live, or the next catch-up) says how many.
            self._beyond_bound[key] = f"left over after a REST catch-up of at most max_catch_up_trades={bound} trades from {first}; not fetched"
            log.warning(
                "%s %s: catch-up stopped at max_catch_up_trades=%d; what lies beyond %d will be recorded as an unrepaired gap",
                *key,
                bound,
                first + bound - 1,
            )
        return fetched, detail

    def _record_gap(self, key: tuple[str, str], first: int, last: int, got: list[int], detected_at: int, detail: str, stats: FeedStats) -> None:
        """Move the mark past [first, last] and record the range in feed_gaps, with the ids of it that were published."""
        count = last - first + 1
        stats.gaps_found += 1
        self.sequencer.close_gap(key, first, last, got)
        if len(got) == count:
            stats.gaps_repaired += 1
        else:
            log.warning("%s %s: gap %d..%d only %d of %d trades repaired: %s", *key, first, last, len(got), count, detail)
        self.publisher.gap(
            FeedGap(
                exchange=key[0],
                symbol=key[1],
                first_missing_id=first,
                last_missing_id=last,
                missing_count=count,
                detected_at=detected_at,
                repaired=len(got) == count,
                repaired_count=len(got),
                detail=detail,
            )
        )

    async def _fetch(self, venue: Venue, exchange_symbol: str, key, first: int, last: int) -> tuple[list[WireTrade], str]:
        source = f"REST history {self.rest_urls[venue.name]}"
        try:
            fetched = await venue.history(self.http, self.rest_urls[venue.name], exchange_symbol, first, last, self.sequencer.last_time_us(key))
        except Exception as exc:  # any REST failure leaves the gap recorded as unrepaired, feed keeps running
            return [], f"{source} failed: {type(exc).__name__}: {exc}"
        return sorted(fetched, key=lambda t: t.sequence), f"{source}: {len(fetched)} trades"

    def _reject(self, exchange: str, raw: str | bytes, exc: FrameRejected, received_us: int) -> None:
        self.stats[exchange].rejects += 1
        data = raw.encode() if isinstance(raw, str) else raw
        self.publisher.reject(IngestReject(exchange=exchange, stage=exc.stage, reason=str(exc), raw=data, received_at=received_us))
