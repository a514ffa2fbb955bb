"""The README's main job, as a user runs it: `k2 demo` replays the shared recordings through the
local exchange, ingests them, and the Dagster daemon's sensors materialize bronze -> silver -> gold."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.ops.processes import free_port, pid_alive
from k2_platform.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.dagster, pytest.mark.slow]

RECORDED_TRADES = 19_904  # BTCUSDT trades in the shared recordings; Kraken replays them as BTCUSD


def row_count(catalog, table: str) -> int:
    snapshot = catalog.load_table(f"market.{table}").current_snapshot()
    return int(snapshot.summary.additional_properties.get("total-records", 0)) if snapshot else 0


def test_demo_materializes_every_replayed_trade_into_gold_exactly_once(tmp_path, binance_recordings):
    env = {
        **os.environ,
        "K2_STATE_DIR": str(tmp_path / "state"),
        "K2_KAFKA__PORT": str(free_port()),
        "K2_KAFKA__CONTROLLER_PORT": str(free_port()),
        "K2_INGEST__REPLAY_PORT": str(free_port()),
        "K2_INGEST__METRICS_PORT": "0",
        "K2_DEMO__SPEED": "max",
        "K2_DEMO__LOOPS": "1",
    }
    env.pop("K2_CONFIG", None)
    ui_port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "k2_platform.ops.cli", "demo", "--port", str(ui_port)],
        env=env,
        stdout=open(tmp_path / "demo.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    # Binance BTCUSDT; Kraken BTC/USDT (the recording as listed on Kraken) and BTC/USD (--kraken-pair).
    expected = 3 * RECORDED_TRADES
    gold = 0
    try:
        settings = Settings(state_dir=tmp_path / "state")
        deadline = time.monotonic() + 420
        while time.monotonic() < deadline and gold < expected:
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            time.sleep(5)
            if (tmp_path / "state" / "catalog.db").exists():
                try:
                    gold = row_count(open_catalog(settings), "gold_trades")
                except Exception:  # the catalog is being created by `k2 up`
                    gold = 0
        catalog = open_catalog(settings)
        assert gold == expected, (tmp_path / "demo.log").read_text()[-3000:]
        assert row_count(catalog, "silver_trades_binance") == RECORDED_TRADES
        assert row_count(catalog, "silver_trades_kraken") == 2 * RECORDED_TRADES
        assert row_count(catalog, "trades_dlq") == 0
        assert row_count(catalog, "bronze_trades") == expected
        ids = catalog.load_table("market.gold_trades").scan(selected_fields=("message_id",)).to_arrow().column(0)
        assert len(set(ids.to_pylist())) == expected
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=120)
        subprocess.run([sys.executable, "-m", "k2_platform.ops.cli", "down"], env=env, capture_output=True, timeout=120)
    log = (tmp_path / "demo.log").read_text()
    children = [int(pid) for pid in re.findall(r"^(?:replay-server|ingest|dagster) started \(pid (\d+)", log, re.M)]
    assert len(children) == 3, log[-3000:]
    assert [pid for pid in children if pid_alive(pid)] == []
