"""One run from Kafka to gold: a bronze range carried through silver + DLQ and gold.

Each table keeps its own compare-and-set commit and watermark (DESIGN section 2), so a run killed
between two commits is finished by the next, which writes only what each table still lacks.
The later steps take their own backlog (not just this run's range): whatever an earlier, failed
run left between bronze and gold is carried along too.
"""

from __future__ import annotations

from pyiceberg.catalog import Catalog

from ..settings import Settings
from .backlog import gold_backlog, refine_backlog
from .bronze import TABLE as BRONZE, drain_to_bronze
from .exactly_once import CommitOutcome, Guard
from .gold import TABLE as GOLD, build_gold
from .offsets import OffsetRange
from .refine import refine


def drain_through(settings: Settings, catalog: Catalog, rng: OffsetRange, guards: dict[str, Guard] | None = None) -> dict[str, CommitOutcome]:
    """rng: Kafka positions of the bronze topics. Returns one outcome per table written (bronze, silver tables, DLQ, gold)."""
    guards = guards or {}
    outcomes = {BRONZE: drain_to_bronze(settings, catalog, rng, guard=guards.get(BRONZE))}
    outcomes.update(refine(settings, catalog, refine_backlog(settings, catalog), guards))
    outcomes[GOLD] = build_gold(settings, catalog, gold_backlog(settings, catalog), guard=guards.get(GOLD))
    return outcomes
