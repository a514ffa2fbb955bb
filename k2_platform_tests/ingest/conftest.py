"""Helpers of the ingest tests: a replay exchange in a thread, the service in-process, topic readers."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from decimal import Decimal

import pytest

from k2_platform.ingest.replay.faults import FaultPlan
from k2_platform.ingest.replay.server import ReplayServer, ReplayServerThread, replay_config
from k2_platform.ingest.service import IngestService, replay_feeds
from k2_platform.ops.chaos.reconcile import read_topic  # noqa: F401  (the tests read topics back as the drills do)
from k2_platform.schemas.codec import TradeDecoder

RECORDED_TRADES = 19_904
FIRST_ID, LAST_ID = 3735683259, 3735703162


@pytest.fixture(scope="session")
def recorded(binance_recordings):
    """Recorded BTCUSDT trades by id: (price text, quantity text)."""
    from k2_platform.ingest.recording import load_recordings

    return {t.trade_id: t for t in load_recordings(binance_recordings)["BTCUSDT"]}


@pytest.fixture
def fast_settings(settings):
    """Per-test settings with reconnect timings short enough for a test."""
    ingest = settings.ingest.model_copy(
        update={
            "backoff_initial_s": 0.01,
            "backoff_max_s": 0.1,
            "stale_timeout_s": 2.0,
            "app_ping_interval_s": 0.5,
            "close_timeout_s": 1.0,
            "metrics_port": 0,
            "linger_ms": 5,
        }
    )
    return settings.model_copy(update={"ingest": ingest})


def start_replay(recordings, faults: FaultPlan | None = None, speed: float | None = None, **kwargs) -> ReplayServerThread:
    config = replay_config(recordings, speed=speed, faults=faults, **kwargs)
    return ReplayServerThread(ReplayServer(config, "127.0.0.1", 0, ping_interval_s=20.0, heartbeat_s=0.2))


def run_ingest(
    settings, url: str, exchanges: list[str], symbols: list[str], expected_trades: int, timeout_s: float = 90.0, feeds=None
) -> IngestService:
    """Run the service until it has produced expected_trades (all exchanges together), then stop it cleanly."""
    service = IngestService(settings, feeds or replay_feeds(settings, exchanges, symbols, url))

    async def main():
        runner = asyncio.create_task(service.run())
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not runner.done():
            if service.stats and sum(s.trades for s in service.stats.values()) >= expected_trades:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # let stray redeliveries arrive: they must be dropped, not published
        service.stop()
        assert await runner == 0, f"delivery failures: {service.delivery_failures}"

    asyncio.run(main())
    return service


def decoded_trades(settings, exchange: str) -> list[dict]:
    codec = TradeDecoder()
    return [codec.decode(m.value()) for m in read_topic(settings, settings.topics.trades(exchange))]


def assert_exactly_once(trades: list[dict], recorded: dict, symbol: str) -> None:
    counts = Counter(int(t["trade_id"]) for t in trades)
    assert len(counts) == RECORDED_TRADES and set(counts) == set(recorded)
    assert max(counts.values()) == 1, [i for i, c in counts.items() if c > 1][:10]
    for t in trades:
        source = recorded[int(t["trade_id"])]
        assert t["symbol"] == symbol
        assert t["price"] == Decimal(source.price), (t["trade_id"], t["price"], source.price)
        assert t["quantity"] == Decimal(source.quantity)
        assert t["side"] == ("SELL" if source.buyer_is_maker else "BUY")
        assert t["trade_time"] == source.trade_ms * 1000
