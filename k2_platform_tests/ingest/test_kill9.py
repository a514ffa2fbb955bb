"""kill -9 of a real `k2 ingest` at random instants while trades stream fast: after each restart it resumes from Kafka."""

from __future__ import annotations

import pytest

from k2_platform.ops.chaos.ingest_kill import run_ingest_kill

from .conftest import RECORDED_TRADES, assert_exactly_once, decoded_trades

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_sigkill_five_times_mid_stream_loses_nothing_and_duplicates_nothing(settings, binance_recordings, recorded, tmp_path):
    result = run_ingest_kill(settings, binance_recordings, tmp_path, kills=5, speed=40.0, progress=lambda _line: None)
    context = f"seed {result.seed}, logs in {tmp_path}"
    assert len(result.kills) == 5, context
    assert all(k.mid_stream and 0 < k.trades_at_kill for k in result.kills), (result.kills, context)
    for exchange in ("binance", "kraken"):
        # Read back independently of the drill: every recorded trade once, exact decimals, sides and times.
        assert_exactly_once(decoded_trades(settings, exchange), recorded, "BTCUSDT")
    for r in result.reconciliations:
        assert (r.sent, r.in_kafka, r.lost, r.duplicated, r.unexpected, r.wrong_values) == (RECORDED_TRADES, RECORDED_TRADES, 0, 0, 0, 0), context
        assert r.unrepaired_gaps == 0, (r.gaps, context)
    # The kills did lose frames in flight: their successors fetched them from REST (recorded as repaired gaps).
    assert sum(r.repaired_from_rest for r in result.reconciliations) > 0, context
