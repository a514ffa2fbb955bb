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

from pydantic import BaseModel, Field, model_validator
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
    # gRPC ports of the SeaweedFS components, and its admin server (coordinates its maintenance worker)
    master_grpc_port: int = 19333
    volume_grpc_port: int = 18080
    filer_grpc_port: int = 18888
    s3_grpc_port: int = 18333
    admin_port: int = 23646
    admin_grpc_port: int = 33646
    start_timeout_s: float = Field(60.0, gt=0)
    stop_timeout_s: float = Field(30.0, gt=0)
    # The warehouse: an S3 table bucket, which is what SeaweedFS's Iceberg REST catalog serves
    bucket: str = Field("k2-warehouse", pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    access_key: str = "k2admin"
    secret_key: str = "k2secret"
    region: str = "us-east-1"

    @property
    def s3_endpoint(self) -> str:
        return f"http://{self.host}:{self.s3_port}"

    @property
    def rest_uri(self) -> str:
        return f"http://{self.host}:{self.rest_port}"


class QuerySettings(BaseModel):
    """Query engine and REST API (`k2 api`, `k2 query`)."""

    api_host: str = "127.0.0.1"
    api_port: int = 8686
    api_workers: int = Field(1, ge=1)
    default_limit: int = Field(100, ge=1)
    # Hard cap on rows in one response: a client wanting more pages through with the cursor.
    max_limit: int = Field(5000, ge=1)
    max_cli_rows: int = Field(1_000_000, ge=1)
    # A loaded table's metadata is reused this long; the hybrid read stays exact because rows and
    # Kafka offsets always come from the same snapshot, only the Kafka tail grows meanwhile.
    table_refresh_s: float = Field(0.25, ge=0)
    plan_cache_entries: int = Field(512, ge=1)
    tail_timeout_s: float = Field(10.0, gt=0)
    summary_window_h: int = Field(24, ge=1)
    # Newest hours of gold held in memory per snapshot (0: off): "last N trades" becomes a slice.
    recent_window_h: int = Field(2, ge=0)
    # Kafka records the API's background tail reader holds beyond gold's offsets; past it the hybrid read answers 503.
    tail_buffer_records: int = Field(2_000_000, ge=1)
    # The tail reader re-lists the trade topics' partitions this often (a new partition is read from then on).
    tail_metadata_refresh_s: float = Field(5.0, ge=0)
    summary_file_cache_entries: int = Field(4096, ge=1)
    # /health reports gold as stale when its last commit is older than this.
    gold_stale_after_s: float = Field(300.0, gt=0)
    broker_timeout_s: float = Field(2.0, gt=0)


class IngestSettings(BaseModel):
    """Exchange feeds, the local replay exchange and the ingest producer."""

    # Local replay exchange (`k2 replay-server`): both WebSocket protocols and REST on one port.
    replay_host: str = "127.0.0.1"
    replay_port: int = 8765
    replay_ping_interval_s: float = 20.0  # Binance pings every 20 s
    replay_heartbeat_s: float = 1.0  # Kraken heartbeat cadence
    # Real exchanges (`k2 ingest --live`); several WebSocket endpoints are tried in turn (failover).
    binance_ws_urls: list[str] = ["wss://stream.binance.com:9443", "wss://stream.binance.com:443", "wss://data-stream.binance.vision"]
    binance_rest_url: str = "https://api.binance.com"
    kraken_ws_urls: list[str] = ["wss://ws.kraken.com"]
    kraken_rest_url: str = "https://api.kraken.com"
    # Connection health
    stale_timeout_s: float = Field(30.0, gt=0)  # no frame for this long: the connection is dead
    app_ping_interval_s: float = Field(10.0, gt=0)  # Kraken application-level ping; also WebSocket pings
    # A pong queues behind every frame already in flight: a consumer briefly behind must not look dead.
    ping_timeout_s: float = Field(20.0, gt=0)
    close_timeout_s: float = Field(5.0, gt=0)  # closing handshake; a dead peer is aborted after this
    backoff_initial_s: float = Field(0.2, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    # Planned reconnect before the venue's limit (Binance closes connections after 24 h).
    binance_max_connection_age_s: float = 23.5 * 3600
    kraken_max_connection_age_s: float | None = None
    # Bounded memory: frames waiting for normalization, and unrepaired id ranges kept per symbol.
    frame_queue_size: int = Field(10_000, ge=1)
    open_gap_window: int = Field(64, ge=1)
    rest_page_limit: int = Field(1000, ge=1, le=1000)
    rest_timeout_s: float = 10.0
    max_repair_trades: int = Field(100_000, ge=0)  # larger gaps are recorded unrepaired, not fetched
    # Resume after a restart: each symbol's newest trade is read back from the trade topic's tail, at most this
    # many records per partition; a symbol not found within them starts at the live stream (logged as such).
    resume_scan_records: int = Field(200_000, ge=1)
    resume_timeout_s: float = Field(30.0, gt=0)
    # REST catch-up per symbol after a (re)start or reconnect: at most this many trades after the newest one in
    # Kafka; the rest up to the first live trade is recorded in feed_gaps as unrepaired, with its exact id range.
    max_catch_up_trades: int = Field(100_000, ge=0)
    # Producer
    linger_ms: int = 20
    compression: str = "lz4"
    producer_queue_max_messages: int = 100_000
    delivery_timeout_ms: int = 120_000
    flush_timeout_s: float = 60.0
    producer_stats_interval_ms: int = Field(5000, ge=0)  # librdkafka statistics (produce latency metric); 0: off
    # Prometheus exposition of `k2 ingest`; 0 turns it off.
    metrics_port: int = 9464


class LakehouseSettings(BaseModel):
    """Tunables of the Kafka -> Iceberg medallion (drain sensors, run sizes, freshness, alerts)."""

    # How often each drain sensor may tick; a tick only reads offsets, so this can be short.
    drain_interval_s: int = Field(5, ge=1)
    # Upper bound on records one run consumes: bounds a run's memory and time under backlog.
    max_records_per_run: int = Field(500_000, ge=1)
    # Attempts at one compare-and-set commit when unrelated commits keep moving the table head.
    commit_attempts: int = Field(20, ge=1)
    kafka_read_timeout_s: float = 60.0
    # Records taken from the consumer per call while draining: large batches amortize the per-call cost.
    kafka_read_batch: int = Field(20_000, ge=1)
    # Bytes a draining consumer fetches per request (a quarter of it per partition) and keeps prefetched:
    # beyond ~16 MiB throughput does not improve but the worker's memory does grow.
    kafka_fetch_bytes: int = Field(16 << 20, ge=1 << 20)
    # Freshness windows (FreshnessPolicy.time_window; Dagster requires at least 60 s).
    bronze_fresh_s: int = Field(300, ge=60)
    silver_fresh_s: int = Field(600, ge=60)
    gold_fresh_s: int = Field(900, ge=60)
    # A batch whose share of rejected records exceeds this fails the DLQ-rate check.
    max_dlq_rate: float = Field(0.05, ge=0, le=1)
    # Alerts (failed checks, freshness changes) are POSTed here as JSON when set.
    alert_webhook_url: str | None = None
    alert_timeout_s: float = 5.0
    # How often the alert sensors (check/freshness changes, failed runs) may tick.
    alert_interval_s: int = Field(30, ge=1)
    # FAULT-INJECTION HOOK, for crash drills only: a drain run SIGKILLs itself when it reaches
    # this point ("before_write", "after_write", "after_commit"). Unset in normal operation.
    fault_kill_point: str | None = None


class MaintenanceSettings(BaseModel):
    """Scheduled Iceberg table maintenance (`table_maintenance`): compaction, snapshot expiry, orphan-file cleanup."""

    cron: str = "*/30 * * * *"
    # Tables maintained; empty means every K2 table.
    tables: list[str] = []
    # Drains commit every few seconds, one file per partition each time: files below this size are merged.
    small_file_bytes: int = Field(32 << 20, ge=1)
    # A partition is compacted once it holds this many small files (fewer are not worth a rewrite).
    min_files_to_compact: int = Field(4, ge=2)
    # Snapshots older than this are expired: time travel and pinned API cursors reach back this far.
    snapshot_max_age_s: int = Field(24 * 3600, ge=0)
    min_snapshots_to_keep: int = Field(10, ge=1)
    # An unreferenced file is deleted only when older than this: a drain writes its data files before its
    # commit, so a younger one may be about to be committed.
    orphan_min_age_s: int = Field(3 * 3600, ge=0)


class CostSettings(BaseModel):
    """The deployment `platform_cost_model` prices; its measured inputs come from `k2 bench` results and the tables."""

    cron: str = "0 6 * * *"
    rates_msg_s: list[int] = [10_000, 1_000_000, 10_000_000]
    # Empty: the pricing file shipped with K2 (k2_platform/costs/pricing.toml).
    pricing_file: str = ""
    # Production Kafka: replicas per partition and how long records stay (Kafka's default 7 days).
    kafka_replication: int = Field(3, ge=1)
    kafka_retention_h: int = Field(168, ge=1)
    # How long bronze, silver and gold keep trades in object storage.
    lakehouse_retention_days: int = Field(365, ge=1)
    # Brokers and workers spread over this many availability zones (cross-zone traffic is billed).
    availability_zones: int = Field(3, ge=1)
    # Workers are sized to run at this CPU share, leaving headroom for bursts and catch-up.
    target_cpu_utilization: float = Field(0.6, gt=0, le=1)


DegradationLevel = Literal["NORMAL", "ELEVATED", "DEGRADED", "CRITICAL"]  # lakehouse.degradation.Level, by name


class DegradationSettings(BaseModel):
    """Degradation levels (lakehouse.degradation): under lag or memory pressure K2 widens drain batches, defers
    derived work and skips non-blocking checks. It never drops a trade. The three-entry lists give the thresholds
    of ELEVATED, DEGRADED and CRITICAL in that order."""

    # How often the k2_degradation sensor re-evaluates the level.
    interval_s: int = Field(15, ge=1)
    # Lag = the largest uncapped backlog of any medallion step, in records. A level is entered at its `up` value
    # and left only below its lower `down` value, so a lag hovering at one threshold does not flap.
    lag_up: list[int] = [1_000_000, 5_000_000, 20_000_000]
    lag_down: list[int] = [500_000, 2_500_000, 10_000_000]
    # Memory = RSS of the Dagster code location's process tree (the sensor's process and the run workers it launched).
    rss_up_bytes: list[int] = [2 << 30, 3 << 30, 4 << 30]
    rss_down_bytes: list[int] = [3 << 29, 5 << 29, 7 << 29]
    # Rising is immediate; stepping down one level needs this long at the current level (no flapping).
    min_dwell_s: float = Field(60.0, ge=0)
    # A level not re-evaluated for this long (sensor stopped or failing) is no longer acted upon: a stale
    # CRITICAL must not defer derived work forever. /health still shows it, marked stale.
    stale_after_s: float = Field(300.0, gt=0)
    # Settings.lakehouse.max_records_per_run is multiplied by this at NORMAL, ELEVATED, DEGRADED, CRITICAL: fewer,
    # larger runs catch up with less per-run overhead. Not applied while memory is a cause: larger runs need more memory.
    batch_factor: list[int] = [1, 2, 4, 8]
    # From this level on, derived work (cost model, maintenance, bars) is skipped with the level as the reason.
    defer_derived_from: DegradationLevel = "DEGRADED"
    # From this level on, non-blocking (WARN) batch checks are not judged; they report "skipped" with the level.
    skip_warn_checks_from: DegradationLevel = "DEGRADED"

    @model_validator(mode="after")
    def _thresholds_form_bands(self) -> DegradationSettings:
        for name, up, down in (("lag", self.lag_up, self.lag_down), ("rss", self.rss_up_bytes, self.rss_down_bytes)):
            if len(up) != 3 or len(down) != 3:
                raise ValueError(f"degradation {name} thresholds need 3 values each (ELEVATED, DEGRADED, CRITICAL), got {up} and {down}")
            if up != sorted(up) or down != sorted(down) or not all(d < u for d, u in zip(down, up)):
                raise ValueError(f"degradation {name} thresholds must rise level by level with each down below its up, got {up} and {down}")
        if len(self.batch_factor) != 4 or self.batch_factor != sorted(self.batch_factor) or self.batch_factor[0] < 1:
            raise ValueError(f"degradation batch_factor needs 4 non-decreasing values >= 1, got {self.batch_factor}")
        return self


class BarsSettings(BaseModel):
    """OHLCV bars (ohlcv_1m/1h/1d): partitions, the sensor that follows gold, backfill run sizes, freshness."""

    # First partition of the bar assets (UTC date). The default covers the shared recordings (2024-08-08/09);
    # a deployment sets the day its gold starts.
    start: str = Field("2024-08-01", pattern=r"^\d{4}-\d{2}-\d{2}$")
    # How often the bars sensor looks for gold snapshots it has not turned into bars yet.
    sensor_interval_s: int = Field(5, ge=1)
    # Partitions one run covers (BackfillPolicy.multi_run and the sensor's catch-up runs): a month of
    # hourly partitions runs as a handful of runs, each one DuckDB pass over gold.
    max_partitions_per_run: int = Field(48, ge=1)
    # Hour and day bars of windows still in progress are rebuilt at most this often (each rebuild reads the
    # day's gold); a change to an hour that has ended (its last trades, a late trade) rebuilds them at once.
    coarse_interval_s: int = Field(60, ge=1)
    # Freshness windows (FreshnessPolicy.time_window; at least 60 s).
    fresh_1m_s: int = Field(180, ge=60)
    fresh_1h_s: int = Field(3900, ge=60)
    fresh_1d_s: int = Field(90000, ge=60)


class DemoSettings(BaseModel):
    """What `k2 demo` replays: the shared recordings by default, looped so the feed never runs dry."""

    # Recording files; empty means the Binance recordings in ../shared/data next to the project.
    recordings: list[str] = []
    speed: str = "1"  # 1 = recorded pace, N = N times faster, "max"
    loops: int = Field(1000, ge=1)
    exchanges: str = "binance,kraken"
    symbols: str = "BTCUSDT,BTCUSD"
    # Kraken streams the recorded BTCUSDT trades as BTC/USD (and XBT/USD).
    kraken_pair: str = "BTCUSD=BTCUSDT"


class MonitoringSettings(BaseModel):
    """`k2 up --with-monitoring`: a local Prometheus and `k2 metrics` (lag, freshness, drain-run metrics), on loopback."""

    host: str = "127.0.0.1"
    prometheus_port: int = 9090
    # `k2 metrics`: metrics computed at scrape time from Kafka watermarks and snapshot summaries, plus drain-run metrics.
    exporter_port: int = 9465
    scrape_interval_s: float = Field(15.0, gt=0)
    prometheus_binary: str = "prometheus"  # Debian's package installs /usr/bin/prometheus
    retention: str = "15d"
    start_timeout_s: float = Field(30.0, gt=0)


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
    lakehouse: LakehouseSettings = LakehouseSettings()
    ingest: IngestSettings = IngestSettings()
    query: QuerySettings = QuerySettings()
    demo: DemoSettings = DemoSettings()
    maintenance: MaintenanceSettings = MaintenanceSettings()
    costs: CostSettings = CostSettings()
    degradation: DegradationSettings = DegradationSettings()
    bars: BarsSettings = BarsSettings()
    monitoring: MonitoringSettings = MonitoringSettings()

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
    def monitoring_dir(self) -> Path:
        return self.state_dir / "monitoring"

    @property
    def dagster_home(self) -> Path:
        return self.state_dir / "dagster"


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
