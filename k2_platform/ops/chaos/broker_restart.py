"""Drill: the Kafka broker stopped and started again (same state directory) while trades stream in and
drains run. The idempotent producer retries into the restarted broker; drains fail meanwhile with their
reason and catch up after. The drill runs its own broker on free ports: the user's is never stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from ...settings import Settings, TopicSettings
from ..kafka_broker import KafkaBroker, ensure_topics
from ..processes import free_port
from .drain_loop import DrainLoop
from .lake_drill import drain_until_empty, lake_settings, reconcile_gold
from .result import ChaosResult
from .source import SourceProducer

NAME = "broker-restart"
HELP = "stop and restart the Kafka broker mid-stream while producing and draining; reconcile gold against the source"


def add_arguments(parser) -> None:
    parser.add_argument("--trades", type=int, default=200_000, help="trades streamed across the restart (default 200,000)")
    parser.add_argument("--down-s", type=float, default=20.0, help="seconds the broker stays stopped (default 20)")


def scenario(args, drill: Settings, recordings, work: Path, progress: Callable[[str], None]) -> ChaosResult:
    return broker_restart(drill, work, args.trades, args.down_s, progress)


def broker_restart(
    settings: Settings, work: Path, trades: int = 200_000, down_s: float = 20.0, progress: Callable[[str], None] = print, stream_s: float = 10.0
) -> ChaosResult:
    """Streams `trades` over about `stream_s` seconds; the broker stops a third of the way in, for `down_s` seconds."""
    kafka = settings.kafka.model_copy(update={"port": free_port(), "controller_port": free_port(), "external_bootstrap": None})
    own = settings.model_copy(
        update={
            "state_dir": work,
            "kafka": kafka,
            "topics": TopicSettings(trades_prefix="chaos.trades", dlq="chaos.dlq", feed_gaps="chaos.feed_gaps"),
        }
    )
    broker = KafkaBroker(own)
    progress(f"{NAME}: {broker.start(progress=lambda _m: None)}")
    try:
        ensure_topics(own)
        # Drain runs give up on an unreachable broker within seconds, and are retried.
        lake = lake_settings(own, work, kafka_read_timeout_s=10.0)
        with SourceProducer(lake) as producer, DrainLoop(lake, work / "drains") as drains:
            stream = threading.Thread(target=_stream, args=(producer, trades, stream_s), daemon=True)
            stream.start()
            time.sleep(stream_s / 3)
            progress(f"{NAME}: {broker.stop()}, down for {down_s:.0f}s")
            time.sleep(down_s)
            progress(f"{NAME}: {broker.start(progress=lambda _m: None)}")
            back = time.monotonic()
            stream.join()
            producer.producer.flush(300)
        drain_until_empty(lake, work / "drains")
        recovery_s = time.monotonic() - back  # the broker is back -> no backlog left
        return reconcile_gold(
            NAME,
            lake,
            producer.source,
            recovery_s,
            down_s=down_s,
            drain_failures=len(drains.failures),
            failure_reasons=sorted(set(drains.failures))[:5],
            drain_runs_ok=drains.successes,
        )
    finally:
        broker.stop()


def _stream(producer: SourceProducer, trades: int, seconds: float, batches: int = 50) -> None:
    """Produce at a steady pace: `trades` in `batches` equal slices over `seconds`."""
    per = max(1, trades // batches)
    for b in range(0, trades, per):
        producer.produce(range(b, min(trades, b + per)))
        producer.producer.poll(0)
        time.sleep(seconds / batches)
