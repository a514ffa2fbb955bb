"""Dagster resources: the K2 settings a code location was built from, and the catalog they name."""

from __future__ import annotations

import functools

from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource
from pyiceberg.catalog import Catalog

from .lakehouse.catalog import open_catalog
from .settings import Settings


class K2SettingsResource(ConfigurableResource):
    """The one Settings object of this code location, handed over once by build_definitions.

    Assets and sensors receive this resource and hand its `settings` to the lakehouse layer, which
    reaches Kafka and the catalog from them, so code outside Dagster (notebooks, the API, the CLI)
    configures itself the very same way. It holds the settings serialized (Dagster resources are
    config, shown in the UI) and parses them once per process, not on every access.
    """

    settings_json: str

    @classmethod
    def of(cls, settings: Settings) -> K2SettingsResource:
        return cls(settings_json=settings.model_dump_json())

    @property
    def settings(self) -> Settings:
        return _parsed(self.settings_json)

    def catalog(self) -> Catalog:
        return open_catalog(self.settings)


@functools.lru_cache(maxsize=8)
def _parsed(settings_json: str) -> Settings:
    return Settings.model_validate_json(settings_json)


def k2_resources(settings: Settings) -> dict:
    """Every resource of the code location: K2's settings, and DuckDB for the bar assets (in memory: they read
    gold's Parquet files and keep nothing in DuckDB between runs)."""
    return {"k2": K2SettingsResource.of(settings), "duckdb": DuckDBResource(database=":memory:")}
