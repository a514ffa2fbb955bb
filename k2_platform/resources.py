"""Dagster resources: thin handles on the settings-configured Kafka broker and Iceberg catalog."""
from __future__ import annotations

from dagster import ConfigurableResource
from pyiceberg.catalog import Catalog

from .lakehouse.catalog import open_catalog
from .settings import Settings, load_settings


class K2SettingsResource(ConfigurableResource):
    """Where K2's settings come from: a TOML file (optional) plus K2_* environment variables.

    Assets and sensors receive this resource and hand its `settings` to the lakehouse layer, so
    code outside Dagster (notebooks, the API, the CLI) configures itself the very same way.
    """

    config_file: str | None = None

    @property
    def settings(self) -> Settings:
        if self.config_file:
            import os

            os.environ["K2_CONFIG"] = self.config_file
        return load_settings()


class KafkaResource(ConfigurableResource):
    bootstrap_servers: str

    def consumer_config(self, **overrides) -> dict:
        return {"bootstrap.servers": self.bootstrap_servers, "enable.auto.commit": False, **overrides}


class IcebergCatalogResource(ConfigurableResource):
    k2: K2SettingsResource

    def catalog(self) -> Catalog:
        return open_catalog(self.k2.settings)


def resources_from_settings(settings: Settings) -> dict:
    k2 = K2SettingsResource()
    return {
        "k2": k2,
        "kafka": KafkaResource(bootstrap_servers=settings.kafka.bootstrap),
        "iceberg": IcebergCatalogResource(k2=k2),
    }
