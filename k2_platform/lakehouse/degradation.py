"""Degradation levels: how hard K2 is pressed, from consumer lag and worker memory, with hysteresis.

Pure and deterministic: next_state(previous, lag, rss, now, settings) is the whole rule, so a lag series
and a clock give one exact sequence of levels. A level is entered as soon as a reading reaches its `up`
threshold (pressure is urgent, several levels at once if need be) and left one level at a time, only
once every reading is below that level's lower `down` threshold and the level has been held for
min_dwell_s; so a reading hovering at a threshold cannot make the level flap. What a level does
(wider batches, deferred derived work, skipped WARN checks) is in degradation_state; no trade is ever dropped.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from enum import IntEnum

from ..settings import DegradationSettings


class Level(IntEnum):
    NORMAL = 0
    ELEVATED = 1
    DEGRADED = 2
    CRITICAL = 3


@dataclass(frozen=True)
class State:
    level: Level
    since: float  # epoch seconds the level was entered
    lag_records: int  # the readings of the last evaluation
    rss_bytes: int
    evaluated_at: float
    memory_level: Level  # the level memory alone holds: batches are not widened while memory presses
    reason: str
    changes: int = 0  # level changes so far (a Prometheus counter)

    def as_dict(self) -> dict:
        return {**self.__dict__, "level": self.level.name, "memory_level": self.memory_level.name}

    @classmethod
    def from_dict(cls, data: dict) -> State:
        return cls(**{**data, "level": Level[data["level"]], "memory_level": Level[data["memory_level"]]})


INITIAL = State(Level.NORMAL, 0.0, 0, 0, 0.0, Level.NORMAL, "never evaluated")


def reached(thresholds: list[int], value: int) -> Level:
    """The highest level whose threshold `value` has reached (NORMAL below the first)."""
    return Level(bisect.bisect_right(thresholds, value))


def next_state(previous: State, lag: int, rss: int, now: float, cfg: DegradationSettings) -> State:
    rise = max(reached(cfg.lag_up, lag), reached(cfg.rss_up_bytes, rss))
    held = max(reached(cfg.lag_down, lag), reached(cfg.rss_down_bytes, rss))  # the level the readings still justify
    memory = max(reached(cfg.rss_up_bytes, rss), min(previous.memory_level, reached(cfg.rss_down_bytes, rss)))
    readings = replace(previous, lag_records=lag, rss_bytes=rss, evaluated_at=now, memory_level=memory)
    if rise > previous.level:
        return _changed(readings, rise, now, f"rose: {_why(cfg, lag, rss, rise)}")
    if held < previous.level and now - previous.since >= cfg.min_dwell_s:
        lower = Level(previous.level - 1)
        return _changed(
            readings,
            lower,
            now,
            f"eased after {now - previous.since:.0f} s at {previous.level.name}: "
            f"lag {lag:,} records and rss {rss:,} bytes below the {previous.level.name} down thresholds",
        )
    return readings


def _changed(state: State, level: Level, now: float, reason: str) -> State:
    return replace(state, level=level, since=now, reason=reason, changes=state.changes + 1)


def _why(cfg: DegradationSettings, lag: int, rss: int, level: Level) -> str:
    lag_t, rss_t = cfg.lag_up[level - 1], cfg.rss_up_bytes[level - 1]
    causes = [f"lag {lag:,} records >= {lag_t:,}" if lag >= lag_t else "", f"rss {rss:,} bytes >= {rss_t:,}" if rss >= rss_t else ""]
    return f"{' and '.join(c for c in causes if c)} ({level.name} up threshold)"
