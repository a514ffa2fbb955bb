"""The Kafka tail held in memory: per partition, the trades consumed from some offset on, rendered.

Keyed by offsets, never by time: a hybrid read pinned to a gold snapshot takes exactly the records
at or after that snapshot's `k2.kafka_offsets`, so gold plus this slice has no gap and no duplicate.
Records below the offsets of a newer snapshot are evicted (gold holds them); a read pinned to an
older snapshot then finds its start evicted and re-pins. A hard cap bounds memory when gold stalls.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class Chunk:
    offsets: np.ndarray  # every record consumed, valid or not, ascending
    rows: pa.Table  # the valid trades among them, with an `offset` column

    @property
    def end(self) -> int:
        return int(self.offsets[-1]) + 1


@dataclass
class _Partition:
    begin: int  # every record from here to `end` is held (or was invalid)
    end: int
    chunks: deque[Chunk] = field(default_factory=deque)


@dataclass(frozen=True)
class TailSlice:
    rows: list[pa.Table]  # per partition (sorted by topic, partition), in offset order
    end_offsets: dict[str, dict[int, int]]  # every record below these is in gold or in `rows`
    records: int  # Kafka records at or after the start offsets, valid or not


class TailBuffer:
    def __init__(self, max_records: int):
        self.max_records = max_records
        self._parts: dict[TopicPartition, _Partition] = {}
        self._held = 0
        self._lock = threading.Lock()
        self.changed = threading.Condition(self._lock)  # notified whenever a partition's end moves

    def open(self, tp: TopicPartition, begin: int, position: int) -> None:
        """Hold `tp` from offset `begin`; the consumer starts at `position` (later when the log starts later)."""
        with self._lock:
            self._parts[tp] = _Partition(begin, position)
            self.changed.notify_all()

    def add(self, tp: TopicPartition, chunk: Chunk) -> None:
        with self._lock:
            part = self._parts[tp]
            part.chunks.append(chunk)
            part.end = max(part.end, chunk.end)
            self._held += len(chunk.offsets)
            while self._held > self.max_records:
                self._drop_oldest()
            self.changed.notify_all()

    def _drop_oldest(self) -> None:
        part = max((p for p in self._parts.values() if p.chunks), key=lambda p: len(p.chunks))
        chunk = part.chunks.popleft()
        part.begin = chunk.end
        self._held -= len(chunk.offsets)

    def wait_for_ends(self, ends: dict[TopicPartition, int], timeout: float) -> bool:
        """Wait until every record below `ends` is held; False after `timeout` seconds."""

        def reached() -> bool:
            return all(tp in self._parts and self._parts[tp].end >= end for tp, end in ends.items())

        with self._lock:
            return self.changed.wait_for(reached, timeout)

    def evict_below(self, offsets: dict[str, dict[int, int]]) -> None:
        """Forget records below `offsets` (gold's, of a snapshot at least as new as any read to come)."""
        with self._lock:
            for (topic, p), part in self._parts.items():
                start = offsets.get(topic, {}).get(p, 0)
                while part.chunks and part.chunks[0].end <= start:
                    chunk = part.chunks.popleft()
                    self._held -= len(chunk.offsets)
                    part.begin = chunk.end

    def take(self, start: dict[str, dict[int, int]]) -> TailSlice | None:
        """Records at or after `start` (a partition missing there: from offset 0) up to the held ends;
        None when some partition's records from its start are no longer (or not yet) held."""
        with self._lock:
            parts = sorted((tp, part.begin, part.end, list(part.chunks)) for tp, part in self._parts.items())
        rows, ends, records = [], {}, 0
        for (topic, p), begin, end, chunks in parts:
            first = start.get(topic, {}).get(p, 0)
            if first < begin:
                return None
            ends.setdefault(topic, {})[p] = end
            for chunk in chunks:
                if chunk.end <= first:
                    continue
                records += len(chunk.offsets) - int(np.searchsorted(chunk.offsets, first))
                if chunk.rows.num_rows:
                    offsets = chunk.rows["offset"].to_numpy()
                    rows.append(chunk.rows.slice(int(np.searchsorted(offsets, first))))
        return TailSlice(rows, ends, records)
