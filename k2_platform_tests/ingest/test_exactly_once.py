"""Exactly once into Kafka, against the replay exchange and the real broker."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from k2_platform.ingest.replay.faults import FaultPlan
from k2_platform.schemas.feed_gap import decode as decode_gap

from .conftest import FIRST_ID, RECORDED_TRADES, assert_exactly_once, decoded_trades, read_topic, run_ingest, start_replay

pytestmark = pytest.mark.integration


def test_all_recorded_binance_trades_reach_kafka_exactly_once(fast_settings, binance_recordings, recorded):
    with start_replay(binance_recordings) as server:
        service = run_ingest(fast_settings, server.url, ["binance"], ["BTCUSDT"], RECORDED_TRADES)
    trades = decoded_trades(fast_settings, "binance")
    assert_exactly_once(trades, recorded, "BTCUSDT")
    first = next(t for t in trades if int(t["trade_id"]) == FIRST_ID)
    assert first["vendor_data"] == {"e": "trade", "m": "true", "M": "true"}
    assert first["event_time"] == 1723161255343000
    assert first["quote_quantity"] == Decimal("61837.63") * Decimal("0.02")
    assert service.stats["binance"].gaps_found == 0
    assert read_topic(fast_settings, fast_settings.topics.feed_gaps) == []


def test_disconnects_resends_and_a_gap_still_exactly_once_with_the_gap_repaired(fast_settings, binance_recordings, recorded):
    skipped = (FIRST_ID + 5000, FIRST_ID + 5099)
    faults = FaultPlan(disconnect_after=1500, disconnects=10, resend=200, skip_ids=skipped)
    with start_replay(binance_recordings, faults) as server:
        service = run_ingest(fast_settings, server.url, ["binance"], ["BTCUSDT"], RECORDED_TRADES)
        assert server.state.disconnects_left == 0 and server.state.connections >= 11
    assert_exactly_once(decoded_trades(fast_settings, "binance"), recorded, "BTCUSDT")
    stats = service.stats["binance"]
    assert stats.duplicates >= 10 * 200  # every resend was seen and dropped
    assert stats.gaps_found == stats.gaps_repaired >= 1
    gaps = [decode_gap(m.value()) for m in read_topic(fast_settings, fast_settings.topics.feed_gaps)]
    assert all(g.repaired and g.repaired_count == g.missing_count and (g.exchange, g.symbol) == ("binance", "BTCUSDT") for g in gaps)
    injected = [g for g in gaps if g.first_missing_id <= skipped[0] and skipped[1] <= g.last_missing_id]
    assert len(injected) == 1, gaps
    covered = Counter(i for g in gaps for i in range(g.first_missing_id, g.last_missing_id + 1))
    assert max(covered.values()) == 1  # no range recorded twice
    assert sum(g.repaired_count for g in gaps) == stats.repaired_trades
