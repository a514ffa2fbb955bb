"""The Kafka topics the medallion drains, as external assets (lineage roots; Dagster never writes them)."""

from __future__ import annotations

from dagster import AssetKey, AssetSpec, Definitions

from ..settings import EXCHANGES, Settings

OWNERS = ["team:data-platform"]


def topic_key(name: str) -> AssetKey:
    return AssetKey(["kafka", name])


TRADE_TOPIC_KEYS = {e: topic_key(f"trades_{e}") for e in EXCHANGES}
DLQ_TOPIC_KEY = topic_key("trades_dlq")
FEED_GAPS_TOPIC_KEY = topic_key("feed_gaps")


def kafka_topic_specs(settings: Settings) -> list[AssetSpec]:
    topics = {
        **{k: (settings.topics.trades(e), f"Avro trades from the {e} feed") for e, k in TRADE_TOPIC_KEYS.items()},
        DLQ_TOPIC_KEY: (settings.topics.dlq, "frames the ingest service rejected (raw frame + k2-reason header)"),
        FEED_GAPS_TOPIC_KEY: (settings.topics.feed_gaps, "trade-id gaps detected by the feeds (JSON)"),
    }
    return [
        AssetSpec(
            key,
            description=f"Kafka topic `{topic}`: {what}. Written by `k2 ingest`.",
            group_name="kafka",
            kinds={"kafka"},
            owners=OWNERS,
            metadata={"topic": topic},
        )
        for key, (topic, what) in topics.items()
    ]


def kafka_topics(settings: Settings) -> Definitions:
    return Definitions(assets=kafka_topic_specs(settings))
