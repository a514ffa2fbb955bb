"""Reconciling what an exchange sent (the recording) against what is in Kafka, trade by trade."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from confluent_kafka import Message

from ...ingest.kafka_ranges import read_range
from ...ingest.recording import RecordedTrade
from ...kafka_client import range_consumer, topic_watermarks
from ...schemas.codec import decoder_from_settings
from ...schemas.feed_gap import FeedGap, decode as decode_gap
from ...settings import Settings

_SHOWN_IDS = 10


def read_topic(settings: Settings, topic: str, timeout_s: float = 60.0) -> list[Message]:
    """Every record of a topic, from each partition's first offset to its current end."""
    consumer = range_consumer(settings.kafka.bootstrap, "k2-chaos-reconcile")
    try:
        ends = topic_watermarks(consumer, topic, timeout_s) or {}
        return [m for p, (low, high) in sorted(ends.items()) for m in read_range(consumer, topic, p, low, high, timeout_s)]
    finally:
        consumer.close()


class TradeCount:
    """Records in the trade topics of some exchanges (each record is one trade), read as often as needed."""

    def __init__(self, settings: Settings, exchanges: list[str], timeout_s: float = 10.0):
        self.topics = [settings.topics.trades(e) for e in exchanges]
        self.timeout_s = timeout_s
        self._consumer = range_consumer(settings.kafka.bootstrap, "k2-chaos-watch")

    def now(self) -> int:
        return sum(high - low for t in self.topics for low, high in (topic_watermarks(self._consumer, t, self.timeout_s) or {}).values())

    def close(self) -> None:
        self._consumer.close()


@dataclass
class Reconciliation:
    exchange: str
    sent: int  # trades of the recording, all of which the exchange streamed
    in_kafka: int  # distinct recorded trade ids found in the topic
    lost: int
    duplicated: int  # records beyond the first of their trade id
    unexpected: int  # trade ids that were never recorded
    wrong_values: int  # price, quantity, side or time differing from the recording
    gaps: list[FeedGap] = field(default_factory=list)
    lost_ids: list[tuple[str, int]] = field(default_factory=list)  # the first few (symbol, trade id), to look up

    @property
    def unrepaired_gaps(self) -> int:
        return sum(not g.repaired for g in self.gaps)

    @property
    def repaired_from_rest(self) -> int:
        """Trades the feed fetched from REST history because they never arrived (or died in flight) on the WebSocket."""
        return sum(g.repaired_count for g in self.gaps)

    @property
    def exact(self) -> bool:
        return not (self.lost or self.duplicated or self.unexpected or self.wrong_values or self.unrepaired_gaps)


def reconcile(settings: Settings, exchange: str, recorded: dict[str, list[RecordedTrade]]) -> Reconciliation:
    """The exchange's trade topic against the recording, by (canonical symbol, trade id)."""
    expected = {(symbol, t.trade_id): t for symbol, trades in recorded.items() for t in trades}
    decode = decoder_from_settings(settings).decode
    trades = [decode(m.value()) for m in read_topic(settings, settings.topics.trades(exchange))]
    counts = Counter((t["symbol"], int(t["trade_id"])) for t in trades)
    wrong = sum(1 for t in trades if (t["symbol"], int(t["trade_id"])) in expected and not _matches(t, expected[t["symbol"], int(t["trade_id"])]))
    lost = sorted(set(expected) - set(counts))
    gaps = [g for g in map(decode_gap, (m.value() for m in read_topic(settings, settings.topics.feed_gaps))) if g.exchange == exchange]
    return Reconciliation(
        exchange=exchange,
        sent=len(expected),
        in_kafka=len(set(counts) & set(expected)),
        lost=len(lost),
        duplicated=sum(c - 1 for c in counts.values()),
        unexpected=len(set(counts) - set(expected)),
        wrong_values=wrong,
        gaps=gaps,
        lost_ids=lost[:_SHOWN_IDS],
    )


def _matches(trade: dict, source: RecordedTrade) -> bool:
    # Decimals compare by exact value (decimal(38,18) on the wire, the recording's text here): no float anywhere.
    return (
        trade["price"] == Decimal(source.price)
        and trade["quantity"] == Decimal(source.quantity)
        and trade["side"] == ("SELL" if source.buyer_is_maker else "BUY")
        and trade["trade_time"] == source.trade_ms * 1000
    )
