"""Test input: real trades encoded with TradeEncoder and produced to the test's Kafka topics, with
duplicates, malformed and out-of-range records mixed in. Every kind is counted so tests can assert
exact outcomes."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from confluent_kafka import Producer

from k2_platform.ops.chaos.source import BASE_US, numbered_trade
from k2_platform.schemas.trade_encoder import TradeEncoder


def trade(exchange: str, i: int, **overrides) -> dict:
    record = numbered_trade(exchange, i).to_avro()
    record.update(overrides)
    return record


@dataclass
class Produced:
    values: dict[str, list[bytes]] = field(default_factory=dict)  # topic -> values in produce order
    valid_ids: set[str] = field(default_factory=set)
    kinds: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.values.values())


BAD_KINDS = ("garbage", "truncated", "zero_price", "negative_qty", "future", "unknown_symbol", "too_wide")


def bad_record(codec: TradeEncoder, exchange: str, i: int, kind: str) -> bytes:
    if kind == "garbage":
        return b"not avro at all %d" % i
    if kind == "truncated":
        return codec.encode(trade(exchange, i))[:-4]
    overrides = {
        "zero_price": {"price": Decimal(0)},
        "negative_qty": {"quantity": Decimal("-1.5")},
        "future": {"trade_time": BASE_US + i * 7_000 + 60_000_000},
        "unknown_symbol": {"exchange_symbol": "DOGEBTC"},
        "too_wide": {"quantity": Decimal("1" + "0" * 21)},
    }[kind]
    return codec.encode(trade(exchange, i, **overrides))


def build_stream(settings, n: int, dup_every: int = 50, bad_every: int = 97, seed: int = 7) -> Produced:
    """n records over both exchange topics: valid trades, re-sent duplicates, and bad records."""
    rng = random.Random(seed)
    codec = TradeEncoder()
    out = Produced()
    sent: list[tuple[str, bytes]] = []
    for i in range(n):
        exchange = "binance" if i % 3 else "kraken"
        topic = settings.topics.trades(exchange)
        if i % bad_every == 5:
            kind = BAD_KINDS[(i // bad_every) % len(BAD_KINDS)]
            value = bad_record(codec, exchange, i, kind)
            out.kinds[kind] += 1
        elif i % dup_every == 7 and sent:
            topic, value = sent[rng.randrange(len(sent))]
            out.kinds["duplicate"] += 1
        else:
            record = trade(exchange, i)
            value = codec.encode(record)
            out.valid_ids.add(record["message_id"])
            sent.append((topic, value))
            out.kinds["valid"] += 1
        out.values.setdefault(topic, []).append(value)
    return out


def produce(settings, produced: Produced) -> None:
    p = Producer(
        {
            "bootstrap.servers": settings.kafka.bootstrap,
            "linger.ms": 20,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 500_000,
            "enable.idempotence": True,
            "acks": "all",
        }
    )
    for topic, values in produced.values.items():
        for i, v in enumerate(values):
            p.produce(topic, v, key=b"%d" % (i % 5))
            p.poll(0)
    assert p.flush(60) == 0
