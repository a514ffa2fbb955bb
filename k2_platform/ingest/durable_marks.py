"""Where each symbol stands in Kafka: its newest trade id, read back from the trade topic's tail.

Why the topic itself and not a compacted state topic: a state topic is only as true as the trades
if both are written in one producer transaction, which would put transactions (commit cadence,
aborted-record markers in the offsets the drains count on, read_committed everywhere) on the
hot path. The topic's tail needs none of that and cannot disagree with the trades: the
idempotent producer keeps a partition in produce order, and a symbol (the key) lives in one
partition, so its newest trade sits near the end of that partition.

A symbol's last record may lie further back than the last few records of its partition (a quiet
symbol sharing a partition with a busy one), so the scan reads back in growing windows, all
partitions in turn, until every symbol is found or `resume_scan_records` per partition are read.
Past that bound a symbol counts as never seen: it starts at the live stream, and the log says
that the bound was reached, not that the symbol is new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from confluent_kafka import KafkaException

from ..kafka_client import range_consumer, topic_watermarks
from ..schemas.codec import decoder_from_settings
from ..settings import Settings
from .kafka_ranges import read_range

log = logging.getLogger(__name__)
_FIRST_WINDOW = 512
_GROWTH = 4


class KafkaUnavailable(ConnectionError):
    """The trade topic could not be read back: the feed cannot know where it stands, so it does not take live frames yet."""


@dataclass(frozen=True)
class DurableMark:
    trade_id: int
    trade_time_us: int
    partition: int
    offset: int


@dataclass
class MarkScan:
    topic: str
    bound: int
    marks: dict[str, DurableMark] = field(default_factory=dict)  # canonical symbol -> newest trade in Kafka
    bounded: list[int] = field(default_factory=list)  # partitions the bound stopped before their first record
    records_read: int = 0

    def why_missing(self, symbol: str) -> str:
        if self.bounded:
            return (
                f"not among the last {self.bound:,} records of {self.topic} partitions {self.bounded} "
                "(ingest.resume_scan_records reached; older records were not read)"
            )
        return f"no record of {symbol} in {self.topic}"


class DurableMarks:
    def __init__(self, settings: Settings):
        self.settings = settings
        i = settings.ingest
        self.bound, self.timeout_s = i.resume_scan_records, i.resume_timeout_s

    def read(self, exchange: str, symbols: list[str]) -> MarkScan:
        topic = self.settings.topics.trades(exchange)
        scan = MarkScan(topic, self.bound)
        consumer = range_consumer(self.settings.kafka.bootstrap, "k2-ingest-resume")
        try:
            ends = topic_watermarks(consumer, topic, self.timeout_s)
            if ends is not None:
                self._scan(consumer, scan, ends, {s.encode(): s for s in symbols}, decoder_from_settings(self.settings).decode)
        except (KafkaException, TimeoutError, RuntimeError) as exc:
            # A connection error to the feed: it reconnects with backoff and tries again.
            raise KafkaUnavailable(f"cannot read back {topic} from Kafka at {self.settings.kafka.bootstrap} to resume: {exc}") from exc
        finally:
            consumer.close()
        return scan

    def _scan(self, consumer, scan: MarkScan, ends: dict[int, tuple[int, int]], wanted: dict[bytes, str], decode) -> None:
        cursor = {p: high for p, (_low, high) in ends.items()}
        floor = {p: max(low, high - self.bound) for p, (low, high) in ends.items()}
        window = _FIRST_WINDOW
        while wanted and any(cursor[p] > floor[p] for p in cursor):
            for p in sorted(cursor):
                if cursor[p] <= floor[p] or not wanted:
                    continue
                start = max(floor[p], cursor[p] - window)
                found: dict[str, DurableMark] = {}
                for msg in read_range(consumer, scan.topic, p, start, cursor[p], self.timeout_s):
                    symbol = wanted.get(msg.key())
                    if symbol is not None:
                        mark = self._mark(decode, msg, p)
                        if mark is not None and (symbol not in found or mark.trade_id > found[symbol].trade_id):
                            found[symbol] = mark
                scan.records_read += cursor[p] - start
                cursor[p] = start
                scan.marks.update(found)
                for symbol in found:
                    del wanted[symbol.encode()]
            window *= _GROWTH
        scan.bounded = [p for p in sorted(cursor) if cursor[p] > ends[p][0]] if wanted else []

    @staticmethod
    def _mark(decode, msg, partition: int) -> DurableMark | None:
        try:
            record = decode(msg.value())
            return DurableMark(int(record["trade_id"]), record["trade_time"], partition, msg.offset())
        except ValueError as exc:  # an undecodable record goes to the DLQ downstream; it marks nothing here
            log.warning("%s[%d] offset %d is not a readable trade (%s): skipped when resuming", msg.topic(), partition, msg.offset(), exc)
            return None
