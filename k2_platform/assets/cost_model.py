"""platform_cost_model: monthly cost and cost per million messages at the configured rates, daily.

A thin wrapper over k2_platform.costs: measured inputs (bench results, the tables' files, settings) and
the pricing file in, the table, the inputs with their sources, the comparison with the earlier
estimates and a PNG chart out, as materialization metadata.
"""

from dagster import AssetExecutionContext, Definitions, MaterializeResult, MetadataValue, asset

from ..costs.platform import cost_model, render_chart
from ..resources import K2SettingsResource
from ..sensors.deferral import deferrable_schedule
from ..settings import Settings


def costs(settings: Settings) -> Definitions:
    rates = ", ".join(f"{r:,}" for r in settings.costs.rates_msg_s)

    @asset(
        name="platform_cost_model",
        group_name="costs",
        kinds={"pandas"},
        description=f"Monthly cost and cost per million messages at {rates} msg/s from measured inputs (`k2 bench` results, "
        "bytes per trade from bronze/silver/gold files, retention and replication from settings) and "
        "k2_platform/costs/pricing.toml, beside the earlier K2 estimates.",
    )
    def platform_cost_model(context: AssetExecutionContext, k2: K2SettingsResource) -> MaterializeResult:
        settings = k2.settings
        model = cost_model(settings, k2.catalog())
        path, image = render_chart(settings, model)
        if model.unmeasured:
            context.log.warning(f"cost model uses defaults for unmeasured inputs: {', '.join(model.unmeasured)}")
        sections = model.report()
        metadata = {
            "costs": MetadataValue.md(sections["costs"]),
            "chart": MetadataValue.md(image),
            "chart_path": MetadataValue.path(str(path)),
            "differences": MetadataValue.md(sections["differences"]),
            "inputs": MetadataValue.md(sections["inputs"]),
            "unmeasured_inputs": MetadataValue.json(model.unmeasured),
            "pricing_file": MetadataValue.path(model.prices["file"]),
        }
        for r in model.results:
            metadata[f"monthly_usd_{r.rate}"] = float(r.total)
            metadata[f"usd_per_million_{r.rate}"] = float(r.per_million(model.prices["hours_per_month"]))
        return MaterializeResult(metadata=metadata)

    schedule = deferrable_schedule("platform_cost_model_daily", platform_cost_model, settings.costs.cron, "platform_cost_model")
    return Definitions(assets=[platform_cost_model], schedules=[schedule])
