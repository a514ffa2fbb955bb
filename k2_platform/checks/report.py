"""The one way K2 reports a check: a lakehouse.quality RuleResult becomes an AssetCheckResult."""
from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey

from ..lakehouse.quality import RuleResult

# ERROR: the exactly-once or validity contract is broken (data lost, duplicated or invalid).
# WARN: the data is stored faithfully but needs a look (many rejects, unrepaired exchange gaps).
ERROR, WARN = AssetCheckSeverity.ERROR, AssetCheckSeverity.WARN


def check_result(asset: str, name: str, result: RuleResult, severity: AssetCheckSeverity) -> AssetCheckResult:
    return AssetCheckResult(asset_key=AssetKey(asset), check_name=name, passed=result.passed, severity=severity,
                            metadata=dict(result.metadata))
