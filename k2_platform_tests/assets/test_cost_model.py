"""platform_cost_model: exact figures from given inputs, and the Dagster asset from really measured ones."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from dagster import materialize

from k2_platform.assets.cost_model import costs
from k2_platform.costs.measured import Input, settings_inputs, with_value
from k2_platform.costs.platform import evaluate
from k2_platform.costs.pricing import PricingError, load_pricing
from k2_platform.ingest.service import IngestService, replay_feeds
from k2_platform.lakehouse.backlog import bronze_backlog, gold_backlog, refine_backlog
from k2_platform.lakehouse.bronze import drain_to_bronze
from k2_platform.lakehouse.gold import build_gold
from k2_platform.lakehouse.refine import refine
from k2_platform.lakehouse.tables import load
from k2_platform.resources import K2SettingsResource

PRICING = """
hours_per_month = 730
[instance]
name = "m-test"
vcpus = 4
per_hour = 0.2
source = "test"
as_of = "test"
[object_storage]
per_gb_month = 0.02
source = "test"
as_of = "test"
[requests]
put_per_1k = 0.005
get_per_1k = 0.0004
source = "test"
as_of = "test"
[kafka_broker]
name = "b-test"
per_hour = 0.2
storage_per_gb_month = 0.1
source = "test"
as_of = "test"
[transfer]
cross_az_per_gb = 0.02
source = "test"
as_of = "test"
[sizing]
broker_write_mb_s = 20
consumers_per_topic = 2
reads_per_object_written = 2
metadata_objects_per_commit = 3
source = "test"
as_of = "test"
"""


def _inputs(settings) -> dict[str, Input]:
    given = {
        "ingest_trades_per_core_s": 50_000,
        "drain_trades_per_core_s": 40_000,
        "bronze_bytes_per_trade": 100,
        "silver_bytes_per_trade": 50,
        "gold_bytes_per_trade": 40,
        "data_files_per_commit": 1,
    }
    return {**{n: Input(n, Decimal(v), "", "test") for n, v in given.items()}, **{i.name: i for i in settings_inputs(settings)}}


def test_costs_follow_each_input_exactly(tmp_path):
    from k2_platform.settings import Settings

    settings = Settings(state_dir=tmp_path)
    (tmp_path / "pricing.toml").write_text(PRICING)
    prices = load_pricing(tmp_path / "pricing.toml")
    inputs = _inputs(settings)
    model = evaluate(inputs, prices, [10_000, 1_000_000])
    ten_k = model.results[0]
    # 0.45 cores -> 1 instance; 3 brokers (one per replica); 1,814.4 GB on Kafka; 59,918.4 GB in the lakehouse;
    # 10,512,000 PUTs and twice as many GETs; 5,256 GB across zones.
    assert ten_k.costs == {
        "compute": Decimal("146.00"),
        "kafka_brokers": Decimal("438.00"),
        "kafka_storage": Decimal("181.44"),
        "object_storage": Decimal("1198.37"),
        "requests": Decimal("60.97"),
        "transfer": Decimal("105.12"),
    }
    assert (ten_k.instances, ten_k.brokers, ten_k.kafka_gb, ten_k.lake_gb, ten_k.puts) == (1, 3, Decimal("1814.40"), Decimal("59918.40"), 10_512_000)
    assert ten_k.total == Decimal("2129.90") and ten_k.per_million(prices["hours_per_month"]) == Decimal("0.0810")
    assert model.results[1].costs["compute"] == Decimal("2774.00")  # 45 cores / 0.6 / 4 vCPUs -> 19 instances
    row = model.frame.iloc[0]
    assert (row["earlier_total"], row["earlier_per_million"], row["total_vs_earlier"]) == (Decimal(617), Decimal("2.20"), Decimal("3.45"))

    # Gold at 20 instead of 40 bytes per trade: only object storage moves, by exactly the bytes no longer kept.
    smaller = evaluate(with_value(inputs, "gold_bytes_per_trade", Decimal(20), "what-if"), prices, [10_000]).results[0]
    assert smaller.costs["object_storage"] == Decimal("1072.22") and smaller.total == Decimal("2003.75")
    assert {k: v for k, v in smaller.costs.items() if k != "object_storage"} == {k: v for k, v in ten_k.costs.items() if k != "object_storage"}
    # Drains half as fast per core: 70 cores at 1M msg/s -> 30 instances.
    slower = evaluate(with_value(inputs, "drain_trades_per_core_s", Decimal(20_000), "what-if"), prices, [1_000_000]).results[0]
    assert slower.costs["compute"] == Decimal("4380.00")
    # A price without its source is refused.
    unsourced = PRICING.replace('[transfer]\ncross_az_per_gb = 0.02\nsource = "test"\n', "[transfer]\ncross_az_per_gb = 0.02\n")
    (tmp_path / "bad.toml").write_text(unsourced)
    with pytest.raises(PricingError, match=r"\[transfer\] lacks source"):
        load_pricing(tmp_path / "bad.toml")


def _bench(settings, *argv: str) -> None:
    env = {
        **os.environ,
        "K2_STATE_DIR": str(settings.state_dir),
        "K2_KAFKA__PORT": str(settings.kafka.port),
        "K2_KAFKA__CONTROLLER_PORT": str(settings.kafka.controller_port),
    }
    done = subprocess.run([sys.executable, "-m", "k2_platform.ops.cli", "bench", *argv], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def _ingest_and_drain(settings, catalog, recording: Path) -> int:
    with gzip.open(recording, "rt") as fh:
        frames = [line.split(" ", 1)[1].strip() for line in fh]
    service = IngestService(
        settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"metrics_port": 0})}),
        replay_feeds(settings, ["binance"], ["BTCUSDT"]),
    )

    async def drive() -> None:
        async with service.pipeline() as (pipeline, venues):
            for frame in frames:
                await pipeline.handle(venues["binance"], frame, time.time_ns() // 1000)

    asyncio.run(drive())
    for find, run in ((bronze_backlog, drain_to_bronze), (refine_backlog, refine), (gold_backlog, build_gold)):
        while rng := find(settings, catalog):
            run(settings, catalog, rng)
    return len(frames)


def _materialize(settings) -> dict:
    result = materialize(costs(settings).assets, resources={"k2": K2SettingsResource.of(settings)})
    assert result.success
    return {k: v.value for k, v in result.asset_materializations_for_node("platform_cost_model")[0].metadata.items()}


@pytest.mark.integration
@pytest.mark.dagster
@pytest.mark.slow
def test_cost_model_asset_renders_table_and_chart_from_measured_inputs(settings, catalog, binance_recordings):
    trades = _ingest_and_drain(settings, catalog, binance_recordings[0])
    # Before any bench ran: throughputs are defaults, said so; bytes per trade are already measured.
    first = _materialize(settings)
    assert first["unmeasured_inputs"] == ["ingest_trades_per_core_s", "drain_trades_per_core_s"]
    assert "UNMEASURED (no `k2 bench ingest` result in" in first["inputs"] and "Unmeasured inputs (defaults used)" in first["differences"]

    _bench(settings, "ingest", "--loops", "1", "--skip-end-to-end")
    _bench(settings, "drain", "--trades", "5000")
    meta = _materialize(settings)
    assert meta["unmeasured_inputs"] == [] and "`k2 bench ingest` of " in meta["inputs"] and "`k2 bench drain` of " in meta["inputs"]
    # Gold's bytes per trade: its Parquet files on disk over their rows, independently of Iceberg's metadata.
    gold = load(catalog, settings.catalog.namespace, "gold_trades")
    files = [t.file.file_path.removeprefix("file://") for t in gold.scan().plan_files()]
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    assert rows == trades
    per_trade = (Decimal(sum(os.path.getsize(f) for f in files)) / rows).quantize(Decimal("0.01"))
    assert f"| gold_bytes_per_trade | {per_trade:,} | bytes per trade | yes |" in meta["inputs"]
    for rate, earlier in ((10_000, "$617"), (1_000_000, "$22,060"), (10_000_000, "$165,600")):
        assert f"| {rate:,} |" in meta["costs"] and earlier in meta["costs"] and meta[f"monthly_usd_{rate}"] > 0
    ingest = json.loads((settings.state_dir / "bench" / "ingest.json").read_text())["results"]["trades_per_cpu_s"]
    assert f"| ingest_trades_per_core_s | {ingest:,} | trades per CPU-second | yes |" in meta["inputs"]
    png = Path(meta["chart_path"]).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and base64.b64encode(png).decode() in meta["chart"]
