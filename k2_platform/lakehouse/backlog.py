"""What each medallion step still has to do, as the offset range of its next run.

Read-only and cheap (Kafka watermarks and snapshot summaries, no data): sensors call these on
every tick. Each range is capped by Settings.lakehouse.max_records_per_run, widened under pressure by the
degradation level (degradation_state.records_per_run), unless cap=False.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from pyiceberg.catalog import Catalog

from ..settings import Settings
from .bronze import TABLE as BRONZE, bronze_topics
from .degradation_state import records_per_run
from .feed_gaps import TABLE as FEED_GAPS
from .gold import TABLE as GOLD, gold_topics
from .kafka_reader import watermarks
from .offsets import OffsetRange, committed, flatten
from .refine import target_topics
from .tables import load

Backlog = Callable[..., OffsetRange]  # (settings, catalog, cap=True) -> the next run's range


def run_sized(pending: Callable[[Settings, Catalog], OffsetRange]) -> Backlog:
    """pending(settings, catalog) -> everything left to do; the result adds `cap`: the share one run takes
    (the default), or with cap=False the whole backlog (for lag figures)."""

    @functools.wraps(pending)
    def backlog(settings: Settings, catalog: Catalog, cap: bool = True) -> OffsetRange:
        rng = pending(settings, catalog)
        return rng.capped(records_per_run(settings)) if cap else rng

    return backlog


def kafka_backlog(settings: Settings, catalog: Catalog, table: str, topics: list[str]) -> OffsetRange:
    """Kafka end offsets vs the table's committed offsets (from Kafka's earliest if never drained)."""
    done = flatten(committed(load(catalog, settings.catalog.namespace, table)))
    marks = watermarks(settings, topics)
    start = {tp: done.get(tp, low) for tp, (low, _high) in marks.items()}
    return OffsetRange.between(start, {tp: high for tp, (_low, high) in marks.items()})


@run_sized
def bronze_backlog(settings: Settings, catalog: Catalog) -> OffsetRange:
    return kafka_backlog(settings, catalog, BRONZE, bronze_topics(settings))


@run_sized
def refine_backlog(settings: Settings, catalog: Catalog) -> OffsetRange:
    """Bronze's offsets vs the least advanced refine target, per partition."""
    ns = settings.catalog.namespace
    available = flatten(committed(load(catalog, ns, BRONZE)))
    start = {tp: end for tp, end in available.items()}
    for name, topics in target_topics(settings).items():
        done = flatten(committed(load(catalog, ns, name)))
        for tp in available:
            if tp[0] in topics:
                start[tp] = min(start[tp], done.get(tp, 0))
    return OffsetRange.between(start, available)


@run_sized
def gold_backlog(settings: Settings, catalog: Catalog) -> OffsetRange:
    ns = settings.catalog.namespace
    done = flatten(committed(load(catalog, ns, GOLD)))
    available = {}
    for topic, silver in gold_topics(settings).items():
        available.update({tp: o for tp, o in flatten(committed(load(catalog, ns, silver))).items() if tp[0] == topic})
    return OffsetRange.between({tp: done.get(tp, 0) for tp in available}, available)


@run_sized
def feed_gaps_backlog(settings: Settings, catalog: Catalog) -> OffsetRange:
    return kafka_backlog(settings, catalog, FEED_GAPS, [settings.topics.feed_gaps])
