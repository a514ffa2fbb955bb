"""Malformed frames and bad values land on the DLQ with a reason; a silent exchange is left for another connection."""

from __future__ import annotations

from collections import Counter

import pytest

from k2_platform.ingest.replay.faults import FaultPlan
from k2_platform.schemas.ingest_reject import STAGE_NORMALIZE, STAGE_PARSE, IngestReject

from .conftest import RECORDED_TRADES, assert_exactly_once, decoded_trades, read_topic, run_ingest, start_replay

pytestmark = pytest.mark.integration

EXPECTED_REASONS = {  # one per malformed variant the replay exchange rotates through
    STAGE_PARSE: "not JSON",
    STAGE_NORMALIZE: ("unknown symbol", "is not a decimal number", "is not positive", "integer digits"),
}


@pytest.mark.parametrize("exchange", ["binance", "kraken"])
def test_bad_frames_go_to_the_dlq_with_a_reason_and_the_feed_keeps_running(fast_settings, binance_recordings, recorded, exchange):
    faults = FaultPlan(malformed_every=397, silent_after=7000)
    symbol = "BTCUSDT"
    with start_replay(binance_recordings, faults) as server:
        service = run_ingest(fast_settings, server.url, [exchange], [symbol], RECORDED_TRADES)
        malformed = server.state.malformed_sent
        assert server.state.silenced
    assert_exactly_once(decoded_trades(fast_settings, exchange), recorded, symbol)
    rejects = [IngestReject.from_kafka(m.value(), m.headers()) for m in read_topic(fast_settings, fast_settings.topics.dlq)]
    assert len(rejects) == service.stats[exchange].rejects  # every frame the feed rejected is on the DLQ
    # ...and that is every malformed frame sent, but for those in flight on the connection dropped as silent.
    assert malformed >= 5 and malformed - 3 <= len(rejects) <= malformed
    assert {r.exchange for r in rejects} == {exchange}
    stages = Counter(r.stage for r in rejects)
    assert stages[STAGE_PARSE] >= 1 and stages[STAGE_NORMALIZE] >= 4 * stages[STAGE_PARSE] - 3  # variant 0 of 5 is bad JSON
    for r in rejects:
        assert r.raw and r.received_at > 0
        if r.stage == STAGE_PARSE:
            assert r.reason.startswith("not JSON")
        else:
            assert any(part in r.reason for part in EXPECTED_REASONS[STAGE_NORMALIZE]), r.reason
    reasons = " | ".join(r.reason for r in rejects)
    for part in EXPECTED_REASONS[STAGE_NORMALIZE]:
        assert part in reasons
