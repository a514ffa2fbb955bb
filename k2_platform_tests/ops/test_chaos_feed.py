"""The feed-side `k2 chaos` scenarios in their CI form (a faster replay, fewer faults), as a user runs them:
each ends with the real medallion draining Kafka to gold, and gold holds every recorded trade exactly once."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from k2_platform.ops.chaos.children import k2_env
from k2_platform.ops.commands import chaos

RECORDED = 19_904  # trades of the shared BTCUSDT recordings, each streamed once per exchange


def _chaos(settings, recordings, *args: str) -> tuple[dict, list[str]]:
    env = {**k2_env(settings), "K2_DEMO__RECORDINGS": json.dumps([str(p) for p in recordings])}
    env.pop("K2_CONFIG", None)
    result = subprocess.run([sys.executable, "-m", "k2_platform.ops.cli", "chaos", *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert (summary["lost"], summary["duplicated"], summary["passed"]) == (0, 0, True)
    [drill] = summary["scenarios"]
    assert drill["name"] == args[0] and drill["passed"] is True
    assert summary["max_recovery_s"] == drill["max_recovery_s"]
    assert (drill["wrong_values"], drill["unexpected"], drill["unrepaired_gaps"], drill["unexplained_lost"], drill["dlq_without_reason"]) == (0,) * 5
    assert all(drill["checks"].values()) and drill["checks"]
    return drill, lines


def _row(lines: list[str], label: str) -> list[str]:
    return next(line for line in lines if line.startswith(f"{label} ")).split()


@pytest.mark.integration
@pytest.mark.slow
def test_disconnects_with_resends_lose_and_duplicate_nothing_in_gold(settings, binance_recordings):
    drill, lines = _chaos(settings, binance_recordings, "disconnects", "--every", "2500", "--count", "3", "--resend", "150", "--speed", "100")
    assert (drill["sent"], drill["in_gold"], drill["lost"], drill["duplicated"]) == (2 * RECORDED, 2 * RECORDED, 0, 0)
    assert drill["reconnects"] == 3 and drill["dlq_rows"] == 0
    assert _row(lines, "binance")[1:5] == ["19,904", "19,904", "0", "0"] and _row(lines, "kraken")[1:5] == ["19,904", "19,904", "0", "0"]
    assert _row(lines, "total")[1:5] == ["39,808", "39,808", "0", "0"] and float(_row(lines, "total")[5]) == drill["max_recovery_s"]


@pytest.mark.integration
@pytest.mark.slow
def test_a_gap_only_rest_can_fill_is_in_gold_and_recorded_as_repaired(settings, binance_recordings):
    drill, _lines = _chaos(settings, binance_recordings, "rest-gap", "--size", "300", "--speed", "100")
    assert (drill["sent"], drill["in_gold"], drill["lost"], drill["duplicated"]) == (2 * RECORDED, 2 * RECORDED, 0, 0)
    first, last = drill["skipped_ids"]
    assert last - first == 299 and drill["checks"] == {"gap_repaired_in_feed_gaps": True}
    assert drill["repaired_from_rest"] >= 2 * 300  # each exchange's feed fetched the skipped range from REST


@pytest.mark.integration
@pytest.mark.slow
def test_poison_frames_all_land_in_the_dlq_with_a_reason_and_every_good_trade_in_gold(settings, binance_recordings):
    drill, _lines = _chaos(settings, binance_recordings, "poison", "--every", "250", "--speed", "100")
    assert (drill["sent"], drill["in_gold"], drill["lost"], drill["duplicated"]) == (2 * RECORDED, 2 * RECORDED, 0, 0)
    # The binance feed alone carries one malformed frame per 250 messages (a trade each); exactly that many DLQ rows.
    assert drill["poison_sent"] >= RECORDED // 250 and drill["dlq_rows"] == drill["poison_sent"]


def test_all_namespaces_each_scenarios_options_so_none_clash():
    parser = argparse.ArgumentParser()
    chaos.register(parser.add_subparsers())
    args = parser.parse_args(
        ["chaos", "all", "--ingest-kill-kills", "2", "--disconnects-every", "900", "--poison-every", "50", "--rest-gap-speed", "7"]
    )
    assert vars(chaos.scenario_args(args, "ingest-kill")) == {"kills": 2, "speed": 40.0, "exchange": "binance,kraken", "seed": None}
    assert vars(chaos.scenario_args(args, "disconnects")) == {"every": 900, "count": 4, "resend": 200, "speed": 40.0, "exchange": "binance,kraken"}
    assert vars(chaos.scenario_args(args, "poison")) == {"every": 50, "speed": 40.0, "exchange": "binance,kraken"}
    assert vars(chaos.scenario_args(args, "rest-gap"))["speed"] == 7.0
    single = parser.parse_args(["chaos", "poison", "--every", "9"])
    assert (single.chosen, vars(chaos.scenario_args(single, "poison"))) == (["poison"], {"every": 9, "speed": 40.0, "exchange": "binance,kraken"})
