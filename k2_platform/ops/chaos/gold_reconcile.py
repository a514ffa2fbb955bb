"""Reconciling what an exchange sent (the recording) against gold_trades, and the rejects and gaps beside it.

Every recorded trade must be in gold exactly once by (exchange, symbol, trade id) with its exact
decimals; a recorded trade missing from gold must be accounted for by an unrepaired feed_gaps row
(it still counts as lost); every trades_dlq row must carry a reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
from pyiceberg.catalog import Catalog

from ...ingest.recording import RecordedTrade
from ...lakehouse.feed_gaps import TABLE as FEED_GAPS
from ...lakehouse.gold import TABLE as GOLD
from ...lakehouse.refine import DLQ
from ...lakehouse.tables import load
from ...settings import Settings
from .reconcile import matches

_SHOWN_IDS = 10
_GOLD_COLUMNS = ("exchange", "symbol", "trade_id", "price", "quantity", "side", "trade_time")


def table_rows(settings: Settings, catalog: Catalog, name: str, columns: tuple[str, ...]) -> list[dict]:
    """Rows of one table (timestamps as µs since epoch, decimals as Decimal)."""
    rows = load(catalog, settings.catalog.namespace, name).scan(selected_fields=columns).to_arrow()
    for i, f in enumerate(rows.schema):
        if pa.types.is_timestamp(f.type):
            rows = rows.set_column(i, f.name, rows[f.name].cast(pa.int64()))
    return rows.to_pylist()


@dataclass
class GoldReconciliation:
    exchange: str
    sent: int
    in_gold: int  # distinct recorded trades found in gold
    lost: int
    duplicated: int  # gold rows beyond the first of their (symbol, trade id)
    unexpected: int  # gold rows of trade ids never recorded
    wrong_values: int  # price, quantity, side or time differing from the recording
    unexplained_lost: int  # lost trades inside no unrepaired feed_gaps row
    gaps: list[dict] = field(default_factory=list)  # this exchange's feed_gaps rows
    lost_ids: list[tuple[str, int]] = field(default_factory=list)  # the first few (symbol, trade id), to look up

    @property
    def unrepaired_gaps(self) -> int:
        return sum(not g["repaired"] for g in self.gaps)

    @property
    def repaired_from_rest(self) -> int:
        return sum(g["repaired_count"] for g in self.gaps)

    @property
    def exact(self) -> bool:
        return not (self.lost or self.duplicated or self.unexpected or self.wrong_values or self.unrepaired_gaps)


def reconcile_gold(
    settings: Settings, catalog: Catalog, exchanges: tuple[str, ...], recorded: dict[str, list[RecordedTrade]]
) -> list[GoldReconciliation]:
    expected = {(symbol, t.trade_id): t for symbol, trades in recorded.items() for t in trades}
    gold = table_rows(settings, catalog, GOLD, _GOLD_COLUMNS)
    gaps = table_rows(
        settings,
        catalog,
        FEED_GAPS,
        ("exchange", "symbol", "first_missing_id", "last_missing_id", "missing_count", "repaired", "repaired_count", "detail"),
    )
    return [
        _one(exchange, [r for r in gold if r["exchange"] == exchange], [g for g in gaps if g["exchange"] == exchange], expected)
        for exchange in exchanges
    ]


def _one(exchange: str, gold: list[dict], gaps: list[dict], expected: dict[tuple[str, int], RecordedTrade]) -> GoldReconciliation:
    counts = Counter((r["symbol"], int(r["trade_id"])) for r in gold)
    wrong = sum(1 for r in gold if (key := (r["symbol"], int(r["trade_id"]))) in expected and not matches(r, expected[key]))
    lost = sorted(set(expected) - set(counts))
    unrepaired = [g for g in gaps if not g["repaired"]]
    unexplained = [k for k in lost if not any(g["symbol"] == k[0] and g["first_missing_id"] <= k[1] <= g["last_missing_id"] for g in unrepaired)]
    return GoldReconciliation(
        exchange=exchange,
        sent=len(expected),
        in_gold=len(set(counts) & set(expected)),
        lost=len(lost),
        duplicated=sum(c - 1 for c in counts.values()),
        unexpected=len(set(counts) - set(expected)),
        wrong_values=wrong,
        unexplained_lost=len(unexplained),
        gaps=gaps,
        lost_ids=lost[:_SHOWN_IDS],
    )


def dlq_rows(settings: Settings, catalog: Catalog) -> list[dict]:
    """trades_dlq: (stage, reason, exchange) of every rejected record."""
    return table_rows(settings, catalog, DLQ, ("stage", "reason", "exchange"))
