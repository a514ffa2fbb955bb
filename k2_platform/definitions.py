"""The one Dagster Definitions object of K2, built from one Settings object by factories."""

from __future__ import annotations

from collections.abc import Callable

from dagster import Definitions, define_asset_job, definitions

from .assets.bronze import BRONZE
from .assets.cost_model import costs
from .assets.drain_asset import drain_asset
from .assets.feed_gaps import FEED_GAPS
from .assets.freshness import with_freshness
from .assets.gold import GOLD
from .assets.kafka_sources import kafka_topics
from .assets.maintenance import maintenance
from .assets.refine import REFINE
from .checks.tables import table_checks
from .resources import k2_resources
from .sensors.alerts import alert_sensor
from .sensors.bars import bars
from .sensors.degradation import degradation
from .sensors.drain import drain_sensor
from .sensors.run_failures import run_failure_alerts
from .settings import Settings, load_settings

MEDALLION = (BRONZE, FEED_GAPS, REFINE, GOLD)


def medallion(settings: Settings) -> Definitions:
    """Per drain step: its multi-asset, its job and its drain sensor, all under the step's one name."""
    parts = []
    for step in MEDALLION:
        job = define_asset_job(step.job_name, selection=step.table_names, description=step.description)
        parts.append(Definitions(assets=[drain_asset(step)], jobs=[job], sensors=[drain_sensor(settings, step, job)]))
    return Definitions.merge(*parts, degradation(settings, MEDALLION))  # the level is driven by these steps' backlog


# Each part of the platform: (settings) -> its Definitions. A new layer (derived assets, maintenance) adds its factory here.
FACTORIES: list[Callable[[Settings], Definitions]] = [kafka_topics, medallion, table_checks, bars, maintenance, costs]


def build_definitions(settings: Settings) -> Definitions:
    """Everything K2 runs in Dagster, for exactly these settings (the `k2` resource carries them to every run and tick)."""
    built = with_freshness(Definitions.merge(*(factory(settings) for factory in FACTORIES)), settings)
    alerts = [alert_sensor(settings, built), run_failure_alerts(settings)]
    return Definitions.merge(built, Definitions(sensors=alerts, resources=k2_resources(settings)))


@definitions
def defs() -> Definitions:
    """What `dagster dev -w workspace.yaml` loads, lazily: the one place that reads K2's settings (env + TOML)."""
    return build_definitions(load_settings())
