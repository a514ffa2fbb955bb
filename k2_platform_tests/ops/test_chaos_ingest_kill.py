"""`k2 chaos ingest-kill` as a user runs it: kills, reconciliation table, and the JSON last line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from k2_platform.ops.chaos.children import k2_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_chaos_ingest_kill_reports_every_trade_once_in_a_table_and_a_json_last_line(settings, binance_recordings):
    env = {**k2_env(settings), "K2_DEMO__RECORDINGS": json.dumps([str(p) for p in binance_recordings])}
    env.pop("K2_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "k2_platform.ops.cli", "chaos", "ingest-kill", "--kills", "2", "--exchange", "binance", "--seed", "7"],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert (summary["lost"], summary["duplicated"], summary["passed"]) == (0, 0, True)
    [drill] = summary["scenarios"]
    assert (drill["name"], drill["seed"], drill["kills"], drill["sent"], drill["in_kafka"]) == ("ingest-kill", 7, 2, 19_904, 19_904)
    assert (drill["wrong_values"], drill["unrepaired_gaps"]) == (0, 0)
    assert summary["max_recovery_s"] == drill["max_recovery_s"] > 0
    row = next(line for line in lines if line.startswith("binance "))
    assert row.split()[1:7] == ["19,904", "19,904", "0", "0", "0", "0"] and int(row.split()[7].replace(",", "")) == drill["repaired_from_rest"]
    assert [line for line in result.stderr.splitlines() if line.startswith("kill ")][-1].startswith("kill 2/2: SIGKILL after ")
