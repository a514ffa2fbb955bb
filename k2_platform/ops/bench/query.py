"""`k2 bench query`: latency of the query layer on a large gold table (built once, cached in the state dir).

Measures p50/p99 of: the last 1,000 trades of a symbol (engine, gold only), one day of 1-minute bars,
the 24h summary of all symbols, and /v1/trades/recent?limit=1000 (hybrid: gold + Kafka tail) over
HTTP on loopback under concurrent requests to `k2 api` in its own process, against a broker the bench
starts on free ports.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from ...lakehouse.catalog import open_catalog
from ...query.service import QueryService
from ...query.synthetic import DAY_US, SYMBOLS, build_gold, built_rows
from ...query.trades import GOLD, TradeFilter, last_trades
from ...settings import KafkaSettings
from ..errors import StackError
from ..kafka_broker import KafkaBroker, ensure_topics
from ..memory import peak_rss_mb
from ..processes import free_port, log_tail, spawn, stop_pid

NAME = "query"
HELP = "query latency (last 1,000 trades, a day of 1m bars, 24h summary, HTTP API) on a large gold table"
RECORDINGS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance"
END_DAY_US = 1_723_248_000_000_000  # 2024-08-10T00:00Z: the day after the shared recording


def add_arguments(parser) -> None:
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows in the gold table (default: 10,000,000)")
    parser.add_argument("--days", type=int, default=7, help="days the trades span (default: 7)")
    parser.add_argument("--iterations", type=int, default=200, help="timed runs per in-process query (default: 200)")
    parser.add_argument("--api-requests", type=int, default=400, help="HTTP requests in the API run (default: 400)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent HTTP clients (default: 8)")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes of the API server (default: 1)")


def _percentiles(samples_s: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in samples_s)
    return round(statistics.median(ms), 2), round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2)


def _timed(fn, iterations: int) -> list[float]:
    samples = []
    for i in range(iterations):
        started = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - started)
    return samples


def _serve(bench, port: int, workers: int):
    """`k2 api` in its own process, as deployed: the clients' work does not share its interpreter."""
    env = {
        **os.environ,
        "K2_STATE_DIR": str(bench.state_dir),
        "K2_KAFKA__PORT": str(bench.kafka.port),
        "K2_KAFKA__CONTROLLER_PORT": str(bench.kafka.controller_port),
    }
    logs = bench.state_dir / "bench-api"
    logs.mkdir(parents=True, exist_ok=True)
    proc = spawn(
        [sys.executable, "-m", "k2_platform.ops.cli", "api", "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        logs / "api.log",
        logs / "api.pid",
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/symbols", timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_pid(proc.pid)
            raise StackError(f"benchmark API server did not start: {log_tail(logs / 'api.log')}")
        time.sleep(0.2)


def _api_run(port: int, requests: int, concurrency: int) -> list[float]:
    symbols = list(SYMBOLS)

    def one(i: int, client: httpx.Client, full_check: bool) -> float:
        started = time.perf_counter()
        response = client.get("/v1/trades/recent", params={"symbol": symbols[i % len(symbols)], "limit": 1000})
        elapsed = time.perf_counter() - started
        # Timed requests count rows without parsing 400 kB of JSON in the measuring process.
        rows = len(response.json()["data"]) if full_check and response.status_code == 200 else response.content.count(b'"message_id":')
        if response.status_code != 200 or rows != 1000:
            raise StackError(f"API answered {response.status_code}: {response.text[:200]}")
        return elapsed

    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        return local.client

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda i: one(i, client(), True), range(concurrency * 4)))  # warm connections, windows, the tail reader
        return list(pool.map(lambda i: one(i, client(), False), range(requests)))


def run(args, settings) -> dict:
    state = settings.state_dir / "bench" / "query" / f"rows-{args.rows}-days-{args.days}"
    bench = settings.model_copy(update={"state_dir": state, "kafka": KafkaSettings(port=free_port(), controller_port=free_port())})
    catalog = open_catalog(bench)
    namespace = bench.catalog.namespace
    build_s = 0.0
    if built_rows(catalog, namespace) != args.rows:
        started = time.perf_counter()
        build_gold(catalog, namespace, sorted(RECORDINGS.glob("*.txt.gz")), args.rows, args.days, END_DAY_US)
        build_s = round(time.perf_counter() - started, 1)
    broker = KafkaBroker(bench)
    broker.start(progress=lambda _m: None)
    try:
        ensure_topics(bench)
        return _measure(args, bench, catalog, build_s)
    finally:
        broker.stop()


def _measure(args, bench, catalog, build_s: float) -> dict:
    service = QueryService(bench, catalog)
    engine, symbols, rng = service.engine, list(SYMBOLS), random.Random(7)
    results: dict = {"rows": args.rows, "days": args.days, "build_s": build_s}
    gold = engine.pin(GOLD)
    results["gold_files"] = len(engine.plan(gold).files)
    started = time.perf_counter()
    last_trades(engine, gold, TradeFilter("BTCUSDT"), 1000)
    results["last_trades_cold_ms"] = round((time.perf_counter() - started) * 1000, 2)  # includes planning
    for s in symbols:
        last_trades(engine, engine.pin(GOLD), TradeFilter(s), 1000)
    samples = _timed(lambda i: last_trades(engine, engine.pin(GOLD), TradeFilter(symbols[i % 5]), 1000), args.iterations)
    results["last_trades_p50_ms"], results["last_trades_p99_ms"] = _percentiles(samples)
    samples = _timed(lambda i: service.recent(TradeFilter(symbols[i % 5]), 1000), args.iterations)
    results["hybrid_last_trades_p50_ms"], results["hybrid_last_trades_p99_ms"] = _percentiles(samples)

    def day_of_bars(i: int) -> None:
        day_start = END_DAY_US - (1 + rng.randrange(args.days)) * DAY_US
        if not 0 < service.ohlcv(symbols[i % 5], "1m", day_start, day_start + DAY_US, 1440).num_rows <= 1440:
            raise StackError("a day of 1m bars came back empty")

    day_of_bars(0)
    results["ohlcv_day_p50_ms"], results["ohlcv_day_p99_ms"] = _percentiles(_timed(day_of_bars, args.iterations))
    summary_runs = max(10, args.iterations // 10)
    started = time.perf_counter()
    service.summary(END_DAY_US)
    results["summary_24h_cold_ms"] = round((time.perf_counter() - started) * 1000, 2)  # statistics of whole files
    samples = _timed(lambda i: service.summary(END_DAY_US - i * 60_000_000), summary_runs)
    results["summary_24h_p50_ms"], results["summary_24h_p99_ms"] = _percentiles(samples)
    results["plan_cache_hits"], results["plan_cache_misses"] = engine.plans.hits, engine.plans.misses
    service.close()
    port = free_port()
    server = _serve(bench, port, args.api_workers)
    try:
        api = _api_run(port, args.api_requests, args.concurrency)
        results["api_server_peak_rss_mb"] = peak_rss_mb(server.pid)
    finally:
        stop_pid(server.pid)
    results["api_requests"], results["api_concurrency"], results["api_workers"] = len(api), args.concurrency, args.api_workers
    results["api_p50_ms"], results["api_p99_ms"] = _percentiles(api)
    return results
