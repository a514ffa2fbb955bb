"""What the bar tests share: gold built from the shared recordings, partition-range runs of the real bar
jobs, the bars sensor's tick, and an independent pandas reference computed from the raw recording."""

from __future__ import annotations

import gzip
import json
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import pandas as pd
from dagster import DagsterInstance, build_sensor_context
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from k2_platform.ingest.recording import load_recordings
from k2_platform.lakehouse.tables import load
from k2_platform.schemas.trade import Trade
from k2_platform.sensors.bars import bar_job_name
from k2_platform_tests.query.gold_fixtures import append_gold

WIDTH_MS = {"1m": 60_000, "1h": 3_600_000, "1d": 86_400_000}
BAR_KEY = ["exchange", "symbol", "open_time"]


def recording_trade(t) -> dict:
    """A recorded Binance trade as gold holds it (m = buyer is maker: the aggressor sold)."""
    return Trade(
        exchange="binance",
        symbol=t.symbol,
        exchange_symbol=t.symbol,
        base="BTC",
        quote="USDT",
        trade_id=str(t.trade_id),
        price=Decimal(t.price),
        quantity=Decimal(t.quantity),
        side="SELL" if t.buyer_is_maker else "BUY",
        trade_time=t.trade_ms * 1000,
        ingest_time=t.trade_ms * 1000 + 1000,
        sequence=t.trade_id,
        event_time=t.event_ms * 1000,
    ).to_avro()


def gold_from_recordings(catalog, namespace: str, paths: list[Path]) -> int:
    gold = load(catalog, namespace, "gold_trades")
    records = [recording_trade(t) for trades in load_recordings(paths).values() for t in trades]
    append_gold(gold, records, {})
    return len(records)


def run_range(defs, instance: DagsterInstance, interval: str, first: str, last: str | None = None, tags: dict | None = None):
    """One run of build_ohlcv_<interval> over partitions [first, last], as a backfill or the sensor launches it."""
    job = defs.resolve_job_def(bar_job_name(interval))
    range_tags = {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last or first}
    return job.execute_in_process(instance=instance, tags={**range_tags, **(tags or {})})


def tick(defs, instance: DagsterInstance, cursor: str | None):
    sensor = defs.get_sensor_def("bars_follow_gold")
    with build_sensor_context(instance=instance, resources=defs.resources, sensor_name=sensor.name, cursor=cursor) as context:
        return sensor.evaluate_tick(context)


def run_requests(defs, instance: DagsterInstance, result) -> list:
    runs = []
    for request in result.run_requests or []:
        job = defs.resolve_job_def(request.job_name)
        runs.append(job.execute_in_process(instance=instance, tags=request.tags))
    return runs


def bars_frame(catalog, namespace: str, interval: str) -> pd.DataFrame:
    rows = load(catalog, namespace, f"ohlcv_{interval}").scan().to_arrow().to_pylist()
    frame = pd.DataFrame(rows, columns=[f.name for f in load(catalog, namespace, f"ohlcv_{interval}").schema().fields])
    if frame.empty:
        return frame
    for column in ("open_time", "close_time"):
        frame[column] = [int(t.timestamp()) * 1_000_000 + t.microsecond for t in frame[column]]
    return frame.sort_values(BAR_KEY, ignore_index=True)


def _raw_trades(paths: list[Path]) -> pd.DataFrame:
    rows = []
    for path in paths:
        with gzip.open(path, "rt") as lines:
            rows += [json.loads(line.split(" ", 1)[1])["data"] for line in lines if line.strip()]
    raw = pd.DataFrame(rows).drop_duplicates("t")
    raw["price"] = raw["p"].map(Decimal)
    raw["qty"] = raw["q"].map(Decimal)
    return raw


def reference_bars(paths: list[Path], interval: str) -> pd.DataFrame:
    """Klines computed straight from the raw frames with pandas and Decimal: first/last by (T, t)."""
    raw = _raw_trades(paths).sort_values(["T", "t"], ignore_index=True)
    raw["open_time"] = raw["T"] // WIDTH_MS[interval] * WIDTH_MS[interval]
    raw["quote"] = raw["price"] * raw["qty"]
    raw["buy_qty"] = [q if not m else Decimal(0) for q, m in zip(raw["qty"], raw["m"])]
    raw["buy_quote"] = [v if not m else Decimal(0) for v, m in zip(raw["quote"], raw["m"])]
    grouped = raw.groupby("open_time", sort=True)
    out = pd.DataFrame(
        {
            "open": grouped["price"].first(),
            "high": grouped["price"].max(),
            "low": grouped["price"].min(),
            "close": grouped["price"].last(),
            "volume": grouped["qty"].sum(),
            "quote_volume": grouped["quote"].sum(),
            "trade_count": grouped.size(),
            "taker_buy_base_volume": grouped["buy_qty"].sum(),
            "taker_buy_quote_volume": grouped["buy_quote"].sum(),
        }
    ).reset_index()
    with localcontext() as ctx:
        ctx.prec = 80
        out["vwap"] = [(q / v).quantize(Decimal("1e-18"), rounding=ROUND_HALF_EVEN) for q, v in zip(out["quote_volume"], out["volume"])]
    out["open_time"] = out["open_time"] * 1000
    out["close_time"] = out["open_time"] + WIDTH_MS[interval] * 1000 - 1
    out.insert(0, "symbol", "BTCUSDT")
    out.insert(0, "exchange", "binance")
    return out
