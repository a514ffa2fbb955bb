"""`k2 bench ingest`: recorded trades at full speed through parse, normalize, Avro encode and produce.

Two measurements against a real broker (one is started in a temporary state directory when the
configured one does not answer):
- pipeline: frames already in memory -> the service's own pipeline (parse -> normalize -> dedup ->
  encode -> produce, acks=all, every delivery checked) -> flush. This is the ingest process's own
  cost per trade, without the WebSocket.
- end_to_end: the same through WebSocket from `k2 replay-server --speed max` in a child process
  (so the exchange side does not share this process's CPU), until every trade is acknowledged.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from ...ingest.recording import Timeline, load_recordings
from ...ingest.service import IngestService, replay_feeds
from ...settings import KafkaSettings, Settings, TopicSettings
from ..kafka_broker import KafkaBroker, ensure_topics
from ..processes import free_port, stop_pid

NAME = "ingest"
HELP = "replay recorded trades at full speed through parse + normalize + Avro encode + Kafka produce"
DEFAULT_RECORDINGS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--recording",
        action="append",
        type=Path,
        metavar="PATH",
        help=f"recording (.txt.gz); repeat for several (default: every file in {DEFAULT_RECORDINGS})",
    )
    parser.add_argument("--loops", type=int, default=10, help="replay the recording this many times (default 10: ~200k trades)")
    parser.add_argument("--skip-end-to-end", action="store_true", help="measure only the in-process pipeline")


def run(args, settings: Settings) -> dict:
    recordings = args.recording or sorted(DEFAULT_RECORDINGS.glob("*.txt.gz"))
    if not recordings:
        raise FileNotFoundError(f"no recordings given and none found in {DEFAULT_RECORDINGS}")
    with tempfile.TemporaryDirectory(prefix="k2-bench-ingest-") as tmp:
        settings, broker = _broker(settings, Path(tmp))
        try:
            results = {"trades": 0}
            timelines = {s: Timeline(trades, args.loops) for s, trades in load_recordings(recordings).items()}
            results.update(_pipeline(_fresh_topics(settings), timelines))
            if not args.skip_end_to_end:
                results.update(_end_to_end(_fresh_topics(settings), recordings, args.loops, results["trades"]))
            return results
        finally:
            if broker is not None:
                broker.stop()


def _broker(settings: Settings, tmp: Path) -> tuple[Settings, KafkaBroker | None]:
    if KafkaBroker(settings).answers():
        return settings, None
    settings = settings.model_copy(update={"state_dir": tmp, "kafka": KafkaSettings(port=free_port(), controller_port=free_port())})
    broker = KafkaBroker(settings)
    broker.start(progress=lambda msg: print(msg, file=sys.stderr))
    return settings, broker


def _fresh_topics(settings: Settings) -> Settings:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    topics = TopicSettings(trades_prefix=f"{prefix}.trades", dlq=f"{prefix}.dlq", feed_gaps=f"{prefix}.feed_gaps")
    ingest = settings.ingest.model_copy(update={"metrics_port": 0})
    settings = settings.model_copy(update={"topics": topics, "ingest": ingest})
    ensure_topics(settings)
    return settings


def _pipeline(settings: Settings, timelines: dict[str, Timeline]) -> dict:
    frames = [f'{{"stream":"{s.lower()}@trade","data":{t.binance_data()}}}' for s, tl in timelines.items() for t in tl]
    # The service's own pipeline and venue: only the WebSocket connection is left out.
    service = IngestService(settings, replay_feeds(settings, ["binance"], list(timelines)))

    async def drive() -> None:
        async with service.pipeline() as (pipeline, venues):
            venue = venues["binance"]
            for frame in frames:
                await pipeline.handle(venue, frame, time.time_ns() // 1000)

    started, cpu_started = time.perf_counter(), time.process_time()
    asyncio.run(drive())  # leaving the pipeline flushes the producer: every trade acknowledged
    seconds = time.perf_counter() - started
    # CPU of this process (Python plus librdkafka threads): comparable across busy and idle machines.
    cpu_seconds = time.process_time() - cpu_started
    if service.undelivered or service.delivery_failures or service.delivered != len(frames):
        raise RuntimeError(f"benchmark lost messages: {service.undelivered} undelivered, failures {service.delivery_failures[:3]}")
    return {
        "trades": len(frames),
        "seconds": round(seconds, 3),
        "trades_per_s": round(len(frames) / seconds),
        "cpu_seconds": round(cpu_seconds, 3),
        "trades_per_cpu_s": round(len(frames) / cpu_seconds),
    }


def _end_to_end(settings: Settings, recordings: list[Path], loops: int, expected: int) -> dict:
    port = free_port()
    argv = [sys.executable, "-m", "k2_platform.ops.cli", "replay-server", "--speed", "max", "--loops", str(loops), "--port", str(port)]
    for path in recordings:
        argv += ["--recording", str(path)]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        server.stdout.readline()  # the "replay exchange on ..." line: it listens
        service = IngestService(settings, replay_feeds(settings, ["binance"], ["BTCUSDT"], f"ws://127.0.0.1:{port}"))

        async def drive() -> float:
            """Seconds from the first frame until every trade is acknowledged by the broker."""
            runner = asyncio.create_task(service.run())
            while not service.stats or service.stats["binance"].messages == 0:
                await asyncio.sleep(0.001)
            started = time.perf_counter()
            while service.stats["binance"].trades < expected and not runner.done():
                await asyncio.sleep(0.01)
            service.stop()
            if await runner != 0:
                raise RuntimeError(f"benchmark lost messages: {service.undelivered} undelivered, {service.delivery_failures[:3]}")
            return time.perf_counter() - started

        seconds = asyncio.run(drive())
    finally:
        stop_pid(server.pid, timeout_s=10)
    trades = service.stats["binance"].trades
    return {
        "end_to_end_trades": trades,
        "end_to_end_seconds": round(seconds, 3),
        "end_to_end_trades_per_s": round(trades / seconds),
        "end_to_end_duplicates": service.stats["binance"].duplicates,
    }
