"""Health of what queries depend on: the broker, the catalog, and how fresh gold is; and K2's degradation level."""

from __future__ import annotations

import time

from ..lakehouse import degradation_state
from ..lakehouse.kafka_reader import watermarks
from ..settings import EXCHANGES
from .service import QueryService
from .trades import GOLD


def _broker(service: QueryService, gold_offsets: dict[str, dict[int, int]] | None) -> dict:
    try:
        topics = [service.settings.topics.trades(e) for e in EXCHANGES]
        ends = watermarks(service.settings, topics, timeout_s=service.settings.query.broker_timeout_s)
    except Exception as exc:  # any failure to reach Kafka is the finding, not a crash of /health
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    out: dict = {"ok": True, "partitions": len(ends)}
    if gold_offsets is not None:
        # Records on Kafka not yet in gold: served by the hybrid read from the tail.
        out["gold_lag_records"] = sum(high - max(gold_offsets.get(t, {}).get(p, 0), low) for (t, p), (low, high) in ends.items())
    return out


def _degradation(service: QueryService) -> dict:
    try:
        return degradation_state.summary(service.settings, time.time())
    except ValueError as exc:  # an unreadable state file is reported, not a crash of /health
        return {"level": "UNKNOWN", "error": str(exc)}


def health(service: QueryService) -> dict:
    try:
        gold = service.engine.pin(GOLD)
        catalog = {"ok": True}
    except Exception as exc:  # an unreachable catalog is reported, the other checks still run
        gold, catalog = None, {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    freshness: dict = {"ok": False, "stale_after_s": service.settings.query.gold_stale_after_s}
    if gold is not None and gold.committed_at_ms is not None:
        age_s = round(time.time() - gold.committed_at_ms / 1000, 3)
        freshness.update(ok=age_s <= service.settings.query.gold_stale_after_s, last_commit_age_s=age_s, snapshot_id=gold.snapshot_id)
    elif gold is not None:
        freshness["error"] = "gold_trades has no snapshot yet"
    broker = _broker(service, gold.kafka_offsets() if gold is not None else None)
    # The level is reported, not judged: a degraded K2 still serves every trade (ok says whether queries work).
    return {
        "ok": catalog["ok"] and broker["ok"] and freshness["ok"],
        "broker": broker,
        "catalog": catalog,
        "gold_freshness": freshness,
        "degradation": _degradation(service),
    }
