"""Produce to and consume from the real broker: exactly N records back, decimals exact."""

from decimal import Decimal

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from k2_platform.schemas.codec import TradeDecoder
from k2_platform.schemas.trade import Trade
from k2_platform.schemas.trade_encoder import TradeEncoder

pytestmark = pytest.mark.integration

N = 5_000
EXTREMES = [(Decimal("0.0000001234"), Decimal("46116860414")), (Decimal("61837.63000000"), Decimal("0.02000000"))]


def trade(i: int) -> Trade:
    price, quantity = EXTREMES[i % 2]
    return Trade(
        exchange="binance",
        symbol="SHIBUSDT",
        exchange_symbol="SHIBUSDT",
        base="SHIB",
        quote="USDT",
        trade_id=str(i),
        price=price,
        quantity=quantity,
        side="BUY" if i % 3 else "SELL",
        trade_time=1_723_161_255_342_000 + i,
        ingest_time=1_723_161_256_000_000 + i,
        sequence=i,
    )


def consume_all(settings, topic: str, expected: int) -> list:
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": "roundtrip", "enable.auto.commit": False})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    messages = []
    idle = 0
    while len(messages) < expected and idle < 20:
        batch = consumer.consume(1000, timeout=0.5)
        idle = idle + 1 if not batch else 0
        messages.extend(m for m in batch if m.error() is None)
    # A further poll proves there is nothing beyond the expected count.
    messages.extend(m for m in consumer.consume(1000, timeout=1.0) if m.error() is None)
    consumer.close()
    return messages


def test_exactly_n_records_come_back_with_exact_decimals(settings):
    topic = settings.topics.trades("binance")
    encoder, decoder = TradeEncoder(), TradeDecoder()
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap, "enable.idempotence": True, "acks": "all"})
    failures = []
    for i in range(N):
        producer.produce(topic, key=b"SHIBUSDT", value=encoder.encode(trade(i).to_avro()), on_delivery=lambda err, _msg: err and failures.append(err))
        producer.poll(0)
    assert producer.flush(30) == 0
    assert failures == []

    records = [decoder.decode(m.value()) for m in consume_all(settings, topic, N)]
    assert len(records) == N
    assert sorted(int(r["trade_id"]) for r in records) == list(range(N))
    by_id = {int(r["trade_id"]): r for r in records}
    assert by_id[0]["price"] == Decimal("0.0000001234")
    assert by_id[0]["quantity"] == Decimal("46116860414")
    assert by_id[1]["price"] == Decimal("61837.63")
    assert by_id[1]["quantity"] == Decimal("0.02")
    assert sum(r["quantity"] for r in records) == Decimal("46116860414") * (N // 2) + Decimal("0.02") * (N // 2)
