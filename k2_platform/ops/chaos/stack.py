"""The stack a drill runs on: the configured Kafka broker (started as `k2 up` would, if it is not running),
fresh topics so the reconciliation reads only this drill's records, and a work directory for logs."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ...settings import Settings, TopicSettings
from ..kafka_broker import KafkaBroker, ensure_topics


@contextmanager
def drill_stack(settings: Settings, name: str, progress: Callable[[str], None]) -> Iterator[tuple[Settings, Path]]:
    broker = KafkaBroker(settings)
    started = False
    if not broker.answers():
        progress(broker.start(progress=progress))
        started = True
    prefix = f"chaos-{name}-{uuid.uuid4().hex[:8]}"
    topics = TopicSettings(trades_prefix=f"{prefix}.trades", dlq=f"{prefix}.dlq", feed_gaps=f"{prefix}.feed_gaps")
    drill = settings.model_copy(update={"topics": topics})
    ensure_topics(drill)
    try:
        with tempfile.TemporaryDirectory(prefix=f"k2-chaos-{name}-") as work:
            yield drill, Path(work)
    finally:
        if started:
            progress(broker.stop())
