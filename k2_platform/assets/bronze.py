"""bronze_trades: Kafka -> Iceberg, raw and exactly once."""

import time
from datetime import timedelta

from dagster import AssetCheckSpec, AssetExecutionContext, FreshnessPolicy, MaterializeResult, asset

from ..lakehouse import quality
from ..lakehouse.backlog import bronze_backlog
from ..lakehouse.bronze import drain_to_bronze
from ..resources import K2SettingsResource
from ..settings import load_settings
from .drain_run import GuardFailed, Guards, RangeConfig, outcome_metadata, stop
from .kafka_sources import DLQ_TOPIC_KEY, OWNERS, TRADE_TOPIC_KEYS

RANGE_CHECK = "bronze_range_complete"


@asset(
    deps=[*TRADE_TOPIC_KEYS.values(), DLQ_TOPIC_KEY],
    group_name="bronze",
    kinds={"kafka", "iceberg"},
    owners=OWNERS,
    tags={"layer": "bronze"},
    description="Raw Kafka records (value bytes, key, headers, topic/partition/offset, Kafka timestamp), exactly once. "
                "The snapshot summary `k2.offsets` holds the next offset per partition; each run drains one offset range.",
    check_specs=[AssetCheckSpec(RANGE_CHECK, asset="bronze_trades", blocking=True,
                                description="Guard, before the write: one row per offset of the run's range, none twice.")],
    freshness_policy=FreshnessPolicy.time_window(fail_window=timedelta(seconds=load_settings().lakehouse.bronze_fresh_s)),
)
def bronze_trades(context: AssetExecutionContext, config: RangeConfig, k2: K2SettingsResource):
    started = time.monotonic()
    settings, catalog, rng = k2.settings, k2.catalog(), config.offset_range()
    lag_before = bronze_backlog(settings, catalog, cap=False).size
    guards = Guards()
    complete = guards.guard(RANGE_CHECK, lambda _t, todo, rows: quality.positions_complete(rows, sum(hi - lo for lo, hi in todo.values())))
    try:
        outcome = drain_to_bronze(settings, catalog, rng, guard=complete)
    except GuardFailed as failed:
        yield from guards.results(context.asset_key, [RANGE_CHECK])
        raise stop(failed) from failed
    context.log.info(f"bronze: {outcome.rows} rows for {rng.run_key('bronze')} ({outcome.note or 'committed'})")
    yield MaterializeResult(
        metadata=outcome_metadata(outcome, rng, lag_before, bronze_backlog(settings, catalog, cap=False).size, started),
        check_results=guards.results(context.asset_key, [RANGE_CHECK]),
    )
