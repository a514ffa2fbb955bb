"""The lakehouse's metrics, computed when Prometheus scrapes (never a stale pushed value).

Read-only and cheap: one Kafka metadata call for the watermarks, and each table's current snapshot summary
(no data file is read). The drain-run counters recorded by runs (lakehouse/metrics.py) are served alongside.
"""

from __future__ import annotations

import logging
import time

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from ..settings import Settings
from . import metrics as drain
from .bronze import TABLE as BRONZE, bronze_topics
from .catalog import open_catalog
from .feed_gaps import TABLE as FEED_GAPS
from .gold import TABLE as GOLD, gold_topics
from .kafka_reader import watermarks
from .offsets import committed, flatten
from .refine import target_topics
from .table_specs import ALL_TABLES
from .tables import load

log = logging.getLogger(__name__)

LAG = "k2_consumer_lag_records"
FRESHNESS = "k2_table_freshness_age_seconds"
TABLE_ROWS = "k2_table_rows"
SCRAPE_OK = "k2_lakehouse_scrape_success"


def consumed_topics(settings: Settings) -> dict[str, list[str]]:
    """Every table that records Kafka offsets, and the topics its offsets are positions of."""
    return {BRONZE: bronze_topics(settings), **target_topics(settings), GOLD: list(gold_topics(settings)), FEED_GAPS: [settings.topics.feed_gaps]}


class LakehouseCollector:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._catalog = None

    def describe(self):
        return []  # computed on scrape only: registering must not reach Kafka or the catalog

    def collect(self):
        try:
            families = [*self._table_families(), *self._drain_families()]
        except Exception as exc:  # noqa: BLE001 - an outage is reported as a metric, the exporter keeps serving
            log.warning("lakehouse metrics unavailable: %s", exc)
            self._catalog = None
            families, ok = [], 0
        else:
            ok = 1
        yield from families
        yield GaugeMetricFamily(SCRAPE_OK, "1 when Kafka and the catalog answered this scrape, else 0", value=ok)

    def _table_families(self):
        s = self.settings
        if self._catalog is None:
            self._catalog = open_catalog(s)
        topics = consumed_topics(s)
        marks = watermarks(s, sorted({t for ts in topics.values() for t in ts}))
        lag = GaugeMetricFamily(
            LAG, "Kafka records not yet committed to the table (high watermark - table offset)", labels=["table", "topic", "partition"]
        )
        freshness = GaugeMetricFamily(FRESHNESS, "Seconds since the table's last commit", labels=["table"])
        rows = GaugeMetricFamily(TABLE_ROWS, "Rows in the table's current snapshot", labels=["table"])
        now = time.time()
        for spec in ALL_TABLES:
            table = load(self._catalog, s.catalog.namespace, spec.name)
            snapshot = table.current_snapshot()
            if snapshot is not None:
                freshness.add_metric([spec.name], max(0.0, now - snapshot.timestamp_ms / 1000))
                rows.add_metric([spec.name], int((snapshot.summary.additional_properties if snapshot.summary else {}).get("total-records", 0)))
            if spec.name in topics:
                done = flatten(committed(table))
                for (topic, partition), (low, high) in marks.items():
                    if topic in topics[spec.name]:
                        lag.add_metric([spec.name, topic, str(partition)], max(0, high - done.get((topic, partition), low)))
        return lag, freshness, rows

    def _drain_families(self):
        state = drain.read(self.settings)
        rows = CounterMetricFamily(drain.ROWS, "Rows committed by drain runs", labels=["table"])
        for table, n in sorted(state.get(drain.ROWS, {}).items()):
            rows.add_metric([table], n)
        commits = CounterMetricFamily(
            drain.RUNS, "Drain commits: committed, or skipped because the range was already in the table", labels=["table", "outcome"]
        )
        for table, outcomes in sorted(state.get(drain.RUNS, {}).items()):
            for outcome, n in sorted(outcomes.items()):
                commits.add_metric([table, outcome], n)
        latency = HistogramMetricFamily(drain.COMMIT_SECONDS, "Catalog commit latency of drain runs", labels=["table"])
        for table, h in sorted(state.get(drain.COMMIT_SECONDS, {}).items()):
            buckets = [(str(bound), n) for bound, n in zip(drain.COMMIT_BUCKETS, h["buckets"])] + [("+Inf", h["count"])]
            latency.add_metric([table], buckets, h["sum"])
        return rows, commits, latency
