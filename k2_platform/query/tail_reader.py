"""The Kafka tail read in the background: requests neither create consumers nor fetch records.

A consumer thread keeps every partition of the trade topics consumed into a `TailBuffer`, decoded,
validated and rendered as records arrive. Exactness needs one more thing: a read must include every
record Kafka acknowledged before the read began. So a request waits for a *round*: the round thread
asks the broker for all end offsets at once (one ListOffsets request) and the round
completes when the buffer holds everything below them. A round started after a request arrived
covers that request, and all requests arriving meanwhile share the next round: the broker sees one
offset query per round, not per request, and an idle reader queries nothing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import duckdb
import numpy as np
from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from ..schemas.codec import TradeDecoder
from ..settings import EXCHANGES, Settings
from .render import with_json
from .tail_buffer import Chunk, TailBuffer
from .tail_rows import TailRecord, tail_table
from .trades import TRADE_COLUMNS

log = logging.getLogger(__name__)
_POLL_S = 0.05  # idle wake-up of the consumer thread (records wake it at once)


class TailUnavailable(RuntimeError):
    """The broker could not deliver the tail in time; the hybrid read refuses to answer inexactly."""


class TailReader:
    def __init__(self, settings: Settings, decoder: TradeDecoder, start_offsets: Callable[[], dict[str, dict[int, int]]]):
        self.settings = settings
        self.topics = [settings.topics.trades(e) for e in EXCHANGES]
        self.buffer = TailBuffer(settings.query.tail_buffer_records)
        self._decoder, self._start_offsets = decoder, start_offsets
        common = {
            "bootstrap.servers": settings.kafka.bootstrap,
            "log_level": 0,
            "socket.connection.setup.timeout.ms": int(settings.query.broker_timeout_s * 1000),
        }
        self._admin = AdminClient(common)
        self._consumer = Consumer(
            {
                **common,
                "group.id": "k2-query-tail",  # names the client only: assign, never subscribe
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 10,
            }
        )
        self._db = duckdb.connect()
        self._db.execute("SET TimeZone = 'UTC'")
        self._assigned: set[tuple[str, int]] = set()
        self._tps: list[tuple[str, int]] = []
        self._listed_at = -float("inf")
        self._to_assign: queue.SimpleQueue[list[TopicPartition]] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._wanted = self._started = self._finished = self._succeeded = 0
        self._error = self._fatal = ""
        self._stop = threading.Event()
        self.rounds = 0
        self._threads = [
            threading.Thread(target=self._consume_loop, name="k2-tail-consume", daemon=True),
            threading.Thread(target=self._round_loop, name="k2-tail-rounds", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def ticket(self) -> int:
        """Ask for a round starting after now. Once `wait(ticket)` returns, the buffer holds every record
        Kafka acknowledged before this call (work done in between overlaps the round)."""
        with self._cond:
            need = self._started + 1
            self._wanted = max(self._wanted, need)
            self._cond.notify_all()
            return need

    def wait(self, ticket: int) -> None:
        timeout = self.settings.query.tail_timeout_s + self.settings.query.broker_timeout_s
        with self._cond:
            if not self._cond.wait_for(lambda: self._finished >= ticket or self._stop.is_set(), timeout):
                raise TailUnavailable(f"Kafka did not deliver the tail within {timeout}s")
            if self._succeeded < ticket:
                raise TailUnavailable(self._error or "the Kafka tail reader is stopped")

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()
        self._consumer.close()
        self._db.close()

    # --- rounds -------------------------------------------------------------------------------
    def _round_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._wanted > self._started or self._stop.is_set())
                if self._stop.is_set():
                    return
                self._started += 1
                number = self._started
            try:
                self._round()
                error = ""
            except Exception as exc:  # reported to the waiting requests as a 503, the loop goes on
                error = exc.args[0] if isinstance(exc, TailUnavailable) else f"Kafka at {self.settings.kafka.bootstrap}: {exc}"
            with self._cond:
                self._finished, self.rounds = number, self.rounds + 1
                if error:
                    self._error = error
                else:
                    self._succeeded = number
                self._cond.notify_all()

    def _round(self) -> None:
        if self._fatal:
            raise TailUnavailable(self._fatal)
        tps = self._partitions()
        latest = self._list_offsets(tps, OffsetSpec.latest())
        new = [tp for tp in tps if tp not in self._assigned]
        if new:
            self._assign(new)
        if not self.buffer.wait_for_ends(latest, self.settings.query.tail_timeout_s):
            raise TailUnavailable(f"Kafka did not deliver the tail up to {latest} within {self.settings.query.tail_timeout_s}s")

    def _partitions(self) -> list[tuple[str, int]]:
        """The trade topics' partitions; re-listed every `tail_metadata_refresh_s` (a metadata request
        costs more than the offsets themselves)."""
        if time.monotonic() - self._listed_at >= self.settings.query.tail_metadata_refresh_s:
            metadata = self._admin.list_topics(timeout=self.settings.query.broker_timeout_s).topics
            self._tps = [(t, p) for t in self.topics if t in metadata and metadata[t].error is None for p in sorted(metadata[t].partitions)]
            self._listed_at = time.monotonic()
        return self._tps

    def _list_offsets(self, tps: list[tuple[str, int]], spec: OffsetSpec) -> dict[tuple[str, int], int]:
        if not tps:
            return {}
        futures = self._admin.list_offsets({TopicPartition(t, p): spec for t, p in tps}, request_timeout=self.settings.query.broker_timeout_s)
        return {(tp.topic, tp.partition): future.result().offset for tp, future in futures.items()}

    def _assign(self, tps: list[tuple[str, int]]) -> None:
        """Consume new partitions from gold's offsets (from the log start where gold has none)."""
        gold = self._start_offsets()
        earliest = self._list_offsets(tps, OffsetSpec.earliest())
        starts = []
        for topic, p in tps:
            wanted = gold.get(topic, {}).get(p, 0)
            self.buffer.open((topic, p), wanted, max(wanted, earliest[(topic, p)]))
            starts.append(TopicPartition(topic, p, max(wanted, earliest[(topic, p)])))
        self._to_assign.put(starts)  # the consumer is not safe to call from a second thread while it polls
        self._assigned.update(tps)

    # --- consuming ----------------------------------------------------------------------------
    def _consume_loop(self) -> None:
        try:
            while not self._stop.is_set():
                while not self._to_assign.empty():
                    self._consumer.incremental_assign(self._to_assign.get_nowait())
                first = self._consumer.poll(_POLL_S)
                if first is not None:
                    self._absorb([first, *self._consumer.consume(num_messages=50_000, timeout=0)])
        except Exception as exc:  # records not absorbed would be a gap: every later round fails instead
            log.exception("the Kafka tail reader stopped")
            self._fatal = f"the Kafka tail reader stopped: {type(exc).__name__}: {exc}"

    def _absorb(self, messages) -> None:
        by_partition: dict[tuple[str, int], list[TailRecord]] = defaultdict(list)
        for msg in messages:
            if msg.error() is not None:
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    log.warning("Kafka error in the tail reader: %s", msg.error())
                continue
            by_partition[(msg.topic(), msg.partition())].append(TailRecord(msg.topic(), msg.partition(), msg.offset(), msg.value()))
        for tp, records in by_partition.items():
            rows = tail_table(records, self._decoder, self.settings, TRADE_COLUMNS)
            rows = with_json(self._db, rows, TRADE_COLUMNS, "trade_time")
            self.buffer.add(tp, Chunk(np.array([r.offset for r in records], np.int64), rows))
