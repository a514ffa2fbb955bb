"""The cost model's inputs, each with where it came from: `k2 bench` results, the tables' own files, settings.

An input that has not been measured yet (no bench run with this state directory, an empty table) takes
the default below and is marked unmeasured, with the reason, in every output.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError

from ..lakehouse.bronze import TABLE as BRONZE
from ..lakehouse.compaction import MAINTENANCE_KEY
from ..lakehouse.gold import TABLE as GOLD
from ..lakehouse.refine import DLQ, silver_table
from ..lakehouse.table_files import FileTotals, data_totals
from ..lakehouse.tables import load
from ..settings import EXCHANGES, Settings
from .bench_results import latest, results_path

CENT = Decimal("0.01")
# Used only until the first measurement; each figure was measured on the 2-core dev machine on 2026-12-03.
DEFAULTS = {
    "ingest_trades_per_core_s": (Decimal(69_802), "`k2 bench ingest --loops 1 --skip-end-to-end` (pipeline, 19,904 trades)"),
    "drain_trades_per_core_s": (Decimal(42_626), "`k2 bench drain --trades 50000` (50,000 trades in 1.173 CPU-seconds)"),
    "bronze_bytes_per_trade": (Decimal("55.50"), "the shared recording btcusdt_trade_20240808 (9,757 trades) drained through the medallion"),
    "silver_bytes_per_trade": (Decimal("51.75"), "the same recording's silver files"),
    "gold_bytes_per_trade": (Decimal("48.70"), "the same recording's gold files"),
    "data_files_per_commit": (Decimal(1), "one partition per commit: the usual drain"),
}


@dataclass(frozen=True)
class Input:
    name: str
    value: Decimal
    unit: str
    source: str
    measured: bool = True


def _default(name: str, unit: str, why: str) -> Input:
    value, origin = DEFAULTS[name]
    return Input(name, value, unit, f"UNMEASURED ({why}): default {value:,} from {origin}", measured=False)


def _bench_rate(settings: Settings, name: str, bench: str, rate) -> Input:
    unit = "trades per CPU-second"
    record = latest(settings, bench)
    value = rate(record["results"]) if record else None
    if value is None:
        missing = f"no `k2 bench {bench}` result in {results_path(settings, bench)}"
        why = missing if record is None else f"`k2 bench {bench}` result lacks its CPU time"
        return _default(name, unit, why)
    where = f"{record['cpu_count']} cores, load {record['load_avg_1m']}"
    return Input(name, Decimal(value).quantize(Decimal(1)), unit, f"`k2 bench {bench}` of {record['finished_at']} ({where})")


def bench_inputs(settings: Settings) -> list[Input]:
    return [
        _bench_rate(settings, "ingest_trades_per_core_s", "ingest", lambda r: r.get("trades_per_cpu_s")),
        # The drain bench runs bronze, refine and gold in one process: its CPU time covers all three steps.
        _bench_rate(
            settings,
            "drain_trades_per_core_s",
            "drain",
            lambda r: Decimal(r["trades"]) / Decimal(str(r["cpu_s"])) if r.get("cpu_s") and r.get("trades") else None,
        ),
    ]


def _totals(catalog: Catalog, namespace: str, names: list[str]) -> FileTotals:
    parts = []
    for name in names:
        try:
            parts.append(data_totals(load(catalog, namespace, name)))
        except NoSuchTableError:
            continue
    return FileTotals(sum(p.files for p in parts), sum(p.bytes for p in parts), sum(p.records for p in parts))


def table_inputs(settings: Settings, catalog: Catalog) -> list[Input]:
    ns, out = settings.catalog.namespace, []
    for layer, names in (("bronze", [BRONZE]), ("silver", [silver_table(e) for e in EXCHANGES]), ("gold", [GOLD])):
        name, totals = f"{layer}_bytes_per_trade", _totals(catalog, ns, names)
        if totals.records:
            where = f"{', '.join(names)}: {totals.bytes:,} bytes in {totals.files} data files / {totals.records:,} records"
            out.append(Input(name, (Decimal(totals.bytes) / totals.records).quantize(CENT), "bytes per trade", f"{where} (Iceberg metadata)"))
        else:
            out.append(_default(name, "bytes per trade", f"{', '.join(names)} hold no rows yet"))
    added = []
    for name in (BRONZE, *(silver_table(e) for e in EXCHANGES), GOLD):
        try:
            snapshots = load(catalog, ns, name).snapshots()
        except NoSuchTableError:
            continue
        added += [
            int(s.summary.additional_properties["added-data-files"])
            for s in snapshots
            if s.summary and s.summary.additional_properties.get("added-data-files") and MAINTENANCE_KEY not in s.summary.additional_properties
        ]
    if added:
        out.append(
            Input(
                "data_files_per_commit",
                (Decimal(sum(added)) / len(added)).quantize(CENT),
                "data files",
                f"mean added-data-files of {len(added)} drain commits of bronze, silver and gold (snapshot summaries)",
            )
        )
    else:
        out.append(_default("data_files_per_commit", "data files", "no drain commit yet"))
    return out


def settings_inputs(settings: Settings) -> list[Input]:
    c, lake = settings.costs, settings.lakehouse
    return [
        Input("kafka_replication", Decimal(c.kafka_replication), "replicas", "settings costs.kafka_replication"),
        Input("kafka_retention_h", Decimal(c.kafka_retention_h), "hours", "settings costs.kafka_retention_h"),
        Input("lakehouse_retention_days", Decimal(c.lakehouse_retention_days), "days", "settings costs.lakehouse_retention_days"),
        Input("availability_zones", Decimal(c.availability_zones), "zones", "settings costs.availability_zones"),
        Input("target_cpu_utilization", Decimal(str(c.target_cpu_utilization)), "share", "settings costs.target_cpu_utilization"),
        Input("drain_interval_s", Decimal(lake.drain_interval_s), "seconds", "settings lakehouse.drain_interval_s"),
        Input("max_records_per_run", Decimal(lake.max_records_per_run), "records", "settings lakehouse.max_records_per_run"),
        # One commit per table per drain cycle: bronze, silver of each exchange, the DLQ, gold.
        Input("tables_per_cycle", Decimal(len(EXCHANGES) + 3), "tables", f"topology: {BRONZE}, {len(EXCHANGES)} silver tables, {DLQ}, {GOLD}"),
    ]


def gather(settings: Settings, catalog: Catalog) -> dict[str, Input]:
    return {i.name: i for i in (*bench_inputs(settings), *table_inputs(settings, catalog), *settings_inputs(settings))}


def with_value(inputs: dict[str, Input], name: str, value: Decimal, source: str) -> dict[str, Input]:
    """The same inputs with one changed (a what-if, or a test)."""
    return {**inputs, name: replace(inputs[name], value=value, source=source, measured=True)}
