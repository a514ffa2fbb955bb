"""The one drain-asset factory. Every medallion step (Kafka -> bronze, bronze -> silver + DLQ,
silver -> gold, Kafka -> feed_gaps) is declared as a DrainStep; drain_asset turns it into a
multi-asset named after the step that drains one offset range, judges the step's batch checks on
the exact rows each commit is about to write, and reports the same metadata for every table."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from dagster import (
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)
from pyiceberg.catalog import Catalog

from ..checks.report import ERROR, check_result
from ..lakehouse.backlog import Backlog
from ..lakehouse.degradation_state import warn_checks_skipped
from ..lakehouse.exactly_once import CommitOutcome, Guard
from ..lakehouse.metrics import record_commit
from ..lakehouse.offsets import OffsetRange, to_json
from ..lakehouse.quality import Batch, RuleResult
from ..resources import K2SettingsResource
from ..settings import Settings
from .kafka_sources import OWNERS

NOT_WRITTEN = RuleResult(True, {"explanation": "nothing was written by this run"})


def table_spec(name: str, layer: str, description: str, deps, kinds=("iceberg",)) -> AssetSpec:
    return AssetSpec(name, deps=deps, group_name=layer, kinds=set(kinds), owners=OWNERS, tags={"layer": layer}, description=description)


@dataclass(frozen=True)
class BatchCheck:
    """An asset check judged by a lakehouse.quality batch rule on the rows a commit is about to write.

    ERROR: blocking, and a failure stops the write (a blocking check cannot undo a write already made).
    WARN: the rows are stored anyway (they are faithful data that needs a look); the check reports.
    """

    name: str
    table: str
    rule: Callable[[Batch], RuleResult]
    description: str
    severity: AssetCheckSeverity = ERROR

    @property
    def stops_write(self) -> bool:
        return self.severity == ERROR

    def spec(self) -> AssetCheckSpec:
        return AssetCheckSpec(self.name, asset=self.table, blocking=self.stops_write, description=self.description)


Drain = Callable[[Settings, Catalog, OffsetRange, dict[str, Guard]], dict[str, CommitOutcome]]


@dataclass(frozen=True)
class DrainStep:
    """One medallion step. `name` is its one name: of the multi-asset (op) and of its drain sensor, and the stem
    of its job's (Dagster requires op and job names to differ)."""

    name: str
    tables: tuple[AssetSpec, ...]
    backlog: Backlog  # the next run's range (lakehouse.backlog)
    drain: Drain  # commits one range into the step's tables, with a guard per table
    checks: tuple[BatchCheck, ...]
    description: str  # what the step's backlog compares, shown on its sensor and job

    @property
    def job_name(self) -> str:
        return f"{self.name}_job"

    @property
    def table_names(self) -> list[str]:
        return [spec.key.to_user_string() for spec in self.tables]


def one_table(table: str, drain: Callable[..., CommitOutcome]) -> Drain:
    """A single-table drain `drain(settings, catalog, rng, guard=)` as a DrainStep.drain."""
    return lambda settings, catalog, rng, guards: {table: drain(settings, catalog, rng, guard=guards.get(table))}


class RangeConfig(Config):
    """The Kafka offset range of this run, as JSON maps {topic: {partition: offset}} (the drain sensor sets both).

    Left out (the UI's Materialize button, `dagster asset materialize`), the run drains the step's
    current backlog, capped at Settings.lakehouse.max_records_per_run as the sensor caps it.
    """

    start: str | None = None
    end: str | None = None

    @classmethod
    def of(cls, rng: OffsetRange) -> "RangeConfig":
        return cls(**rng.to_config())

    def offset_range(self, backlog: Callable[[], OffsetRange]) -> OffsetRange:
        if self.start is None and self.end is None:
            return backlog()
        if self.start is None or self.end is None:
            raise Failure("run config gives only one of start and end: give both offset maps, or neither to drain the current backlog")
        return OffsetRange.from_config({"start": self.start, "end": self.end})


class GuardFailed(Exception):
    def __init__(self, check: str, result: RuleResult):
        super().__init__(f"guard check {check} failed: {result.metadata.get('explanation')}")
        self.check = check


class Judge:
    """Runs a step's batch checks as commit guards and keeps the latest result of each.

    Under pressure (Settings.degradation.skip_warn_checks_from) WARN checks are not judged: each reports
    passed with the level as its explanation, never silently. Blocking checks are always judged."""

    def __init__(self, settings: Settings, checks: tuple[BatchCheck, ...]):
        self.settings, self.checks, self.results = settings, checks, {}
        self.warn_skipped = warn_checks_skipped(settings)  # read once: one level for all of a run's commits

    def guards(self) -> dict[str, Guard]:
        return {check.table: self._guard(check.table) for check in self.checks}

    def _guard(self, name: str) -> Guard:
        def judge(table, todo, rows) -> None:
            batch, mine = Batch(self.settings, table, todo, rows), [c for c in self.checks if c.table == name]
            self.results.update({c.name: self._judged(c, batch) for c in mine})
            stopped = [c.name for c in mine if c.stops_write and not self.results[c.name].passed]
            if stopped:
                raise GuardFailed(stopped[0], self.results[stopped[0]])

        return judge

    def _judged(self, check: BatchCheck, batch: Batch) -> RuleResult:
        if self.warn_skipped and not check.stops_write:
            return RuleResult(True, {"explanation": self.warn_skipped, "skipped": True})
        return check.rule(batch)

    def check_results(self, context) -> list:
        return [check_result(context, c.table, c.name, self.results.get(c.name, NOT_WRITTEN), c.severity) for c in self.checks]


def drain_asset(step: DrainStep) -> AssetsDefinition:
    @multi_asset(name=step.name, specs=list(step.tables), check_specs=[c.spec() for c in step.checks], description=step.description)
    def drain(context: AssetExecutionContext, config: RangeConfig, k2: K2SettingsResource):
        started = time.monotonic()
        settings, catalog = k2.settings, k2.catalog()
        rng = config.offset_range(lambda: step.backlog(settings, catalog))
        lag_before = step.backlog(settings, catalog, cap=False).size
        judge = Judge(settings, step.checks)
        try:
            outcomes = step.drain(settings, catalog, rng, judge.guards())
        except GuardFailed as failed:
            yield from judge.check_results(context)
            raise Failure(str(failed), metadata={"guard_check": failed.check}) from failed
        lag_after = step.backlog(settings, catalog, cap=False).size
        for table, outcome in outcomes.items():
            record_commit(settings, table, outcome.rows, outcome.committed, outcome.commit_s)
            context.log.info(f"{table}: {outcome.rows} rows for {rng.run_key(step.name)} ({outcome.note or 'committed'})")
            yield MaterializeResult(asset_key=table, metadata=outcome_metadata(outcome, rng, lag_before, lag_after, started))
        yield from judge.check_results(context)

    return drain


def outcome_metadata(outcome: CommitOutcome, rng: OffsetRange, lag_before: int, lag_after: int, started: float) -> dict:
    return {
        "rows_written": outcome.rows,
        "committed": outcome.committed,
        "offset_range": MetadataValue.json({k: json.loads(v) for k, v in rng.to_config().items()}),
        "offsets_before": MetadataValue.json(json.loads(to_json(outcome.offsets_before))),
        "offsets_after": MetadataValue.json(json.loads(to_json(outcome.offsets_after))),
        "lag_before": lag_before,
        "lag_after": lag_after,
        "duration_s": round(time.monotonic() - started, 3),
        "bytes_written": outcome.bytes_written,
        "snapshot_id": str(outcome.snapshot_id) if outcome.snapshot_id else "none",
        "commit_attempts": outcome.attempts,
        "note": outcome.note or "committed",
    }
