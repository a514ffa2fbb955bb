"""What the platform drills share: their result, drain runs as child processes, and the reconciliation
of gold_trades against the source (every trade exactly once, decimals exact)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ...lakehouse.catalog import open_catalog
from ...lakehouse.gold import TABLE as GOLD
from ...lakehouse.tables import load
from ...settings import Settings
from ..errors import StackError
from .result import ChaosResult
from .source import Source, SourceTrade

MEMORY_LIMIT_MB = 1024  # DESIGN: a drain run stays within 1 GB whatever the backlog
_SHOWN = 5


@dataclass
class DrainRun:
    returncode: int
    commits: list[dict]  # one per table commit attempt: step, table, committed, rows, range_records, attempts, note
    peak_rss_mb: float | None
    error: str  # the run's one-line failure reason, "" when it succeeded

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def lake_settings(settings: Settings, work: Path, **lakehouse) -> Settings:
    """The drill's own lakehouse: state and a fresh SQL catalog under its work directory, whatever catalog the user
    configured (the reconciliation must see only the drill's trades, and a drill never writes the user's tables)."""
    catalog = settings.catalog.model_copy(update={"profile": "sql", "sql_uri": "", "warehouse": ""})
    return settings.model_copy(update={"state_dir": work / "lake", "catalog": catalog, "lakehouse": settings.lakehouse.model_copy(update=lakehouse)})


@dataclass
class DrainProcess:
    proc: subprocess.Popen
    log: Path  # the worker's stderr

    def kill(self) -> None:
        self.proc.kill()


def start_drain(
    settings: Settings,
    steps: list[str],
    log_dir: Path,
    *,
    until_empty: bool = False,
    armed: str | None = None,
    kill_point: str | None = None,
    start_at: float | None = None,
) -> DrainProcess:
    """A drain worker process; `armed` names the step that SIGKILLs itself at `kill_point`."""
    argv = [sys.executable, "-m", "k2_platform.ops.chaos.drain_worker", *steps]
    argv += ["--until-empty"] * until_empty + (["--armed", armed] if armed else []) + (["--start-at", repr(start_at)] if start_at else [])
    payload = settings.model_copy(update={"lakehouse": settings.lakehouse.model_copy(update={"fault_kill_point": kill_point})})
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"drain-{time.monotonic_ns()}.log"
    with open(log, "w") as stderr:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True)
    proc.stdin.write(payload.model_dump_json())
    proc.stdin.close()
    return DrainProcess(proc, log)


def finish_drain(run: DrainProcess, timeout_s: float = 300.0) -> DrainRun:
    out = run.proc.stdout.read()
    code = run.proc.wait(timeout=timeout_s)
    errors = [line for line in run.log.read_text(errors="replace").splitlines() if line.startswith("drain failed: ")]
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    rss = [line["peak_rss_mb"] for line in lines if "peak_rss_mb" in line]
    error = errors[-1] if errors else ("" if code == 0 else f"drain exited with {code}")
    return DrainRun(code, [line for line in lines if "table" in line], rss[0] if rss else None, error)


def run_drain(settings: Settings, steps: list[str], log_dir: Path, **kw) -> DrainRun:
    return finish_drain(start_drain(settings, steps, log_dir, **kw))


ALL_STEPS = ["bronze", "refine", "gold"]


def drain_until_empty(settings: Settings, log_dir: Path, timeout_s: float = 300.0, retry_s: float = 0.5) -> tuple[float, list[str]]:
    """Drain runs (a failed one is retried) until no step has a backlog: (seconds it took, failures seen)."""
    started, failures = time.monotonic(), []
    while True:
        run = run_drain(settings, ALL_STEPS, log_dir, until_empty=True)
        if run.returncode == 0:
            return time.monotonic() - started, failures
        failures.append(run.error)
        if time.monotonic() - started > timeout_s:
            raise StackError(f"backlog not drained within {timeout_s:.0f}s; last failure: {run.error}")
        time.sleep(retry_s)


def reconcile_gold(name: str, settings: Settings, source: Source, max_recovery_s: float, ok: bool = True, **details) -> ChaosResult:
    """gold_trades against the source by message_id: each trade once, with exactly its exchange, trade id, price and quantity."""
    columns = ("message_id", "exchange", "trade_id", "price", "quantity")
    rows = load(open_catalog(settings), settings.catalog.namespace, GOLD).scan(selected_fields=columns).to_arrow().to_pylist()
    counts = Counter(r["message_id"] for r in rows)
    wrong = [
        r["message_id"]
        for r in rows
        if r["message_id"] in source.trades and source.trades[r["message_id"]] != SourceTrade(r["exchange"], r["trade_id"], r["price"], r["quantity"])
    ]
    lost = [m for m in source.trades if m not in counts]
    unexpected = [m for m in counts if m not in source.trades]
    duplicated = sum(c - 1 for c in counts.values())
    in_gold = len(counts.keys() & source.trades.keys())
    details.update(
        wrong_values=len(wrong),
        unexpected=len(unexpected),
        delivery_errors=len(source.delivery_errors),
        lost_ids=lost[:_SHOWN],
        wrong_ids=wrong[:_SHOWN],
    )
    passed = ok and not (lost or duplicated or wrong or unexpected or source.delivery_errors) and in_gold == source.sent == len(rows)
    return ChaosResult(name, source.sent, in_gold, len(lost), duplicated, round(max_recovery_s, 3), passed, details)
