"""The Kraken v2 path end to end: numeric JSON decimals, XBT/BTC to one instrument, exactly once."""

from __future__ import annotations

from collections import Counter

import pytest

from k2_platform.ingest.replay.faults import FaultPlan
from k2_platform.ingest.service import Feed
from k2_platform.schemas.feed_gap import decode as decode_gap

from .conftest import FIRST_ID, RECORDED_TRADES, assert_exactly_once, decoded_trades, read_topic, run_ingest, start_replay

pytestmark = pytest.mark.integration


def test_kraken_btc_and_xbt_spellings_reach_kafka_once_as_one_instrument(fast_settings, binance_recordings, recorded):
    skipped = (FIRST_ID + 12000, FIRST_ID + 12049)
    faults = FaultPlan(disconnect_after=2000, disconnects=5, resend=100, skip_ids=skipped)
    with start_replay(binance_recordings, faults, kraken_pairs={"BTCUSD": "BTCUSDT"}) as server:
        rest = "http" + server.url[2:]
        # Both spellings on one connection: every trade arrives twice, under two names.
        feeds = [Feed("kraken", ["BTC/USD", "XBT/USD"], [server.url], rest)]
        service = run_ingest(fast_settings, server.url, [], [], RECORDED_TRADES, feeds=feeds)
    trades = decoded_trades(fast_settings, "kraken")
    assert_exactly_once(trades, recorded, "BTCUSD")
    assert {t["exchange_symbol"] for t in trades} <= {"BTC/USD", "XBT/USD"}
    assert {(t["base"], t["quote"]) for t in trades} == {("BTC", "USD")}
    first = next(t for t in trades if int(t["trade_id"]) == FIRST_ID)
    assert first["vendor_data"]["ord_type"] == "market"
    stats = service.stats["kraken"]
    assert stats.duplicates >= RECORDED_TRADES - stats.repaired_trades  # the second spelling was all redelivery
    gaps = [decode_gap(m.value()) for m in read_topic(fast_settings, fast_settings.topics.feed_gaps)]
    assert gaps and all(g.repaired and (g.exchange, g.symbol) == ("kraken", "BTCUSD") for g in gaps)
    assert any(g.first_missing_id <= skipped[0] and skipped[1] <= g.last_missing_id for g in gaps)
    assert max(Counter(i for g in gaps for i in range(g.first_missing_id, g.last_missing_id + 1)).values()) == 1
