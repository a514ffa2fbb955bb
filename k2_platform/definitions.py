"""The one Dagster Definitions object of K2."""
from __future__ import annotations

from dagster import AssetKey, Definitions, define_asset_job

from .assets.bronze import bronze_trades
from .assets.feed_gaps import feed_gaps
from .assets.gold import gold_trades
from .assets.kafka_sources import kafka_topic_specs
from .assets.ohlcv import ohlcv_assets
from .assets.refine import refine_bronze
from .resources import resources_from_settings
from .sensors.alerts import alert_sensor
from .sensors.bars import bars_definitions
from .sensors.drain import drain_sensors
from .settings import Settings, load_settings

MEDALLION = [bronze_trades, refine_bronze, gold_trades, feed_gaps]


def medallion_jobs() -> dict:
    return {
        "bronze": define_asset_job("drain_bronze", selection=["bronze_trades"]),
        "refine": define_asset_job("refine_silver", selection=["silver_trades_binance", "silver_trades_kraken", "trades_dlq"]),
        "gold": define_asset_job("build_gold", selection=["gold_trades"]),
        "feed_gaps": define_asset_job("drain_feed_gaps", selection=["feed_gaps"]),
    }


def build_definitions(settings: Settings, pinned: bool = False) -> Definitions:
    """pinned: resources carry this exact Settings (tests, drills) instead of reading env/TOML."""
    jobs = medallion_jobs()
    check_keys = [key for asset in MEDALLION for key in asset.check_keys]
    asset_keys = [AssetKey(name) for name in ("bronze_trades", "silver_trades_binance", "silver_trades_kraken", "gold_trades")]
    bar_jobs, bar_sensors = bars_definitions(settings)
    return Definitions(
        assets=[*kafka_topic_specs(settings), *MEDALLION, *ohlcv_assets(settings)],
        jobs=list(jobs.values()) + bar_jobs,
        sensors=[*drain_sensors(jobs), alert_sensor(check_keys, asset_keys), *bar_sensors],
        resources=resources_from_settings(settings, pinned=pinned),
    )


defs = build_definitions(load_settings())
