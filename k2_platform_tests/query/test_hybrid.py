"""The hybrid read against the real broker and real gold table, while a drain commits concurrently."""

from __future__ import annotations

import threading
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.tables import load
from k2_platform.query.rows import decimal_text
from k2_platform.query.service import QueryService
from k2_platform.query.tail_rows import TailRecord, tail_trades
from k2_platform.query.trades import TRADE_COLUMNS, TradeFilter
from k2_platform.schemas.codec import TradeDecoder
from k2_platform.schemas.trade_encoder import TradeEncoder

from .gold_fixtures import append_gold, trade

pytestmark = pytest.mark.integration

TRADES = 1200
GOLD_COLUMNS = TRADE_COLUMNS + ("schema_version", "vendor_data")
REDELIVER_EVERY = 40  # an exchange reconnect overlap: an earlier trade sent again (same message_id)


def _producer(settings) -> Producer:
    return Producer({"bootstrap.servers": settings.kafka.bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 1})


def _produce(settings, topic: str, acked: list[int], done: threading.Event) -> None:
    """Trades 1..TRADES round-robin over the partitions, in bursts; acked[0] = highest seq flushed."""
    codec, producer, partitions = TradeEncoder(), _producer(settings), settings.kafka.partitions
    try:
        for seq in range(1, TRADES + 1):
            producer.produce(topic, codec.encode(trade(seq)), key=b"BTCUSDT", partition=seq % partitions)
            if seq % REDELIVER_EVERY == 0:
                producer.produce(topic, codec.encode(trade(seq - 7)), key=b"BTCUSDT", partition=(seq + 1) % partitions)
            if seq % 60 == 0 or seq == TRADES:
                assert producer.flush(60) == 0
                acked[0] = seq
                time.sleep(0.02)
    finally:
        done.set()


def _drain(settings, topic: str, producing: threading.Event, drained: threading.Event, errors: list, reads: list[int]) -> None:
    """A stand-in for the medallion: consume, dedup by message_id, append to gold with k2.kafka_offsets.

    After each commit it lets the reader read twice before committing again, so every commit is
    met by reads whatever the machine's load (the reads still race the producer and the commit)."""
    try:
        table = load(open_catalog(settings), settings.catalog.namespace, "gold_trades")
        consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": "test-drain", "enable.auto.commit": False})
        positions = {p: 0 for p in range(settings.kafka.partitions)}
        consumer.assign([TopicPartition(topic, p, 0) for p in positions])
        seen, codec = set(), TradeDecoder()
        while True:
            msgs = [m for m in consumer.consume(num_messages=150, timeout=0.2) if m.error() is None]
            if not msgs:
                if producing.is_set():
                    break
                continue
            for m in msgs:
                positions[m.partition()] = m.offset() + 1
            records = [TailRecord(m.topic(), m.partition(), m.offset(), m.value()) for m in msgs]
            rows = [r for r in tail_trades(records, codec, settings, GOLD_COLUMNS) if r["message_id"] not in seen]
            seen.update(r["message_id"] for r in rows)
            append_gold(table, rows, {topic: dict(positions)})
            target, deadline = reads[0] + 2, time.monotonic() + 10
            while reads[0] < target and time.monotonic() < deadline:
                time.sleep(0.002)
        consumer.close()
    except Exception as exc:  # surfaced by the test thread
        errors.append(exc)
    finally:
        drained.set()


def _topic_contents(settings, topic: str) -> dict[int, list[str]]:
    """Every record of the topic, per partition in offset order, as trade ids (read after the fact)."""
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": "test-verify", "enable.auto.commit": False})
    out = {}
    for p in range(settings.kafka.partitions):
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        consumer.assign([TopicPartition(topic, p, 0)])
        values = []
        while len(values) < high:
            values += [TailRecord(topic, p, m.offset(), m.value()) for m in consumer.consume(num_messages=1000, timeout=1) if m.error() is None]
        out[p] = [t["trade_id"] for t in tail_trades(values, TradeDecoder(), settings, TRADE_COLUMNS)]
    consumer.close()
    return out


def _expected(contents: dict[int, list[str]], ends: dict[int, int]) -> list[int]:
    """The exact answer for a read up to `ends`: every trade below them once, newest first."""
    return sorted({int(i) for p, ids in contents.items() for i in ids[: ends.get(p, 0)]}, reverse=True)


def test_hybrid_read_is_exact_at_every_boundary_during_concurrent_commits(settings, catalog):
    settings = settings.model_copy(update={"query": settings.query.model_copy(update={"table_refresh_s": 0.0})})
    topic = settings.topics.trades("binance")
    acked, produced, drained, errors, reads = [0], threading.Event(), threading.Event(), [], [0]
    threads = [
        threading.Thread(target=_produce, args=(settings, topic, acked, produced)),
        threading.Thread(target=_drain, args=(settings, topic, produced, drained, errors, reads)),
    ]
    service = QueryService(settings)
    answers = []
    try:
        for t in threads:
            t.start()
        while not drained.is_set() or len(answers) < 3:
            floor = acked[0]
            result = service.recent(TradeFilter("BTCUSDT"), settings.query.max_limit)
            seqs = [int(r["trade_id"]) for r in result.rows]
            assert set(range(1, floor + 1)) <= set(seqs), "a trade acknowledged by Kafka before the read is missing"
            answers.append((seqs, result))
            reads[0] += 1
        for t in threads:
            t.join(30)
        final = service.recent(TradeFilter("BTCUSDT"), settings.query.max_limit)
    finally:
        service.close()
    assert not errors, errors
    contents = _topic_contents(settings, topic)
    for seqs, result in answers:
        # Exactly the trades in Kafka below the read's end offsets: gold's rows below its snapshot's
        # offsets plus the tail above them, no gap and no duplicate at whatever boundary it met.
        assert seqs == _expected(contents, result.kafka_end_offsets.get(topic, {})), f"wrong at boundary {result.kafka_offsets}"
    assert [int(r["trade_id"]) for r in final.rows] == list(range(TRADES, 0, -1))
    assert final.tail_records == 0  # all drained: gold alone answers
    # The reads really met many different commits, with a non-empty tail past gold's offsets.
    with_tail = {r.snapshot_id for _, r in answers if r.snapshot_id is not None and r.tail_records > 0}
    assert len(with_tail) >= 5, with_tail


def test_tail_skips_records_silver_would_reject_and_dedups_redelivery(settings, catalog):
    topic = settings.topics.trades("kraken")
    codec, producer = TradeEncoder(), _producer(settings)
    gold = load(catalog, settings.catalog.namespace, "gold_trades")
    append_gold(gold, [trade(1, "BTCUSD", "kraken"), trade(2, "BTCUSD", "kraken")], {topic: {0: 0}})
    for record in (
        trade(2, "BTCUSD", "kraken"),
        trade(3, "BTCUSD", "kraken", price="0.0000001234", quantity="46116860414"),
        trade(4, "BTCUSD", "kraken", t_us=time.time_ns() // 1000 + 3_600_000_000),
    ):
        producer.produce(topic, codec.encode(record), key=b"BTCUSD", partition=0)
    producer.produce(topic, b"not avro", key=b"BTCUSD", partition=0)
    producer.produce(topic, codec.encode(trade(5, "BTCUSD", "kraken")), key=b"BTCUSD", partition=0)
    assert producer.flush(10) == 0
    service = QueryService(settings)
    try:
        result = service.recent(TradeFilter("BTCUSD", "kraken"), 10)
    finally:
        service.close()
    # 2 is a redelivery of a gold trade, 4 is an hour in the future, the raw bytes are undecodable.
    assert [r["trade_id"] for r in result.rows] == ["5", "3", "2", "1"]
    assert result.tail_records == 5
    three = result.rows[1]
    assert (decimal_text(three["price"]), decimal_text(three["quantity"])) == ("0.0000001234", "46116860414")
    assert three["quote_quantity"] == three["price"] * three["quantity"]
