"""A restarted feed resumes after the newest trade in Kafka: bounded REST catch-up, first-seen symbols, the tail scan."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from decimal import Decimal

import pytest
from confluent_kafka import Producer

from k2_platform.ingest.durable_marks import DurableMarks
from k2_platform.ingest.metrics import IngestMetrics
from k2_platform.ingest.publisher import Publisher
from k2_platform.ingest.replay.kraken_protocol import SNAPSHOT_SIZE
from k2_platform.ingest.resume import Resume
from k2_platform.ingest.sequencer import Sequencer
from k2_platform.ingest.service import IngestService, replay_feeds
from k2_platform.ops.processes import free_port
from k2_platform.schemas.feed_gap import decode as decode_gap
from k2_platform.schemas.ingest_reject import IngestReject
from k2_platform.schemas.trade import Trade
from k2_platform.schemas.trade_encoder import TradeEncoder

from .conftest import FIRST_ID, LAST_ID, decoded_trades, read_topic, run_ingest, start_replay

pytestmark = pytest.mark.integration

# The subscription key the replay exchange keeps its cursor under, and how many trades before the cursor a
# fresh subscription receives again (Kraken's snapshot).
STREAMS = {"binance": ("binance:btcusdt@trade", 0), "kraken": ("kraken:BTC/USDT", SNAPSHOT_SIZE)}


def _ids(settings, exchange: str) -> Counter:
    return Counter(int(t["trade_id"]) for t in decoded_trades(settings, exchange))


def _gaps(settings):
    return [decode_gap(m.value()) for m in read_topic(settings, settings.topics.feed_gaps)]


@pytest.mark.parametrize("exchange", ["binance", "kraken"])
def test_a_long_outage_is_caught_up_to_the_bound_and_the_rest_recorded_unrepaired_with_its_exact_ids(fast_settings, binance_recordings, exchange):
    key, resent = STREAMS[exchange]
    bound = 1000
    with start_replay(binance_recordings, speed=20.0) as server:  # ~600 trades/s: the first run stops early in the recording
        run_ingest(fast_settings, server.url, [exchange], ["BTCUSDT"], 2000)  # stopped cleanly: all it was sent is in Kafka
        server.state.config.speed = None  # the rest as fast as possible
        before = _ids(fast_settings, exchange)
        mark = max(before)
        assert set(before) == set(range(FIRST_ID, mark + 1)) and max(before.values()) == 1
        # The exchange trades on while no ingest runs: 6,000 trades happen (REST history has them).
        server.state.cursors[key] += 6000
        first_live = FIRST_ID + server.state.cursors[key] - resent
        bounded = fast_settings.model_copy(update={"ingest": fast_settings.ingest.model_copy(update={"max_catch_up_trades": bound})})
        service = run_ingest(bounded, server.url, [exchange], ["BTCUSDT"], bound + LAST_ID - first_live + 1)
    ids = _ids(fast_settings, exchange)
    caught_up_to = mark + bound
    assert set(ids) == set(range(FIRST_ID, caught_up_to + 1)) | set(range(first_live, LAST_ID + 1))
    assert max(ids.values()) == 1
    gaps = sorted(_gaps(fast_settings), key=lambda g: g.first_missing_id)
    assert [(g.first_missing_id, g.last_missing_id, g.missing_count, g.repaired, g.repaired_count) for g in gaps] == [
        (mark + 1, caught_up_to, bound, True, bound),  # the catch-up itself
        (caught_up_to + 1, first_live - 1, first_live - 1 - caught_up_to, False, 0),  # what the bound left over
    ]
    assert "max_catch_up_trades=1000" in gaps[1].detail and {(g.exchange, g.symbol) for g in gaps} == {(exchange, "BTCUSDT")}
    stats = service.stats[exchange]
    assert (stats.repaired_trades, stats.gaps_found, stats.gaps_repaired) == (bound, 2, 1)


@pytest.mark.parametrize("exchange", ["binance", "kraken"])
def test_a_symbol_never_seen_starts_at_the_live_stream_and_says_so(fast_settings, binance_recordings, exchange, caplog):
    key, resent = STREAMS[exchange]
    with start_replay(binance_recordings) as server:
        server.state.cursors[key] = 3000  # 3,000 trades happened before K2 ever subscribed; REST history has them
        first_live = FIRST_ID + 3000 - resent
        with caplog.at_level(logging.INFO, logger="k2_platform.ingest.resume"):
            service = run_ingest(fast_settings, server.url, [exchange], ["BTCUSDT"], LAST_ID - first_live + 1)
    ids = _ids(fast_settings, exchange)
    assert set(ids) == set(range(first_live, LAST_ID + 1)) and max(ids.values()) == 1
    assert _gaps(fast_settings) == [] and service.stats[exchange].repaired_trades == 0
    topic = fast_settings.topics.trades(exchange)
    assert f"{exchange} BTCUSDT: no record of BTCUSDT in {topic}: starting at the live stream" in caplog.messages


def _trade(symbol: str, trade_id: int) -> bytes:
    return TradeEncoder().encode(
        Trade(
            exchange="binance",
            symbol=symbol,
            exchange_symbol=symbol,
            base=symbol[:-4],
            quote="USDT",
            trade_id=str(trade_id),
            price=Decimal("0.0000001234"),
            quantity=Decimal("46116860414"),
            side="BUY",
            trade_time=1_723_161_255_000_000 + trade_id,
            ingest_time=1_723_161_256_000_000,
            sequence=trade_id,
        ).to_avro()
    )


def test_the_tail_scan_finds_a_quiet_symbol_far_back_and_says_when_its_bound_stops_it(fast_settings):
    topic = fast_settings.topics.trades("binance")
    producer = Producer({"bootstrap.servers": fast_settings.kafka.bootstrap, "enable.idempotence": True})
    # One partition: a quiet symbol (3 trades), then 5,000 of a busy one, the last of which is an old id filled late.
    records = [("ETHUSDT", i) for i in (7, 8, 9)] + [("BTCUSDT", i) for i in range(100, 5099)] + [("BTCUSDT", 150)]
    for symbol, trade_id in records:
        producer.produce(topic, _trade(symbol, trade_id), symbol.encode(), partition=1)
    assert producer.flush(30) == 0
    wide = fast_settings.model_copy(update={"ingest": fast_settings.ingest.model_copy(update={"resume_scan_records": 10_000})})
    scan = DurableMarks(wide).read("binance", ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    marks = {s: (m.trade_id, m.trade_time_us, m.partition, m.offset) for s, m in scan.marks.items()}
    assert marks == {"BTCUSDT": (5098, 1_723_161_255_005_098, 1, 5001), "ETHUSDT": (9, 1_723_161_255_000_009, 1, 2)}
    assert scan.bounded == [] and scan.why_missing("SOLUSDT") == f"no record of SOLUSDT in {topic}"
    assert scan.records_read == 5003  # every record once: the whole partition, nothing from the empty ones

    narrow = fast_settings.model_copy(update={"ingest": fast_settings.ingest.model_copy(update={"resume_scan_records": 4000})})
    scan = DurableMarks(narrow).read("binance", ["BTCUSDT", "ETHUSDT"])
    assert {s: m.trade_id for s, m in scan.marks.items()} == {"BTCUSDT": 5098}
    assert scan.bounded == [1] and scan.records_read == 4000
    assert scan.why_missing("ETHUSDT") == (
        f"not among the last 4,000 records of {topic} partitions [1] (ingest.resume_scan_records reached; older records were not read)"
    )


def test_a_feed_that_cannot_read_kafka_back_takes_no_live_frame_and_retries(fast_settings, binance_recordings, caplog):
    dead = fast_settings.model_copy(
        update={
            "kafka": fast_settings.kafka.model_copy(update={"port": free_port()}),
            "ingest": fast_settings.ingest.model_copy(update={"resume_timeout_s": 0.5, "flush_timeout_s": 1.0}),
        }
    )
    with start_replay(binance_recordings) as server:
        service = IngestService(dead, replay_feeds(dead, ["binance"], ["BTCUSDT"], server.url))

        async def main():
            runner = asyncio.create_task(service.run())
            while not runner.done() and not (service.connections and service.connections[0].connections >= 3):
                await asyncio.sleep(0.05)
            service.stop()
            return await runner

        with caplog.at_level(logging.WARNING, logger="k2_platform.ingest.connection"):
            assert asyncio.run(main()) == 0
    stats = service.stats["binance"]
    assert service.connections[0].connections >= 3 and (stats.trades, service.undelivered) == (0, 0)
    assert any("cannot read back" in m and "to resume" in m for m in caplog.messages)


def test_after_failed_deliveries_a_reconnect_reads_the_durable_mark_back_again(fast_settings):
    topic = fast_settings.topics.trades("binance")
    producer = Producer({"bootstrap.servers": fast_settings.kafka.bootstrap, "enable.idempotence": True})
    for trade_id in range(100, 200):
        producer.produce(topic, _trade("BTCUSDT", trade_id), b"BTCUSDT")
    assert producer.flush(30) == 0
    # Rejects go to a topic that does not exist (the broker creates none by itself): their delivery fails.
    failing = fast_settings.model_copy(
        update={
            "topics": fast_settings.topics.model_copy(update={"dlq": f"{topic}.missing"}),
            "ingest": fast_settings.ingest.model_copy(update={"delivery_timeout_ms": 500}),
        }
    )
    publisher = Publisher(failing, ["binance"], IngestMetrics())
    sequencer = Sequencer(open_range_window=4)
    resume = Resume(sequencer, publisher, DurableMarks(failing).read, settle_timeout_s=30)
    key = ("binance", "BTCUSDT")

    async def main():
        await resume.sync("binance", [key])
        assert sequencer.next_id(key) == 200
        sequencer.accept(key, 260, 0)  # in memory, trades up to 260 were produced...
        await resume.sync("binance", [key])
        assert sequencer.next_id(key) == 261  # ...and none failed: memory is what Kafka will hold, no read-back
        publisher.reject(IngestReject(exchange="binance", stage="parse", reason="test", raw=b"{", received_at=1))
        while publisher.failed == 0:
            publisher.poll()
            await asyncio.sleep(0.05)
        await resume.sync("binance", [key])  # a delivery failed: memory may be ahead of Kafka, so read back
        assert sequencer.next_id(key) == 200

    asyncio.run(main())
    assert publisher.failed == 1
