"""Shared fixtures: one real Kafka broker per test session, isolated topics and catalogs per test."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.tables import ensure_all_tables
from k2_platform.ops.kafka_broker import KafkaBroker, ensure_topics
from k2_platform.ops.processes import free_port
from k2_platform.settings import KafkaSettings, Settings, TopicSettings

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BINANCE_RECORDINGS = sorted((SHARED_DATA / "binance").glob("*.txt.gz"))


@pytest.fixture(scope="session")
def kafka_settings(tmp_path_factory) -> Settings:
    """Settings of a real broker started for this test session on free loopback ports."""
    state = tmp_path_factory.mktemp("k2-kafka-state")
    settings = Settings(state_dir=state, kafka=KafkaSettings(port=free_port(), controller_port=free_port()))
    broker = KafkaBroker(settings)
    broker.start(progress=lambda _msg: None)
    yield settings
    broker.stop()


@pytest.fixture
def settings(kafka_settings, tmp_path) -> Settings:
    """Per-test settings: the session broker, topics no other test uses, an empty SQL catalog."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    topics = TopicSettings(
        trades_prefix=f"{prefix}.market.crypto.trades",
        dlq=f"{prefix}.market.crypto.trades.dlq",
        feed_gaps=f"{prefix}.market.crypto.feed_gaps",
    )
    per_test = kafka_settings.model_copy(update={"state_dir": tmp_path / "state", "topics": topics})
    ensure_topics(per_test)
    return per_test


@pytest.fixture
def catalog(settings):
    cat = open_catalog(settings)
    ensure_all_tables(cat, settings.catalog.namespace)
    return cat


@pytest.fixture(scope="session")
def binance_recordings() -> list[Path]:
    assert BINANCE_RECORDINGS, f"shared recordings missing under {SHARED_DATA}"
    return BINANCE_RECORDINGS
