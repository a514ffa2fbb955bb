"""Dagster resources: the settings-configured K2 environment (Kafka addresses, catalog, topics)."""
from __future__ import annotations

from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource
from pyiceberg.catalog import Catalog

from .lakehouse.catalog import open_catalog
from .settings import Settings, load_settings


class K2SettingsResource(ConfigurableResource):
    """Where K2's settings come from: K2_* environment variables plus an optional TOML file (K2_CONFIG).

    Assets and sensors receive this resource and hand its `settings` to the lakehouse layer, which
    reaches Kafka and the catalog from them, so code outside Dagster (notebooks, the API, the CLI)
    configures itself the very same way. settings_json pins a complete Settings object instead
    (an isolated test or a drill).
    """

    settings_json: str | None = None

    @property
    def settings(self) -> Settings:
        if self.settings_json:
            return Settings.model_validate_json(self.settings_json)
        return load_settings()

    def catalog(self) -> Catalog:
        return open_catalog(self.settings)


def resources_from_settings(settings: Settings, pinned: bool = False) -> dict:
    return {"k2": K2SettingsResource(settings_json=settings.model_dump_json() if pinned else None),
            # In-memory: the bar assets read gold's Parquet files and keep nothing in DuckDB between runs.
            "duckdb": DuckDBResource(database=":memory:")}
