"""`k2 ingest` as a service: feeds for each exchange, one pipeline, one producer, clean shutdown.

On start each feed resumes after the newest trade of each symbol durably in Kafka (resume.py), fetching
what it missed from REST before taking live frames, so a kill -9 at any instant loses nothing.
On stop (SIGTERM/SIGINT or stop()), every connection performs the close handshake while still
reading, so each frame the exchange sent before our close is published; then the producer is
flushed. Nothing received is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from ..schemas.instruments import InstrumentRegistry, default_instruments
from ..schemas.trade_encoder import encoder_from_settings
from ..settings import Settings
from .binance import BinanceVenue
from .connection import FeedConnection
from .durable_marks import DurableMarks
from .kraken import KrakenVenue
from .metrics import IngestMetrics
from .normalize import Normalizer
from .pipeline import FeedStats, Pipeline
from .publisher import Publisher
from .resume import Resume
from .sequencer import Sequencer
from .venue import Venue

log = logging.getLogger(__name__)
_POLL_INTERVAL_S = 0.05
_VENUES = {"binance": BinanceVenue, "kraken": KrakenVenue}


@dataclass(frozen=True)
class Feed:
    exchange: str
    exchange_symbols: list[str]  # as the venue spells them
    ws_urls: list[str]  # failover order
    rest_url: str


def replay_feeds(
    settings: Settings, exchanges: list[str], symbols: list[str], replay_url: str | None = None, instruments: InstrumentRegistry | None = None
) -> list[Feed]:
    """Feeds against the local replay exchange (`k2 replay-server`)."""
    base = (replay_url or f"ws://{settings.ingest.replay_host}:{settings.ingest.replay_port}").rstrip("/")
    rest = "http" + base[2:] if base.startswith("ws") else base
    return [Feed(e, venue_symbols(e, symbols, instruments), [base], rest) for e in exchanges]


def live_feeds(settings: Settings, exchanges: list[str], symbols: list[str], instruments: InstrumentRegistry | None = None) -> list[Feed]:
    i = settings.ingest
    urls = {"binance": (i.binance_ws_urls, i.binance_rest_url), "kraken": (i.kraken_ws_urls, i.kraken_rest_url)}
    return [Feed(e, venue_symbols(e, symbols, instruments), list(urls[e][0]), urls[e][1]) for e in exchanges]


def venue_symbols(exchange: str, symbols: list[str], instruments: InstrumentRegistry | None = None) -> list[str]:
    """Venue spellings of canonical symbols; symbols the venue does not list are skipped."""
    instruments = instruments or default_instruments()
    listed = {i.symbol for i in instruments.on_exchange(exchange)}
    return [instruments.venue_symbol(exchange, s) for s in symbols if s.upper() in listed]


class IngestService:
    def __init__(self, settings: Settings, feeds: list[Feed], idle_exit_s: float | None = None, instruments: InstrumentRegistry | None = None):
        self.settings = settings
        self.feeds = [f for f in feeds if f.exchange_symbols]
        if not self.feeds:
            raise ValueError("no feed to run: none of the symbols is listed on the chosen exchanges")
        self.idle_exit_s = idle_exit_s
        self.instruments = instruments or default_instruments()
        self.metrics = IngestMetrics()
        self.stats: dict[str, FeedStats] = {}
        self.connections: list[FeedConnection] = []
        self.undelivered = 0
        self.delivered = 0
        self.delivery_failures: list[str] = []
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.started = threading.Event()
        self._synced: dict[tuple[str, str], int] = {}
        self._trades_seen, self._trades_seen_at = 0, 0.0

    def stop(self) -> None:
        """Ask the service to stop; safe from any thread and from signal handlers."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    def build_venue(self, exchange: str) -> Venue:
        i = self.settings.ingest
        age = {"binance": i.binance_max_connection_age_s, "kraken": i.kraken_max_connection_age_s}[exchange]
        encoder = encoder_from_settings(self.settings, topic=self.settings.topics.trades(exchange))  # registry subject follows the topic
        normalizer = Normalizer(exchange, self.instruments, self.settings.max_future_skew_s, encoder)
        return _VENUES[exchange](normalizer, age, i.rest_page_limit)

    @asynccontextmanager
    async def pipeline(self) -> AsyncIterator[tuple[Pipeline, dict[str, Venue]]]:
        """The pipeline all feeds share and a venue per feed; on exit the producer is flushed and the outcome kept."""
        i = self.settings.ingest
        publisher = Publisher(self.settings, [f.exchange for f in self.feeds], self.metrics)
        async with httpx.AsyncClient(timeout=i.rest_timeout_s) as http:
            sequencer = Sequencer(i.open_gap_window)
            resume = Resume(sequencer, publisher, DurableMarks(self.settings).read, i.flush_timeout_s)
            pipeline = Pipeline(
                publisher, sequencer, http, {f.exchange: f.rest_url for f in self.feeds}, i.max_repair_trades, i.max_catch_up_trades, resume
            )
            self.stats = pipeline.stats
            try:
                yield pipeline, {f.exchange: self.build_venue(f.exchange) for f in self.feeds}
            finally:
                self.undelivered = publisher.flush(i.flush_timeout_s)
                self.delivered = publisher.delivered
                self.delivery_failures = publisher.failures
                self._sync_metrics()

    async def run(self, handle_signals: bool = False) -> int:
        """Run until stopped (or idle); returns 0 when every trade was delivered to Kafka."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._loop.add_signal_handler(sig, self._stop.set)
        i = self.settings.ingest
        self.metrics.serve(i.metrics_port)
        async with self.pipeline() as (pipeline, venues):
            self.connections = [
                FeedConnection(
                    venues[f.exchange],
                    f.ws_urls,
                    f.exchange_symbols,
                    i,
                    pipeline.handle,
                    self._stop,
                    pipeline.catch_up,
                    on_reconnect=self._reconnect_counter(f.exchange),
                )
                for f in self.feeds
            ]
            housekeeping = asyncio.create_task(self._housekeeping(pipeline.publisher))
            self.started.set()
            try:
                await asyncio.gather(*(c.run() for c in self.connections))
            finally:
                self._stop.set()
                await housekeeping
        if self.undelivered or self.delivery_failures:
            log.error("ingest stopped with %d undelivered messages and %d failed deliveries", self.undelivered, len(self.delivery_failures))
            return 1
        return 0

    def _reconnect_counter(self, exchange: str):
        def count(reason: str) -> None:
            self.metrics.reconnects.labels(exchange, reason).inc()

        return count

    async def _housekeeping(self, publisher: Publisher) -> None:
        """Serve delivery reports, publish metrics, and stop after the feeds went idle (replays)."""
        while not self._stop.is_set():
            await asyncio.sleep(_POLL_INTERVAL_S)
            publisher.poll()
            self._sync_metrics()
            if self.idle_exit_s is not None and self._idle_for() > self.idle_exit_s:
                log.info("no trade for %.1fs: stopping", self.idle_exit_s)
                self._stop.set()

    def _idle_for(self) -> float:
        """Seconds since the trade count last moved (seen each housekeeping tick); 0 before the first trade."""
        trades, now = sum(s.trades for s in self.stats.values()), time.monotonic()
        if trades != self._trades_seen:
            self._trades_seen, self._trades_seen_at = trades, now
        return now - self._trades_seen_at if trades else 0.0

    def _sync_metrics(self) -> None:
        # Pipeline counters are plain ints on the hot path; Prometheus gets the deltas here.
        m = self.metrics
        for exchange, s in self.stats.items():
            for name, counter, value in (
                ("messages", m.messages.labels(exchange), s.messages),
                ("trades", m.trades.labels(exchange, "websocket"), s.trades - s.repaired_trades),
                ("repaired", m.trades.labels(exchange, "rest"), s.repaired_trades),
                ("duplicates", m.duplicates.labels(exchange), s.duplicates),
                ("rejects", m.rejects.labels(exchange, "ingest"), s.rejects),
                ("gaps_found", m.gaps_found.labels(exchange), s.gaps_found),
                ("gaps_repaired", m.gaps_repaired.labels(exchange), s.gaps_repaired),
            ):
                key = (exchange, name)
                delta = value - self._synced.get(key, 0)
                if delta:
                    counter.inc(delta)
                    self._synced[key] = value
