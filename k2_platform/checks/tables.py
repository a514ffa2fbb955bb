"""Table-wide checks: invariants over whole committed tables, not one batch.

Each is a standalone asset check on the table it guards, so it runs in the job of the step that
writes that table (after the step's commits) and can be launched alone from the UI.
"""

from dagster import AssetCheckExecutionContext, AssetCheckResult, Definitions, asset_check

from ..lakehouse import quality
from ..lakehouse.gold import TABLE as GOLD
from ..lakehouse.refine import DLQ
from ..resources import K2SettingsResource
from ..settings import Settings
from .report import ERROR, check_result

RECONCILE = "bronze_equals_silver_plus_dlq"
WITHIN_SILVER = "gold_within_silver"


@asset_check(
    asset=DLQ, name=RECONCILE, blocking=True, description="After the refine commits: bronze rows = silver rows + DLQ rows up to the common watermark."
)
def bronze_equals_silver_plus_dlq(context: AssetCheckExecutionContext, k2: K2SettingsResource) -> AssetCheckResult:
    return check_result(context, DLQ, RECONCILE, quality.bronze_reconciles(k2.settings, k2.catalog()), ERROR)


@asset_check(asset=GOLD, name=WITHIN_SILVER, description="After the gold commit: gold rows <= silver rows and message_id unique table-wide.")
def gold_within_silver(context: AssetCheckExecutionContext, k2: K2SettingsResource) -> AssetCheckResult:
    return check_result(context, GOLD, WITHIN_SILVER, quality.gold_within_silver(k2.settings, k2.catalog()), ERROR)


def table_checks(_settings: Settings) -> Definitions:
    return Definitions(asset_checks=[bronze_equals_silver_plus_dlq, gold_within_silver])
