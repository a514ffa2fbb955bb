"""silver_trades_<exchange> -> gold_trades: one row per message_id, ever.

Gold's watermark is the Kafka positions of the trade topics whose silver rows it has taken in, so
it is also exactly the `k2.kafka_offsets` the hybrid read continues from. Identity dedup covers
the batch itself and rows already in gold: a trade re-sent hours later has the same trade_time,
so only gold files of the batch's trade_time span (hour partitions, pruned by pyiceberg) are read,
and of those only the message_id column.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import And, GreaterThanOrEqual, LessThanOrEqual
from pyiceberg.table import Table

from ..settings import EXCHANGES, Settings
from .exactly_once import CommitOutcome, commit_step
from .memory import releases_memory
from .offsets import OffsetRange, TopicPartition, select_positions
from .positions import rows_in_range
from .refine import silver_table
from .table_specs import GOLD
from .tables import load

TABLE = "gold_trades"
POSITION = ("source_topic", "source_partition", "source_offset")


def gold_topics(settings: Settings) -> dict[str, str]:
    """trade topic -> the silver table holding its valid trades."""
    return {settings.topics.trades(e): silver_table(e) for e in EXCHANGES}


def silver_batch(settings: Settings, catalog: Catalog, rng: OffsetRange) -> pa.Table:
    ns = settings.catalog.namespace
    parts = [rows_in_range(load(catalog, ns, silver), rng.only([topic]), *POSITION) for topic, silver in gold_topics(settings).items()]
    parts = [p for p in parts if p.num_rows] or parts[:1]
    return pa.concat_tables(parts, promote_options="permissive")


def first_per_message(batch: pa.Table) -> pa.Table:
    """Keep each message_id's earliest delivery (lowest source position), deterministically."""
    if batch.num_rows == 0:
        return batch
    ids = pc.dictionary_encode(batch["message_id"].combine_chunks())
    if len(ids.dictionary) == batch.num_rows:  # the usual batch: no id twice, nothing to choose
        return batch
    by_position = pc.sort_indices(batch, sort_keys=[(c, "ascending") for c in POSITION]).to_numpy()
    _ids, first = np.unique(ids.indices.to_numpy()[by_position], return_index=True)
    return batch.take(np.sort(by_position[first]))


def already_in_gold(gold: Table, batch: pa.Table) -> pa.Array:
    if batch.num_rows == 0 or gold.current_snapshot() is None:
        return pa.array(np.zeros(batch.num_rows, dtype=bool))
    lo, hi = pc.min_max(batch["trade_time"]).values()
    span = And(GreaterThanOrEqual("trade_time", lo.value), LessThanOrEqual("trade_time", hi.value))
    existing = gold.scan(row_filter=span, selected_fields=("message_id",)).to_arrow()["message_id"]
    return pc.is_in(batch["message_id"], value_set=existing.combine_chunks() if existing.num_chunks else pa.array([], pa.large_string()))


def gold_rows(gold: Table, batch: pa.Table, todo: dict[TopicPartition, tuple[int, int]]) -> pa.Table:
    fresh = first_per_message(select_positions(batch, todo, *POSITION))
    present = already_in_gold(gold, fresh)
    if pc.any(present).as_py():
        fresh = fresh.filter(pc.invert(present))
    schema = gold.schema().as_arrow()
    return fresh.sort_by([(c, "ascending") for c in GOLD.sort]).select(schema.names).cast(schema)


@releases_memory
def build_gold(settings: Settings, catalog: Catalog, rng: OffsetRange, guard=None) -> CommitOutcome:
    def prepare(_gold):
        batch = silver_batch(settings, catalog, rng)
        return lambda t, todo: gold_rows(t, batch, todo)

    return commit_step(settings, load(catalog, settings.catalog.namespace, TABLE), rng, prepare, kafka_positions=True, guard=guard)
