"""The feed_gaps record round-trips and names what is wrong with a bad one."""

from __future__ import annotations

import pytest

from k2_platform.lakehouse.table_specs import FEED_GAPS
from k2_platform.schemas.feed_gap import FeedGap, UndecodableGap, decode

GAP = FeedGap("binance", "BTCUSDT", 101, 120, 20, 1723161255342000, True, 20, "REST history: 20 trades")


def test_round_trip_and_columns_match_the_table():
    assert decode(GAP.encode()) == GAP
    assert GAP.key() == b"binance|BTCUSDT"
    table_columns = [name for name, _type, _required in FEED_GAPS.columns if not name.startswith("source_")]
    assert list(GAP.__dataclass_fields__) == table_columns


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"nope", "not JSON"),
        (b"[]", "not a JSON object"),
        (GAP.encode().replace(b'"repaired":true', b'"repaired":1'), "repaired: expected bool"),
        (GAP.encode().replace(b'"missing_count":20', b'"missing_count":"20"'), "missing_count: expected int"),
    ],
)
def test_bad_records_are_rejected_with_a_reason(data, reason):
    with pytest.raises(UndecodableGap, match=reason):
        decode(data)
