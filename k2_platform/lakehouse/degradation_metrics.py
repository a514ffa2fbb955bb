"""k2_degradation_level as Prometheus metrics, read from the shared state file at every scrape.

A collector rather than a gauge set in one process: the level is decided by the Dagster sensor but
scraped from whichever process exposes metrics (the API; others can register it too), and a
collector reading the file shows every process the same, current value.
"""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ..settings import Settings
from .degradation_state import current


class DegradationCollector:
    def __init__(self, settings: Settings):
        self.settings = settings

    def collect(self):
        state = current(self.settings)
        yield GaugeMetricFamily("k2_degradation_level", "Degradation level: 0 NORMAL, 1 ELEVATED, 2 DEGRADED, 3 CRITICAL", value=int(state.level))
        yield GaugeMetricFamily("k2_degradation_level_since_timestamp_seconds", "When the current degradation level was entered", value=state.since)
        yield CounterMetricFamily("k2_degradation_level_changes", "Degradation level changes", value=state.changes)
