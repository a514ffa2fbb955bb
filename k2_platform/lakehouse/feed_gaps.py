"""Kafka feed-gaps topic -> feed_gaps table, exactly once (same compare-and-set as bronze).

A record that is not a valid gap record is kept, not dropped: its row carries the reason in
`detail` with the raw text, and zero ids, so the gap-explanation check can flag it.
"""

from __future__ import annotations

import pyarrow as pa
from pyiceberg.catalog import Catalog

from ..schemas.feed_gap import UndecodableGap, decode
from ..settings import Settings
from .exactly_once import CommitOutcome, commit_step
from .kafka_reader import read_range
from .offsets import OffsetRange, select_positions
from .tables import load

TABLE = "feed_gaps"


def _row(value: bytes | None, kafka_time_us: int) -> dict:
    try:
        gap = decode(value or b"")
    except UndecodableGap as exc:
        text = (value or b"").decode("utf-8", errors="replace")
        return {
            "exchange": "unknown",
            "symbol": "unknown",
            "first_missing_id": 0,
            "last_missing_id": 0,
            "missing_count": 0,
            "detected_at": kafka_time_us,
            "repaired": False,
            "repaired_count": 0,
            "detail": f"undecodable gap record ({exc}): {text[:500]}",
        }
    return {
        "exchange": gap.exchange,
        "symbol": gap.symbol,
        "first_missing_id": gap.first_missing_id,
        "last_missing_id": gap.last_missing_id,
        "missing_count": gap.missing_count,
        "detected_at": gap.detected_at,
        "repaired": gap.repaired,
        "repaired_count": gap.repaired_count,
        "detail": gap.detail,
    }


def gap_rows(records: pa.Table, schema: pa.Schema) -> pa.Table:
    stamps = records["kafka_timestamp"].cast(pa.int64()).to_pylist()
    rows = [_row(v, t) for v, t in zip(records["value"].to_pylist(), stamps)]
    cols = {name: [r[name] for r in rows] for name in schema.names if name not in ("source_topic", "source_partition", "source_offset")}
    cols["detected_at"] = pa.array(cols["detected_at"], pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    cols.update(source_topic=records["topic"], source_partition=records["partition"], source_offset=records["offset"])
    return pa.Table.from_pydict(cols).select(schema.names).cast(schema)


def drain_feed_gaps(settings: Settings, catalog: Catalog, rng: OffsetRange, guard=None) -> CommitOutcome:
    def prepare(table):
        rows = gap_rows(read_range(settings, rng), table.schema().as_arrow())
        return lambda _t, todo: select_positions(rows, todo, "source_topic", "source_partition", "source_offset")

    return commit_step(settings, load(catalog, settings.catalog.namespace, TABLE), rng, prepare, guard=guard)
