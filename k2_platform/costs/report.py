"""The cost model as a table (pandas), a markdown rendering, a PNG chart, and the comparison with the earlier estimates."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display in a Dagster run

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .measured import Input  # noqa: E402
from .model import COMPONENTS, EARLIER, MB, RateCost  # noqa: E402

LABELS = {
    "compute": "compute",
    "kafka_brokers": "Kafka brokers",
    "kafka_storage": "Kafka storage",
    "object_storage": "object storage",
    "requests": "S3 requests",
    "transfer": "cross-zone transfer",
}


def cost_frame(results: list[RateCost], hours_per_month: Decimal) -> pd.DataFrame:
    """One row per rate: each component, the total and per million messages, beside the earlier estimate."""
    rows = []
    for r in results:
        earlier_total, earlier_per_million = EARLIER.get(r.rate, (None, None))
        rows.append(
            {
                "msg_per_s": r.rate,
                **r.costs,
                "total": r.total,
                "per_million": r.per_million(hours_per_month),
                "earlier_total": earlier_total,
                "earlier_per_million": earlier_per_million,
                "total_vs_earlier": (r.total / earlier_total).quantize(Decimal("0.01")) if earlier_total else None,
            }
        )
    return pd.DataFrame(rows)


def _money(value, places: int = 2) -> str:
    return "—" if value is None or value != value else f"${value:,.{places}f}"


def table_markdown(frame: pd.DataFrame) -> str:
    head = ["msg/s", *(LABELS[c] for c in COMPONENTS), "total / month", "per million", "earlier / month", "earlier per million", "× earlier"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for row in frame.to_dict("records"):
        ratio = "—" if row["total_vs_earlier"] is None else f"{row['total_vs_earlier']}×"
        cells = [
            f"{row['msg_per_s']:,}",
            *(_money(row[c]) for c in COMPONENTS),
            f"**{_money(row['total'])}**",
            _money(row["per_million"], 4),
            _money(row["earlier_total"], 0),
            _money(row["earlier_per_million"]),
            ratio,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def inputs_markdown(inputs: dict[str, Input]) -> str:
    lines = ["| input | value | unit | measured | source |", "|---|---:|---|---|---|"]
    lines += [f"| {i.name} | {i.value:,} | {i.unit} | {'yes' if i.measured else '**no**'} | {i.source} |" for i in inputs.values()]
    return "\n".join(lines)


def explanation(results: list[RateCost], inputs: dict[str, Input], prices: dict) -> str:
    v = {n: i.value for n, i in inputs.items()}
    seconds = prices["hours_per_month"] * 3600
    lake_bytes = v["bronze_bytes_per_trade"] + v["silver_bytes_per_trade"] + v["gold_bytes_per_trade"]
    lines = []
    for r in results:
        top = max(COMPONENTS, key=lambda c: r.costs[c])
        line = (
            f"- **{r.rate:,} msg/s**: {_money(r.total)} per month. Compute {_money(r.costs['compute'])} = {r.instances} × "
            f"{prices['instance']['name']} for {r.cores} cores (ingest {v['ingest_trades_per_core_s']:,} and drains "
            f"{v['drain_trades_per_core_s']:,} trades per core-second, at {v['target_cpu_utilization']:.0%} CPU); Kafka "
            f"{_money(r.costs['kafka_brokers'] + r.costs['kafka_storage'])} = {r.brokers} brokers and {r.kafka_gb:,} GB kept "
            f"{v['kafka_retention_h']} h × {v['kafka_replication']} replicas; object storage {_money(r.costs['object_storage'])} "
            f"= {r.lake_gb:,} GB ({v['lakehouse_retention_days']} days × "
            f"{lake_bytes} bytes per trade over bronze, silver, gold); "
            f"S3 requests {_money(r.costs['requests'])}; transfer {_money(r.costs['transfer'])}. Largest: {LABELS[top]}."
        )
        if r.rate in EARLIER:
            earlier_total, earlier_per_million = EARLIER[r.rate]
            implied_rate = earlier_total / earlier_per_million * MB / seconds
            line += (
                f" Earlier estimate {_money(earlier_total, 0)} ({(r.total / earlier_total).quantize(Decimal('0.01'))}× of it here). "
                f"The earlier {_money(earlier_per_million)} per million is not {_money(earlier_total, 0)} over this rate's "
                f"{r.rate * seconds / MB:,.0f} million messages a month ({_money(earlier_total / (r.rate * seconds / MB), 4)} per million): "
                f"it matches {implied_rate:,.0f} msg/s, so the earlier per-million figures are not comparable with their own monthly ones."
            )
        lines.append(line)
    unmeasured = [i.name for i in inputs.values() if not i.measured]
    lines.append(
        "- The earlier estimates came without their inputs; here every input is listed with its source, and a change of "
        "throughput, bytes per trade, retention, replication or a price moves the figures above."
    )
    if unmeasured:
        lines.append(
            f"- **Unmeasured inputs (defaults used)**: {', '.join(unmeasured)}; run `k2 bench ingest`, `k2 bench drain` "
            "and drain real trades to measure them."
        )
    return "\n".join(lines)


def write_chart(frame: pd.DataFrame, path: Path) -> Path:
    """Stacked monthly cost per component beside the earlier estimate (log scale), and cost per million messages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rates = [f"{r:,}" for r in frame["msg_per_s"]]
    x = range(len(rates))
    fig, (monthly, per_million) = plt.subplots(1, 2, figsize=(12, 4.8))
    bottom = [0.0] * len(rates)
    for component in COMPONENTS:
        values = [float(v) for v in frame[component]]
        monthly.bar([i - 0.2 for i in x], values, 0.4, bottom=bottom, label=LABELS[component])
        bottom = [b + v for b, v in zip(bottom, values)]
    earlier = [float(v) if v is not None else 0.0 for v in frame["earlier_total"]]
    monthly.bar([i + 0.2 for i in x], earlier, 0.4, color="lightgrey", edgecolor="black", label="earlier K2 estimate")
    monthly.set(
        yscale="log", xticks=list(x), xticklabels=rates, xlabel="messages per second", ylabel="USD per month", title="Monthly cost (measured inputs)"
    )
    monthly.legend(fontsize=7)
    per_million.plot(rates, [float(v) for v in frame["per_million"]], marker="o", label="K2 model")
    per_million.plot(
        rates,
        [float(v) if v is not None else float("nan") for v in frame["earlier_per_million"]],
        marker="s",
        linestyle="--",
        color="grey",
        label="earlier K2 estimate",
    )
    per_million.set(yscale="log", xlabel="messages per second", ylabel="USD per million messages", title="Cost per million messages")
    per_million.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
    return path
