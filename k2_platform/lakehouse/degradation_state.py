"""The current degradation level, shared by every process, and what it changes.

Kept as a small JSON file in the state directory, replaced atomically (write + rename): the
k2_degradation sensor writes it, and drain runs, derived schedules, the API's /health and
/metrics read it, each in its own process, without Dagster or a catalog round trip. A stale level
(Settings.degradation.stale_after_s) is shown but not acted upon. Not a
snapshot property: a level change is no table's data and must not add snapshots (and commit
conflicts) to tables the drains are committing to. No file yet: NORMAL.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from ..settings import Settings
from .degradation import INITIAL, Level, State


def state_path(settings: Settings) -> Path:
    return settings.state_dir / "degradation.json"


def current(settings: Settings) -> State:
    path = state_path(settings)
    try:
        return State.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return INITIAL
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"degradation state {path} is unreadable ({type(exc).__name__}: {exc}); delete it to restart at NORMAL") from exc


def save(settings: Settings, state: State) -> None:
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(state.as_dict(), sort_keys=True))
    os.replace(partial, path)  # readers see the old state or the new one, never half of one


def stale(settings: Settings, state: State, now: float) -> bool:
    return now - state.evaluated_at > settings.degradation.stale_after_s


def acted_upon(settings: Settings, now: float | None = None) -> State:
    """The level effects follow: the current one, or NORMAL when it is stale."""
    state = current(settings)
    return INITIAL if stale(settings, state, time.time() if now is None else now) else state


def records_per_run(settings: Settings, now: float | None = None) -> int:
    """Settings.lakehouse.max_records_per_run widened by the level's batch factor (not while memory presses)."""
    state = acted_upon(settings, now)
    factor = 1 if state.memory_level > Level.NORMAL else settings.degradation.batch_factor[state.level]
    return settings.lakehouse.max_records_per_run * factor


def _pressed(settings: Settings, threshold: str, effect: str, now: float | None) -> str | None:
    state = acted_upon(settings, now)
    if state.level < Level[threshold]:
        return None
    since = datetime.fromtimestamp(state.since, UTC)
    return (
        f"{effect}: K2 degradation level is {state.level.name} (since {since:%Y-%m-%dT%H:%M:%SZ}, {state.reason}); back to normal below {threshold}"
    )


def deferred(settings: Settings, what: str, now: float | None = None) -> str | None:
    """Why derived work `what` waits now, or None to run it: every derived schedule/sensor asks this first."""
    return _pressed(settings, settings.degradation.defer_derived_from, f"{what} deferred", now)


def warn_checks_skipped(settings: Settings, now: float | None = None) -> str | None:
    """Why non-blocking (WARN) checks are not judged now, or None to judge them."""
    return _pressed(settings, settings.degradation.skip_warn_checks_from, "non-blocking check skipped, reported as passed", now)


def summary(settings: Settings, now: float) -> dict:
    """The level as /health reports it."""
    state = current(settings)
    return {
        "level": state.level.name,
        "since": state.since,
        "reason": state.reason,
        "lag_records": state.lag_records,
        "rss_bytes": state.rss_bytes,
        "evaluated_age_s": round(now - state.evaluated_at, 3) if state.evaluated_at else None,
        "stale": bool(state.evaluated_at) and stale(settings, state, now),
    }
