"""`k2 replay-server --rebase-time`: the recording shifted so its first trade is at a given time (now for
`k2 demo`), loops continuing forward, so the demo's partitions, bars and freshness are today's."""

from __future__ import annotations

import time

import pytest

from k2_platform.ingest.recording import load_recordings
from k2_platform.ingest.replay.server import replay_config
from k2_platform.ops.commands.demo import background_commands
from k2_platform.ops.commands.replay_server import _rebase_ms
from k2_platform.ops.errors import StackError
from k2_platform.settings import DemoSettings, Settings

FIRST_MS = 1_796_292_800_000  # 2026-12-03T10:13:20Z


def test_rebased_recording_starts_at_the_given_time_and_loops_go_forward(binance_recordings):
    recorded = load_recordings(binance_recordings)["BTCUSDT"]
    timeline = replay_config(binance_recordings, loops=2, first_trade_ms=FIRST_MS).timelines["BTCUSDT"]
    n = len(recorded)
    assert timeline[0].trade_ms == FIRST_MS and timeline[0].trade_id == recorded[0].trade_id
    shift = FIRST_MS - recorded[0].trade_ms
    assert [timeline[i].trade_ms - shift for i in range(n)] == [t.trade_ms for t in recorded]  # pace kept exactly
    assert [timeline[i].event_ms - shift for i in range(0, n, 997)] == [recorded[i].event_ms for i in range(0, n, 997)]
    assert timeline[n].trade_ms > timeline[n - 1].trade_ms and timeline[n].trade_id > timeline[n - 1].trade_id  # loop 2 is later


def test_rebase_time_now_or_iso_and_the_demo_uses_now(tmp_path, binance_recordings):
    before = time.time_ns() // 1_000_000
    now = _rebase_ms("now")
    assert before <= now <= time.time_ns() // 1_000_000
    assert _rebase_ms("2026-12-03T10:13:20Z") == _rebase_ms("2026-12-03T10:13:20") == FIRST_MS
    assert _rebase_ms(None) is None
    with pytest.raises(StackError, match="rebase-time"):
        _rebase_ms("yesterday")
    settings = Settings(state_dir=tmp_path, demo=DemoSettings(recordings=[str(p) for p in binance_recordings]))
    replay = background_commands(settings)["replay-server"]
    assert replay[replay.index("--rebase-time") + 1] == "now"
