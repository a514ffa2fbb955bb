"""SIGTERM to a running `k2 ingest` loses nothing the exchange had sent."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from .conftest import FIRST_ID, decoded_trades, start_replay

pytestmark = pytest.mark.integration


def _env(settings) -> dict:
    t = settings.topics
    return {**os.environ, "K2_STATE_DIR": str(settings.state_dir), "K2_KAFKA__HOST": settings.kafka.host,
            "K2_KAFKA__PORT": str(settings.kafka.port), "K2_TOPICS__TRADES_PREFIX": t.trades_prefix, "K2_TOPICS__DLQ": t.dlq,
            "K2_TOPICS__FEED_GAPS": t.feed_gaps, "K2_INGEST__METRICS_PORT": "0"}


def test_sigterm_during_replay_publishes_everything_sent_before_it(settings, binance_recordings):
    key = "binance:btcusdt@trade"
    with start_replay(binance_recordings, speed=100.0) as server:  # ~6.5 s for the whole recording
        proc = subprocess.Popen([sys.executable, "-m", "k2_platform.ops.cli", "ingest", "--exchange", "binance",
                                 "--symbols", "BTCUSDT", "--replay", server.url],
                                env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
