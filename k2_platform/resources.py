"""Dagster resources: thin handles on the settings-configured Kafka broker and Iceberg catalog."""
from __future__ import annotations

import os

from dagster import ConfigurableResource
from pyiceberg.catalog import Catalog

from .lakehouse.catalog import open_catalog
from .settings import Settings, load_settings


class K2SettingsResource(ConfigurableResource):
    """Where K2's settings come from: a TOML file (optional) plus K2_* environment variables.

    Assets and sensors receive this resource and hand its `settings` to the lakehouse layer, so
    code outside Dagster (notebooks, the API, the CLI) configures itself the very same way.
    settings_json pins a complete Settings object instead (an isolated test or a drill).
    """

    config_file: str | None = None
    settings_json: str | None = None

    @property
    def settings(self) -> Settings:
        if self.settings_json:
            return Settings.model_validate_json(self.settings_json)
        if self.config_file:
            os.environ["K2_CONFIG"] = self.config_file
        return load_settings()

    def catalog(self) -> Catalog:
        return open_catalog(self.settings)


class KafkaResource(ConfigurableResource):
    bootstrap_servers: str

    def consumer_config(self, **overrides) -> dict:
        return {"bootstrap.servers": self.bootstrap_servers, "enable.auto.commit": False, **overrides}


class IcebergCatalogResource(ConfigurableResource):
    k2: K2SettingsResource

    def catalog(self) -> Catalog:
        return open_catalog(self.k2.settings)


def resources_from_settings(settings: Settings, pinned: bool = False) -> dict:
    k2 = K2SettingsResource(settings_json=settings.model_dump_json() if pinned else None)
    return {
        "k2": k2,
        "kafka": KafkaResource(bootstrap_servers=settings.kafka.bootstrap),
        "iceberg": IcebergCatalogResource(k2=k2),
    }
