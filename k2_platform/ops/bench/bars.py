"""`k2 bench bars`: one day of 1m bars for 5 symbols built from a large synthetic gold_trades (built once,
cached in the state dir), the way a backfill run builds them (one Dagster run over the day's 24 hourly
partitions of ohlcv_1m), then that day's bars read back through /v1/ohlcv from `k2 api` in its own process.
"""

from __future__ import annotations

import time

import httpx
from dagster import DagsterInstance
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ...lakehouse.catalog import open_catalog
from ...lakehouse.tables import load
from ...query.bar_build import build_bars, time_range
from ...query.engine import QueryEngine
from ...query.rows import iso_us
from ...query.synthetic import DAY_US, SYMBOLS, build_gold, built_rows
from ...query.trades import ts
from ..errors import StackError
from ..processes import free_port, stop_pid
from .query import END_DAY_US, RECORDINGS, _percentiles, _serve

NAME = "bars"
HELP = "one day of 1m bars for 5 symbols from a large gold (a Dagster run over 24 partitions), then /v1/ohlcv latency"


def add_arguments(parser) -> None:
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows in the gold table (default: 10,000,000)")
    parser.add_argument("--days", type=int, default=1, help="days the gold rows span; the last one is built (default: 1)")
    parser.add_argument("--api-requests", type=int, default=200, help="timed /v1/ohlcv requests (default: 200)")


def _day_keys(day_start_us: int) -> tuple[str, str]:
    first, last = iso_us(day_start_us), iso_us(day_start_us + DAY_US - 3_600_000_000)
    return f"{first[:10]}-{first[11:16]}", f"{last[:10]}-{last[11:16]}"


def _api_p99(port: int, day_start_us: int, requests: int, expected: dict[str, int]) -> tuple[float, float]:
    samples = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for i in range(requests + len(SYMBOLS)):  # the first round per symbol warms plans and connections
            symbol = list(SYMBOLS)[i % len(SYMBOLS)]
            started = time.perf_counter()
            response = client.get(
                "/v1/ohlcv",
                params={"symbol": symbol, "interval": "1m", "start": iso_us(day_start_us), "end": iso_us(day_start_us + DAY_US), "limit": 1440},
            )
            elapsed = time.perf_counter() - started
            if response.status_code != 200 or len(response.json()["data"]) != expected[symbol]:
                raise StackError(f"/v1/ohlcv answered {response.status_code}: {response.text[:200]}")
            if i >= len(SYMBOLS):
                samples.append(elapsed)
    return _percentiles(samples)


def run(args, settings) -> dict:
    state = settings.state_dir / "bench" / "bars" / f"rows-{args.rows}-days-{args.days}"
    bench = settings.model_copy(update={"state_dir": state})
    catalog, namespace = open_catalog(bench), bench.catalog.namespace
    if built_rows(catalog, namespace) != args.rows:
        build_gold(catalog, namespace, sorted(RECORDINGS.glob("*.txt.gz")), args.rows, args.days, END_DAY_US, minute_bars=False)
    day_start = END_DAY_US - DAY_US
    engine = QueryEngine(catalog, namespace)
    in_day = engine.query(
        "gold_trades",
        "SELECT count(*) AS n FROM {source} WHERE trade_time >= $start AND trade_time < $end",
        {"start": ts(day_start), "end": ts(day_start + DAY_US)},
        row_filter=time_range("trade_time", day_start, day_start + DAY_US),
    )
    results: dict = {"gold_rows": args.rows, "days": args.days, "day_gold_rows": in_day["n"][0].as_py()}

    # Imported here: every `k2` command loads the bench modules, and only this one needs the Dagster definitions.
    from ...definitions import build_definitions
    from ...sensors.bars import bar_job_name

    first, last = _day_keys(day_start)
    defs = build_definitions(bench)
    started = time.perf_counter()
    run_result = defs.resolve_job_def(bar_job_name("1m")).execute_in_process(
        instance=DagsterInstance.ephemeral(), tags={ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
    )
    results["day_build_s"] = round(time.perf_counter() - started, 2)
    if not run_result.success:
        raise StackError("the ohlcv_1m run over the day failed")
    results["day_build_checks_passed"] = all(e.passed for e in run_result.get_asset_check_evaluations())
    results["day_build_engine_s"] = build_bars(engine, "1m", day_start, day_start + DAY_US).duration_s  # the builder alone, a re-run
    bars = load(catalog, namespace, "ohlcv_1m").scan().to_arrow()
    results["day_bars"] = bars.num_rows
    expected = {s: int(sum(1 for x in bars["symbol"].to_pylist() if x == s)) for s in SYMBOLS}

    port = free_port()
    server = _serve(bench, port, 1)
    try:
        results["ohlcv_api_requests"] = args.api_requests
        results["ohlcv_api_p50_ms"], results["ohlcv_api_p99_ms"] = _api_p99(port, day_start, args.api_requests, expected)
    finally:
        stop_pid(server.pid)
    return results
