"""silver_trades_<exchange> and trades_dlq: decode + validate bronze; every record lands in one of them."""

import time
from datetime import timedelta

import pyarrow.compute as pc
from dagster import AssetCheckSpec, AssetExecutionContext, AssetKey, AssetSpec, FreshnessPolicy, MaterializeResult, multi_asset

from ..lakehouse import quality
from ..lakehouse.backlog import refine_backlog
from ..lakehouse.gold import gold_topics
from ..lakehouse.refine import DLQ, refine, silver_table
from ..resources import K2SettingsResource
from ..settings import EXCHANGES, load_settings
from .drain_run import ERROR, WARN, GuardFailed, Guards, RangeConfig, check_result, outcome_metadata, stop
from .kafka_sources import OWNERS

SILVER_CHECKS = {silver_table(e): f"{silver_table(e)}_rows_valid" for e in EXCHANGES}
DLQ_GUARD = "trades_dlq_reasons_recorded"
DLQ_RATE = "trades_dlq_rate"
RECONCILE = "bronze_equals_silver_plus_dlq"
_fresh = FreshnessPolicy.time_window(fail_window=timedelta(seconds=load_settings().lakehouse.silver_fresh_s))


def _spec(name: str, description: str) -> AssetSpec:
    return AssetSpec(name, deps=["bronze_trades"], group_name="silver", kinds={"iceberg"}, owners=OWNERS,
                     tags={"layer": "silver"}, description=description, freshness_policy=_fresh)


@multi_asset(
    name="refine_bronze",
    specs=[*(_spec(silver_table(e), f"Decoded, validated, typed {e} trades (decimal(38,18)); `k2.offsets`/`k2.kafka_offsets` = "
                   f"Kafka positions of {e} bronze records accounted for.") for e in EXCHANGES),
           _spec(DLQ, "Every record that failed decode or validation (stage, reason, raw bytes, source position), plus the "
                      "ingest service's rejects from the DLQ topic (stage ingest.*).")],
    check_specs=[
        *(AssetCheckSpec(check, asset=table, blocking=True,
                         description="Guard, before the write: typed decimals, price and quantity > 0, side BUY/SELL, "
                                     "trade_time within the skew tolerance, no nulls in required columns.")
          for table, check in SILVER_CHECKS.items()),
        AssetCheckSpec(DLQ_GUARD, asset=DLQ, blocking=True, description="Guard, before the write: every DLQ row has a stage, a reason and its source position."),
        AssetCheckSpec(DLQ_RATE, asset=DLQ, description="Share of the run's bronze records rejected stays below Settings.lakehouse.max_dlq_rate."),
        AssetCheckSpec(RECONCILE, asset=DLQ, blocking=True, description="After the commits: bronze rows = silver rows + DLQ rows up to the common watermark."),
    ],
)
def refine_bronze(context: AssetExecutionContext, config: RangeConfig, k2: K2SettingsResource):
    started = time.monotonic()
    settings, catalog, rng = k2.settings, k2.catalog(), config.offset_range()
    lag_before = refine_backlog(settings, catalog, cap=False).size
    guards = Guards()
    row_rule = lambda _t, _todo, rows: quality.trade_rows_valid(rows, settings.max_future_skew_s)  # noqa: E731
    dlq_rule = lambda _t, _todo, rows: quality.Verdict(  # noqa: E731
        rows.num_rows == 0 or (pc.min(pc.utf8_length(rows["reason"])).as_py() > 0 and pc.min(pc.utf8_length(rows["stage"])).as_py() > 0),
        {"rows": rows.num_rows, "explanation": "every DLQ row names its stage and reason"})
    plan = {table: guards.guard(check, row_rule) for table, check in SILVER_CHECKS.items()}
    plan[DLQ] = guards.guard(DLQ_GUARD, dlq_rule)
    checks = [*SILVER_CHECKS.values(), DLQ_GUARD]
    try:
        outcomes = refine(settings, catalog, rng, guards=plan)
    except GuardFailed as failed:
        yield from _results(guards, checks)
        raise stop(failed) from failed
    lag_after = refine_backlog(settings, catalog, cap=False).size
    trade_topics = set(gold_topics(settings))
    rejected = outcomes[DLQ].rows
    total = sum(rng.end[tp] - rng.start[tp] for tp in rng.end if tp[0] in trade_topics)
    extra = {
        DLQ: [check_result(AssetKey(DLQ), DLQ_RATE, quality.dlq_rate(rejected, total, settings.lakehouse.max_dlq_rate), WARN),
              check_result(AssetKey(DLQ), RECONCILE, quality.bronze_reconciles(settings, catalog, gold_topics(settings), DLQ), ERROR)],
    }
    for table, outcome in outcomes.items():
        context.log.info(f"{table}: {outcome.rows} rows ({outcome.note or 'committed'})")
        own = [r for r in _results(guards, checks) if r.asset_key == AssetKey(table)]
        yield MaterializeResult(asset_key=table, metadata=outcome_metadata(outcome, rng, lag_before, lag_after, started),
                                check_results=own + extra.get(table, []))


def _results(guards: Guards, checks: list[str]):
    owner = {**{c: t for t, c in SILVER_CHECKS.items()}, DLQ_GUARD: DLQ}
    return [r for name in checks for r in guards.results(AssetKey(owner[name]), [name])]
