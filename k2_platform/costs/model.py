"""Monthly cost of K2 at a message rate, component by component, from the inputs and the pricing file.

Per rate R (messages = trades per second), with a month of `hours_per_month` hours:
- compute: CPU cores for ingest and the drains (R / measured trades per core-second each), at the target
  utilization, in whole instances;
- Kafka brokers: enough for R x bytes x replication of writes, at least one per replica, a multiple of the zones;
  Kafka storage: what the retention holds, replicated;
- object storage: bronze + silver + gold bytes per trade x what the lakehouse retention holds;
- requests: one commit per table per drain cycle (every drain interval, or more often when R exceeds what one
  run takes), each writing its data files plus the Iceberg metadata objects, each object read back;
- transfer: producers' and consumers' traffic to brokers in another zone.
Bytes on Kafka per message are taken as bronze's bytes per trade: bronze stores exactly the Kafka records,
compressed (zstd), as Kafka compresses its batches (lz4).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from .measured import CENT, Input

COMPONENTS = ("compute", "kafka_brokers", "kafka_storage", "object_storage", "requests", "transfer")
GB, MB = Decimal(10**9), Decimal(10**6)
# The earlier K2 estimates: msg/s -> (monthly USD, USD per million messages), as they were stated.
EARLIER = {10_000: (Decimal(617), Decimal("2.20")), 1_000_000: (Decimal(22_060), Decimal("0.85")), 10_000_000: (Decimal(165_600), Decimal("0.63"))}


def _ceil(x: Decimal) -> Decimal:
    return x.to_integral_value(rounding=ROUND_CEILING)


@dataclass(frozen=True)
class RateCost:
    rate: int
    costs: dict[str, Decimal]  # per component, USD per month
    instances: Decimal
    cores: Decimal
    brokers: Decimal
    kafka_gb: Decimal
    lake_gb: Decimal
    puts: Decimal

    @property
    def total(self) -> Decimal:
        return sum(self.costs.values(), Decimal(0))

    def per_million(self, hours_per_month: Decimal) -> Decimal:
        return (self.total / (self.rate * hours_per_month * 3600 / MB)).quantize(Decimal("0.0001"))


def monthly(inputs: dict[str, Input], prices: dict, rate: int) -> RateCost:
    v = {name: i.value for name, i in inputs.items()}
    hours, sizing = prices["hours_per_month"], prices["sizing"]
    seconds, r, zones = hours * 3600, Decimal(rate), v["availability_zones"]
    cores = r / v["ingest_trades_per_core_s"] + r / v["drain_trades_per_core_s"]
    instances = max(Decimal(1), _ceil(cores / v["target_cpu_utilization"] / prices["instance"]["vcpus"]))
    kafka_bytes, replicas = v["bronze_bytes_per_trade"], v["kafka_replication"]
    brokers = max(replicas, _ceil(r * kafka_bytes * replicas / MB / sizing["broker_write_mb_s"]))
    brokers = _ceil(brokers / zones) * zones
    kafka_gb = r * kafka_bytes * v["kafka_retention_h"] * 3600 * replicas / GB
    lake_bytes = v["bronze_bytes_per_trade"] + v["silver_bytes_per_trade"] + v["gold_bytes_per_trade"]
    lake_gb = r * lake_bytes * v["lakehouse_retention_days"] * 86400 / GB
    cycles_per_s = max(1 / v["drain_interval_s"], r / v["max_records_per_run"])
    puts = cycles_per_s * v["tables_per_cycle"] * seconds * (v["data_files_per_commit"] + sizing["metadata_objects_per_commit"])
    gets = puts * sizing["reads_per_object_written"]
    cross_zone_gb = r * kafka_bytes * seconds * (1 + sizing["consumers_per_topic"]) * (zones - 1) / zones / GB
    costs = {
        "compute": instances * prices["instance"]["per_hour"] * hours,
        "kafka_brokers": brokers * prices["kafka_broker"]["per_hour"] * hours,
        "kafka_storage": kafka_gb * prices["kafka_broker"]["storage_per_gb_month"],
        "object_storage": lake_gb * prices["object_storage"]["per_gb_month"],
        "requests": puts / 1000 * prices["requests"]["put_per_1k"] + gets / 1000 * prices["requests"]["get_per_1k"],
        "transfer": cross_zone_gb * prices["transfer"]["cross_az_per_gb"],
    }
    return RateCost(
        rate,
        {k: c.quantize(CENT) for k, c in costs.items()},
        instances,
        cores.quantize(Decimal("0.001")),
        brokers,
        kafka_gb.quantize(CENT),
        lake_gb.quantize(CENT),
        _ceil(puts),
    )
