"""The one configuration object of K2.

Values come, highest precedence first, from: keyword arguments, environment variables
(`K2_` prefix, nested with `__`, e.g. `K2_KAFKA__PORT=9192`), a TOML file (`K2_CONFIG`, else
`k2.toml` in the working directory if present), then the defaults below, which work on a fresh
machine with no configuration.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

EXCHANGES = ("binance", "kraken")


class KafkaSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 9092
    controller_port: int = 9093
    partitions: int = Field(3, ge=1)
    version: str = "4.1.1"
    heap_mb: int = Field(512, ge=128)
    start_timeout_s: float = 90.0
    # A user running their own cluster points here and K2 starts no broker.
    external_bootstrap: str | None = None

    @property
    def bootstrap(self) -> str:
        return self.external_bootstrap or f"{self.host}:{self.port}"


class TopicSettings(BaseModel):
    trades_prefix: str = "market.crypto.trades"
    dlq: str = "market.crypto.trades.dlq"
    feed_gaps: str = "market.crypto.feed_gaps"

    def trades(self, exchange: str) -> str:
        return f"{self.trades_prefix}.{exchange}"

    def all(self) -> list[str]:
        return [self.trades(e) for e in EXCHANGES] + [self.dlq, self.feed_gaps]


class CatalogSettings(BaseModel):
    profile: Literal["sql", "s3"] = "sql"
    name: str = "k2"
    namespace: str = "market"
    # sql profile; empty means "inside the state directory"
    sql_uri: str = ""
    warehouse: str = ""
    # s3 profile: SeaweedFS serves both the S3 API and the Iceberg REST catalog
    host: str = "127.0.0.1"
    s3_port: int = 8333
    rest_port: int = 8181
    master_port: int = 9333
    volume_port: int = 8080
    filer_port: int = 8888
    bucket: str = "k2-warehouse"
    access_key: str = "k2admin"
    secret_key: str = "k2secret"
    region: str = "us-east-1"

    @property
    def s3_endpoint(self) -> str:
        return f"http://{self.host}:{self.s3_port}"

    @property
    def rest_uri(self) -> str:
        return f"http://{self.host}:{self.rest_port}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="K2_", env_nested_delimiter="__", extra="forbid")

    state_dir: Path = Path.home() / ".k2"
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    catalog: CatalogSettings = CatalogSettings()
    # With a registry, records use the Confluent wire format; without, Avro single-object encoding.
    schema_registry_url: str | None = None
    # A trade time further ahead of our clock than this is rejected as clock-skewed.
    max_future_skew_s: float = 5.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get("K2_CONFIG")
        if config_file and not Path(config_file).is_file():
            raise FileNotFoundError(f"K2_CONFIG points to {config_file}, which does not exist")
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file or "k2.toml")
        return init_settings, env_settings, toml

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def kafka_jars_dir(self) -> Path:
        # Jars are shared between state directories: fetching them once per machine is enough.
        return Path(os.environ.get("K2_JARS_DIR", Path.home() / ".cache" / "k2" / "kafka-jars")) / self.kafka.version

    @property
    def catalog_sql_uri(self) -> str:
        return self.catalog.sql_uri or f"sqlite:///{self.state_dir / 'catalog.db'}"

    @property
    def warehouse_path(self) -> Path:
        return Path(self.catalog.warehouse) if self.catalog.warehouse else self.state_dir / "warehouse"

    @property
    def catalog_uri(self) -> str:
        return self.catalog.rest_uri if self.catalog.profile == "s3" else self.catalog_sql_uri

    @property
    def dagster_home(self) -> Path:
        return self.state_dir / "dagster"


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
