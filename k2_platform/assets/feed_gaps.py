"""feed_gaps: trade-id gaps the feeds detected, drained from Kafka exactly once."""

import time

from dagster import AssetCheckSpec, AssetExecutionContext, MaterializeResult, asset

from ..lakehouse import quality
from ..lakehouse.backlog import feed_gaps_backlog
from ..lakehouse.feed_gaps import drain_feed_gaps
from ..resources import K2SettingsResource
from .drain_run import WARN, RangeConfig, check_result, outcome_metadata
from .kafka_sources import FEED_GAPS_TOPIC_KEY, OWNERS

EXPLAINED = "feed_gaps_repaired"


@asset(
    deps=[FEED_GAPS_TOPIC_KEY],
    group_name="bronze",
    kinds={"kafka", "iceberg"},
    owners=OWNERS,
    tags={"layer": "bronze"},
    description="Trade-id gaps detected by the feeds (exchange, symbol, missing id range) and whether REST history repaired them.",
    check_specs=[AssetCheckSpec(EXPLAINED, asset="feed_gaps", description="No unexplained trade-id gaps: every gap in this run was repaired.")],
)
def feed_gaps(context: AssetExecutionContext, config: RangeConfig, k2: K2SettingsResource):
    started = time.monotonic()
    settings, catalog, rng = k2.settings, k2.catalog(), config.offset_range()
    lag_before = feed_gaps_backlog(settings, catalog, cap=False).size
    verdicts = {}

    def inspect(_table, _todo, rows):  # gaps are facts to store even when unrepaired: inspect, never block
        verdicts[EXPLAINED] = quality.unexplained_gaps(rows)

    outcome = drain_feed_gaps(settings, catalog, rng, guard=inspect)
    verdict = verdicts.get(EXPLAINED, quality.Verdict(True, {"explanation": "nothing written by this run"}))
    yield MaterializeResult(metadata=outcome_metadata(outcome, rng, lag_before, feed_gaps_backlog(settings, catalog, cap=False).size, started),
                            check_results=[check_result(context.asset_key, EXPLAINED, verdict, WARN)])
