"""`k2 bench drain`: preload N trades into Kafka, then time Kafka -> bronze and bronze -> silver/DLQ -> gold."""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from multiprocessing import get_context
from pathlib import Path

from confluent_kafka import Producer

from ...ingest.normalize import json_text
from ...lakehouse import backlog
from ...lakehouse.bronze import drain_to_bronze
from ...lakehouse.catalog import open_catalog
from ...lakehouse.gold import build_gold
from ...lakehouse.refine import refine
from ...lakehouse.tables import ensure_all_tables
from ...schemas.trade import Trade, message_id
from ...schemas.trade_encoder import encoder_from_settings
from ..kafka_broker import KafkaBroker, ensure_topics

NAME = "drain"
HELP = "preload trades into Kafka, then time Kafka->bronze and bronze->gold (exactly-once commits)"
RECORDINGS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance"
VENDOR_FIELDS = ("e", "m", "M")  # what the Binance normalizer keeps in vendor_data


def add_arguments(parser) -> None:
    parser.add_argument("--trades", type=int, default=1_000_000, help="trades to preload (default 1,000,000)")


def _templates(limit: int = 20_000) -> list[dict]:
    """Encoded-trade templates drawn from the shared Binance recordings (prices, sizes, sides)."""
    out = []
    for path in sorted(RECORDINGS.glob("*.txt.gz")):
        with gzip.open(path, "rt") as fh:
            for line in fh:
                data = json.loads(line.split(" ", 1)[1])["data"]
                out.append(data)
                if len(out) >= limit:
                    return out
    return out


def _preload(settings, n: int) -> None:
    """Produce n trades shaped like the ingest service's (vendor_data as Binance frames leave it).

    Runs in a child process: the producer's queue is not part of the drain worker's memory.
    """
    samples = _templates()
    encoded = []
    for i, d in enumerate(samples[: min(len(samples), n)]):
        t = Trade(
            exchange="binance",
            symbol="BTCUSDT",
            exchange_symbol="BTCUSDT",
            base="BTC",
            quote="USDT",
            trade_id=str(d["t"]),
            price=Decimal(d["p"]),
            quantity=Decimal(d["q"]),
            side="SELL" if d["m"] else "BUY",
            trade_time=d["T"] * 1000,
            ingest_time=d["T"] * 1000 + 500,
            sequence=i,
            event_time=d["E"] * 1000,
            vendor_data={k: json_text(v) for k, v in d.items() if k in VENDOR_FIELDS},
        )
        encoded.append(t.to_avro())
    p = Producer(
        {
            "bootstrap.servers": settings.kafka.bootstrap,
            "linger.ms": 50,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 1_000_000,
            "compression.type": "lz4",
        }
    )
    topic = settings.topics.trades("binance")
    encoder = encoder_from_settings(settings, topic)
    for i in range(n):
        rec = dict(encoded[i % len(encoded)])
        if i >= len(encoded):  # distinct trades beyond the recording: new ids, same distributions
            rec["trade_id"] = str(10**12 + i)
            rec["message_id"] = message_id("binance", "BTCUSDT", rec["trade_id"])
        p.produce(topic, encoder.encode(rec), key=b"BTCUSDT%d" % (i % 3))
        if i % 10_000 == 0:
            p.poll(0)
    p.flush(120)


def _preload_elsewhere(settings, n: int) -> float:
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        pool.submit(_preload, settings, n).result()
    return time.perf_counter() - started


def _drain(settings, catalog, find, run) -> tuple[int, int, float]:
    """Runs until the step has no backlog: (rows committed, runs, seconds)."""
    rows, runs, started = 0, 0, time.perf_counter()
    while rng := find(settings, catalog):
        outcome = run(settings, catalog, rng)
        outcomes = outcome.values() if isinstance(outcome, dict) else [outcome]
        rows += sum(o.rows for o in outcomes if o.committed)
        runs += 1
    return rows, runs, time.perf_counter() - started


def run(args, settings) -> dict:
    work = Path(tempfile.mkdtemp(prefix="k2-bench-drain-"))
    broker = KafkaBroker(settings)
    started_broker = None
    if not broker.answers(timeout_s=2.0):
        from ..processes import free_port

        settings = settings.model_copy(update={"kafka": settings.kafka.model_copy(update={"port": free_port(), "controller_port": free_port()})})
        settings = settings.model_copy(update={"state_dir": work})
        started_broker = KafkaBroker(settings)
        started_broker.start(progress=lambda _m: None)
    prefix = f"bench{int(time.time())}"
    topics = settings.topics.model_copy(update={"trades_prefix": f"{prefix}.trades", "dlq": f"{prefix}.dlq", "feed_gaps": f"{prefix}.gaps"})
    settings = settings.model_copy(update={"state_dir": work, "topics": topics})
    try:
        ensure_topics(settings)
        preload_s = _preload_elsewhere(settings, args.trades)
        catalog = open_catalog(settings)
        ensure_all_tables(catalog, settings.catalog.namespace)
        bronze_rows, bronze_commits, bronze_s = _drain(settings, catalog, backlog.bronze_backlog, drain_to_bronze)
        refine_rows, refine_runs, refine_s = _drain(settings, catalog, backlog.refine_backlog, refine)
        gold_rows, gold_commits, gold_s = _drain(settings, catalog, backlog.gold_backlog, build_gold)
    finally:
        if started_broker:
            started_broker.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "trades": args.trades,
        "preload_s": round(preload_s, 2),
        "bronze_rows": bronze_rows,
        "bronze_s": round(bronze_s, 2),
        "bronze_msgs_per_s": round(bronze_rows / bronze_s),
        "silver_dlq_rows": refine_rows,
        "refine_s": round(refine_s, 2),
        "refine_runs": refine_runs,
        "gold_rows": gold_rows,
        "gold_s": round(gold_s, 2),
        "bronze_to_gold_s": round(refine_s + gold_s, 2),
        "gold_trades_per_s": round(gold_rows / (refine_s + gold_s)),
        "rows_per_commit": round(bronze_rows / max(bronze_commits, 1)),
        "gold_rows_per_commit": round(gold_rows / max(gold_commits, 1)),
    }
