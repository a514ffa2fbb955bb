"""SIGTERM to a running `k2 ingest` loses nothing the exchange had sent."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from k2_platform.ops.chaos.children import k2_env

from .conftest import FIRST_ID, decoded_trades, start_replay

pytestmark = pytest.mark.integration


def test_sigterm_during_replay_publishes_everything_sent_before_it(settings, binance_recordings):
    key = "binance:btcusdt@trade"
    with start_replay(binance_recordings, speed=100.0) as server:  # ~6.5 s for the whole recording
        proc = subprocess.Popen(
            [sys.executable, "-m", "k2_platform.ops.cli", "ingest", "--exchange", "binance", "--symbols", "BTCUSDT", "--replay", server.url],
            env=k2_env(settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while server.state.cursors.get(key, 0) < 4000 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        sent_before = server.state.cursors[key]
        output, _ = proc.communicate(timeout=60)
        sent_total = server.state.cursors[key]
    assert proc.returncode == 0, output
    assert 4000 <= sent_before < 19_904, "the replay must still be running when SIGTERM arrives"
    ids = Counter(int(t["trade_id"]) for t in decoded_trades(settings, "binance"))
    assert max(ids.values()) == 1
    # Everything sent before (and during) the close handshake is in Kafka: a gap-free prefix.
    assert set(ids) == set(range(FIRST_ID, FIRST_ID + len(ids)))
    assert len(ids) >= sent_total >= sent_before
    assert "binance:" in output
