"""The cost model evaluated end to end: inputs gathered, priced per rate, rendered (no Dagster here)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pyiceberg.catalog import Catalog

from ..settings import Settings
from .measured import Input, gather
from .model import RateCost, monthly
from .pricing import load_pricing
from .report import cost_frame, explanation, inputs_markdown, table_markdown, write_chart


@dataclass(frozen=True)
class CostModel:
    inputs: dict[str, Input]
    prices: dict
    results: list[RateCost]
    frame: pd.DataFrame

    @property
    def unmeasured(self) -> list[str]:
        return [i.name for i in self.inputs.values() if not i.measured]

    def report(self) -> dict[str, str]:
        """Markdown sections: the cost table, the inputs with their sources, the comparison with the earlier estimates."""
        return {
            "costs": table_markdown(self.frame),
            "inputs": inputs_markdown(self.inputs),
            "differences": explanation(self.results, self.inputs, self.prices),
        }


def evaluate(inputs: dict[str, Input], prices: dict, rates: list[int]) -> CostModel:
    results = [monthly(inputs, prices, rate) for rate in rates]
    return CostModel(inputs, prices, results, cost_frame(results, prices["hours_per_month"]))


def cost_model(settings: Settings, catalog: Catalog) -> CostModel:
    return evaluate(gather(settings, catalog), load_pricing(settings.costs.pricing_file), settings.costs.rates_msg_s)


def render_chart(settings: Settings, model: CostModel, name: str = "platform_cost_model") -> tuple[Path, str]:
    """The chart as a PNG in the state directory, and as a markdown image embedding it."""
    path = write_chart(model.frame, settings.state_dir / "cost_model" / f"{name}.png")
    return path, f"![{name}](data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()})"
