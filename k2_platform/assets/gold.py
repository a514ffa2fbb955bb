"""gold_trades: all exchanges, one row per message_id, hourly partitions, sorted by (trade_time, trade_id)."""

import time
from datetime import timedelta

import pyarrow.compute as pc
from dagster import AssetCheckSpec, AssetExecutionContext, FreshnessPolicy, MaterializeResult, asset

from ..lakehouse import quality
from ..lakehouse.backlog import gold_backlog
from ..lakehouse.gold import already_in_gold, build_gold, gold_topics
from ..resources import K2SettingsResource
from ..settings import EXCHANGES, load_settings
from .drain_run import ERROR, GuardFailed, Guards, RangeConfig, check_result, outcome_metadata, stop
from .kafka_sources import OWNERS

UNIQUE = "gold_message_id_unique"
VALID = "gold_rows_valid"
WITHIN_SILVER = "gold_within_silver"


@asset(
    deps=[f"silver_trades_{e}" for e in EXCHANGES],
    group_name="gold",
    kinds={"iceberg"},
    owners=OWNERS,
    tags={"layer": "gold"},
    description="Unified trades of all exchanges, unique by message_id (also against rows already in gold), hour(trade_time) "
                "partitions, sorted by (trade_time, trade_id). `k2.kafka_offsets` = Kafka positions fully reflected here: "
                "the query layer's hybrid read continues from them.",
    check_specs=[
        AssetCheckSpec(UNIQUE, asset="gold_trades", blocking=True, description="Guard, before the write: no message_id twice in the batch or already in gold."),
        AssetCheckSpec(VALID, asset="gold_trades", blocking=True, description="Guard, before the write: typed decimals, positive price/quantity, side, no future trades."),
        AssetCheckSpec(WITHIN_SILVER, asset="gold_trades", description="After the commit: gold rows <= silver rows and message_id unique table-wide."),
    ],
    freshness_policy=FreshnessPolicy.time_window(fail_window=timedelta(seconds=load_settings().lakehouse.gold_fresh_s)),
)
def gold_trades(context: AssetExecutionContext, config: RangeConfig, k2: K2SettingsResource):
    started = time.monotonic()
    settings, catalog, rng = k2.settings, k2.catalog(), config.offset_range()
    lag_before = gold_backlog(settings, catalog, cap=False).size
    guards = Guards()
    unique = guards.guard(UNIQUE, lambda t, _todo, rows: quality.unique_message_ids(rows, int(pc.sum(already_in_gold(t, rows)).as_py() or 0)))
    valid = guards.guard(VALID, lambda _t, _todo, rows: quality.trade_rows_valid(rows, settings.max_future_skew_s))

    def both(table, todo, rows):
        unique(table, todo, rows)
        valid(table, todo, rows)

    try:
        outcome = build_gold(settings, catalog, rng, guard=both)
    except GuardFailed as failed:
        yield from guards.results(context.asset_key, [UNIQUE, VALID])
        raise stop(failed) from failed
    context.log.info(f"gold: {outcome.rows} new trades ({outcome.note or 'committed'})")
    yield MaterializeResult(
        metadata=outcome_metadata(outcome, rng, lag_before, gold_backlog(settings, catalog, cap=False).size, started),
        check_results=guards.results(context.asset_key, [UNIQUE, VALID])
        + [check_result(context.asset_key, WITHIN_SILVER, quality.gold_within_silver(settings, catalog, gold_topics(settings)), ERROR)],
    )
