"""Platform-side failure drills in reduced form: real drain processes, a real broker, a real catalog
(and SeaweedFS for the catalog outage); each ends in the exact reconciliation of gold against its source."""

import pytest

from k2_platform.lakehouse.faults import KILL_POINTS
from k2_platform.ops.chaos.backlog_pause import backlog
from k2_platform.ops.chaos.broker_restart import broker_restart
from k2_platform.ops.chaos.catalog_outage import catalog_outage
from k2_platform.ops.chaos.drain_kill import drain_kill
from k2_platform.ops.chaos.drain_race import drain_race
from k2_platform.ops.chaos.lake_drill import ALL_STEPS

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def assert_exact(result, sent: int) -> None:
    assert (result.sent, result.in_gold, result.lost, result.duplicated) == (sent, sent, 0, 0), result.details
    assert (result.details["wrong_values"], result.details["unexpected"], result.details["delivery_errors"]) == (0, 0, 0)
    assert result.passed and result.max_recovery_s > 0, result.details


def test_drain_runs_killed_at_every_commit_point_and_at_random_lose_and_duplicate_nothing(settings, tmp_path):
    result = drain_kill(settings, tmp_path, random_kills=1, trades_per_kill=600, seed=11, progress=lambda _m: None)
    assert_exact(result, (len(ALL_STEPS) * len(KILL_POINTS) + 1) * 600)
    kills = result.details["kills"]
    assert [k["at"] for k in kills[:9]] == [f"{s} {p}" for s in ALL_STEPS for p in KILL_POINTS]
    assert all(k["killed"] for k in kills[:9])
    assert result.details["sigkills"] >= 9


def test_two_drains_racing_on_one_range_commit_it_exactly_once(settings, tmp_path):
    result = drain_race(settings, tmp_path, rounds=1, trades_per_round=3_000, progress=lambda _m: None)
    assert_exact(result, 3_000)
    races = result.details["races"]
    assert [r["step"] for r in races] == ALL_STEPS
    # The DLQ reads the trade topics too: its share of the range is committed once, with no rows (nothing was bad).
    assert {r["step"]: {t.split(".")[-1]: n for t, n in r["winners"].items()} for r in races} == {
        "bronze": {"bronze_trades": 1},
        "refine": {"silver_trades_binance": 1, "silver_trades_kraken": 1, "trades_dlq": 1},
        "gold": {"gold_trades": 1},
    }
    assert all(r["loser_rows"] == 0 and r["exact"] and not r["errors"] for r in races)


def test_a_backlog_of_100k_messages_drains_within_the_memory_limit(settings, tmp_path):
    result = backlog(settings, tmp_path, trades=100_000, progress=lambda _m: None)
    assert_exact(result, 100_000)
    assert 0 < result.details["peak_rss_mb"] <= 1024
    assert result.details["error"] == ""


def test_broker_stopped_and_restarted_mid_stream_loses_and_duplicates_nothing(settings, tmp_path):
    result = broker_restart(settings, tmp_path, trades=20_000, down_s=5.0, stream_s=6.0, progress=lambda _m: None)
    assert_exact(result, 20_000)
    assert all(reason.startswith("drain failed: ") for reason in result.details["failure_reasons"])


@pytest.mark.s3
def test_catalog_and_object_store_outage_fails_drains_clearly_then_they_catch_up(settings, tmp_path):
    result = catalog_outage(settings, tmp_path, trades=10_000, outage_s=10.0, progress=lambda _m: None)
    assert_exact(result, 10_000)
    assert result.details["failed_drains"] >= 1
    assert all(reason.startswith("drain failed: ") for reason in result.details["failure_reasons"]), result.details["failure_reasons"]
