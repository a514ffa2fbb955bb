"""Degradation levels: exact level sequences for lag series on a given clock, hysteresis, dwell, memory."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from k2_platform.lakehouse import degradation_state
from k2_platform.lakehouse.degradation import INITIAL, Level, next_state
from k2_platform.lakehouse.process_memory import tree_rss_bytes
from k2_platform.settings import DegradationSettings, LakehouseSettings, Settings

N, E, D, C = Level.NORMAL, Level.ELEVATED, Level.DEGRADED, Level.CRITICAL
GIB = 1 << 30
CFG = DegradationSettings(
    lag_up=[100, 200, 300],
    lag_down=[50, 150, 250],
    rss_up_bytes=[4 * GIB, 5 * GIB, 6 * GIB],
    rss_down_bytes=[3 * GIB, 4 * GIB, 5 * GIB],
    min_dwell_s=10,
)


def levels(series, cfg=CFG, rss=0):
    """(second, lag) readings -> the level after each."""
    state, out = INITIAL, []
    for now, lag in series:
        state = next_state(state, lag, rss, now, cfg)
        out.append(state.level)
    return out


def test_rising_lag_enters_each_level_at_its_up_threshold_and_may_jump_levels():
    series = [(0, 0), (1, 99), (2, 100), (3, 199), (4, 200), (5, 299), (6, 300), (7, 10_000)]
    assert levels(series) == [N, N, E, E, D, D, C, C]
    assert levels([(0, 0), (1, 450)]) == [N, C]  # a burst goes straight to CRITICAL: rising never waits


def test_falling_lag_steps_down_one_level_per_dwell_and_only_below_the_down_threshold():
    # CRITICAL at t=0; lag drops to 0 at once, but each step down needs 10 s at the level held
    series = [(0, 400), (1, 0), (9, 0), (10, 0), (15, 0), (19, 0), (20, 0), (30, 0), (31, 0)]
    assert levels(series) == [C, C, C, D, D, D, E, N, N]
    # 250..299 is above CRITICAL's down threshold: CRITICAL holds however long
    assert levels([(0, 300), (60, 250), (600, 299), (601, 249), (700, 249)]) == [C, C, C, D, D]


def test_a_lag_oscillating_around_a_threshold_does_not_flap():
    # lag crosses ELEVATED's up threshold (100) every second: one rise, then steady while it stays above 50
    series = [(t, 100 if t % 2 else 99) for t in range(40)]
    got = levels(series)
    assert got == [N] + [E] * 39
    # and around the down threshold (50) after dwell: one step down, no return until the up threshold again
    series = [(0, 100)] + [(t, 49 if t % 2 else 51) for t in range(10, 30)] + [(30, 99), (31, 100)]
    assert levels(series) == [E, E, N] + [N] * 18 + [N, E]


def test_state_records_the_readings_the_reason_and_counts_changes():
    state = next_state(INITIAL, 210, 0, 5.0, CFG)
    assert (state.level, state.since, state.lag_records, state.evaluated_at, state.changes) == (D, 5.0, 210, 5.0, 1)
    assert state.reason == "rose: lag 210 records >= 200 (DEGRADED up threshold)"
    same = next_state(state, 220, 0, 6.0, CFG)
    assert (same.level, same.since, same.lag_records, same.evaluated_at, same.changes, same.reason) == (D, 5.0, 220, 6.0, 1, state.reason)
    eased = next_state(same, 0, 0, 15.0, CFG)
    assert (eased.level, eased.changes) == (E, 2)
    assert eased.reason == "eased after 10 s at DEGRADED: lag 0 records and rss 0 bytes below the DEGRADED down thresholds"


def test_memory_drives_the_level_too_and_stops_batch_widening(tmp_path):
    state = next_state(INITIAL, 0, 5 * GIB, 0.0, CFG)
    assert (state.level, state.memory_level, state.reason) == (D, D, f"rose: rss {5 * GIB:,} bytes >= {5 * GIB:,} (DEGRADED up threshold)")
    both = next_state(state, 350, 4 * GIB + 1, 1.0, CFG)  # lag takes it to CRITICAL; memory still above DEGRADED's down (4 GiB)
    assert (both.level, both.memory_level) == (C, D)
    settings = Settings(state_dir=tmp_path, lakehouse=LakehouseSettings(max_records_per_run=1000), degradation=CFG)
    degradation_state.save(settings, both)
    assert degradation_state.records_per_run(settings, now=1.0) == 1000  # memory presses: wider runs would need more of it
    relieved = next_state(both, 350, 3 * GIB - 1, 2.0, CFG)  # below ELEVATED's down threshold (3 GiB)
    assert (relieved.level, relieved.memory_level) == (C, N)
    degradation_state.save(settings, relieved)
    assert degradation_state.records_per_run(settings, now=2.0) == 8000  # lag alone: CRITICAL's batch factor 8


def test_the_state_file_round_trips_and_a_missing_one_is_normal(tmp_path):
    settings = Settings(state_dir=tmp_path / "state", degradation=CFG)
    assert degradation_state.current(settings) == INITIAL and degradation_state.deferred(settings, "bars") is None
    state = next_state(INITIAL, 320, 7, 1_764_800_000.0, CFG)
    degradation_state.save(settings, state)
    assert degradation_state.current(settings) == state
    assert degradation_state.deferred(settings, "bars", now=1_764_800_010.0) == (
        "bars deferred: K2 degradation level is CRITICAL (since 2025-12-03T22:13:20Z, rose: lag 320 records >= 300 "
        "(CRITICAL up threshold)); back to normal below DEGRADED"
    )
    assert degradation_state.deferred(settings, "bars", now=1_764_800_301.0) is None  # not re-evaluated for 301 s: stale, not acted upon
    assert list((tmp_path / "state").iterdir()) == [tmp_path / "state" / "degradation.json"]  # no temp file left behind


def test_an_unreadable_state_file_is_a_clear_error(tmp_path):
    settings = Settings(state_dir=tmp_path)
    (tmp_path / "degradation.json").write_text('{"level": "PANIC"')
    with pytest.raises(ValueError, match=r"degradation state .*degradation.json is unreadable .*delete it to restart at NORMAL"):
        degradation_state.current(settings)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"lag_up": [1, 2]}, "need 3 values each"),
        ({"lag_up": [300, 200, 100], "lag_down": [1, 2, 3]}, "must rise level by level"),
        ({"rss_down_bytes": [5 * GIB, 1, 2]}, "must rise level by level"),
        ({"lag_up": [100, 200, 300], "lag_down": [100, 150, 250]}, "each down below its up"),
        ({"batch_factor": [2, 1, 4, 8]}, "batch_factor needs 4 non-decreasing values"),
    ],
)
def test_thresholds_that_form_no_band_are_refused(bad, message):
    with pytest.raises(ValidationError, match=message):
        DegradationSettings(**bad)


def test_worker_memory_counts_the_child_processes_too():
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; held = bytearray(300 << 20); print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "ready\n"  # its 300 MiB are touched (bytearray zero-fills), so resident
        alone = tree_rss_bytes(child.pid)
        assert alone >= 300 << 20
        assert tree_rss_bytes() >= alone + (10 << 20)  # this process (far more than 10 MiB resident) plus its child
    finally:
        child.communicate("")
