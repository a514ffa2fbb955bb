"""What every drain/refine asset shares: its run config (the offset range), guard checks that
stop a write, and the materialization metadata each run reports."""
from __future__ import annotations

import json
import time
from collections.abc import Callable

from dagster import AssetCheckResult, AssetCheckSeverity, Config, Failure, MetadataValue

from ..lakehouse.exactly_once import CommitOutcome
from ..lakehouse.offsets import OffsetRange, to_json
from ..lakehouse.quality import Verdict


class RangeConfig(Config):
    """The exact Kafka offset range of this run, as the drain sensor requested it (JSON maps)."""

    start: str
    end: str

    def offset_range(self) -> OffsetRange:
        return OffsetRange.from_config({"start": self.start, "end": self.end})


class GuardFailed(Exception):
    def __init__(self, check: str, verdict: Verdict):
        super().__init__(f"guard check {check} failed: {verdict.metadata.get('explanation')}")
        self.check = check


class Guards:
    """Guard checks run on the rows a commit is about to write; a failure stops that write."""

    def __init__(self):
        self.verdicts: dict[str, Verdict] = {}

    def guard(self, check: str, rule: Callable) -> Callable:
        def run(table, todo, rows) -> None:
            verdict = rule(table, todo, rows)
            self.verdicts[check] = verdict
            if not verdict.passed:
                raise GuardFailed(check, verdict)
        return run

    def results(self, asset_key, checks: list[str]) -> list[AssetCheckResult]:
        return [
            check_result(asset_key, name, self.verdicts.get(name, Verdict(True, {"explanation": "nothing was written by this run"})), ERROR)
            for name in checks
        ]


# ERROR: the exactly-once or validity contract is broken (data lost, duplicated or invalid).
# WARN: the data is stored faithfully but needs a look (many rejects, unrepaired exchange gaps).
ERROR, WARN = AssetCheckSeverity.ERROR, AssetCheckSeverity.WARN


def check_result(asset_key, name: str, verdict: Verdict, severity: AssetCheckSeverity) -> AssetCheckResult:
    return AssetCheckResult(asset_key=asset_key, check_name=name, passed=verdict.passed, severity=severity,
                            metadata=dict(verdict.metadata))


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


def stop(guard_failed: GuardFailed) -> Failure:
    return Failure(str(guard_failed), metadata={"guard_check": guard_failed.check})
