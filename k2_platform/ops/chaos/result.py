"""What every drill returns, whatever it breaks: the common result `k2 chaos` prints and sums up."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    """One line of a drill's table (an exchange, a table, a run): trades sent and found in gold."""

    label: str
    sent: int
    in_gold: int
    lost: int
    duplicated: int


@dataclass
class ChaosResult:
    name: str
    sent: int  # trades the source produced (recorded, generated)
    in_gold: int  # distinct expected trades found in gold_trades
    lost: int
    duplicated: int  # gold rows beyond the first of their (exchange, symbol, trade id)
    max_recovery_s: float  # the longest time from a fault to the platform making progress again
    passed: bool  # exactly once, exact values, every gap and reject explained
    details: dict = field(default_factory=dict)  # scenario-specific figures, JSON-serializable
    rows: list[Row] = field(default_factory=list)  # optional breakdown for the table (e.g. per exchange)

    def summary(self) -> dict:
        """The scenario's entry in the JSON last line."""
        return {
            "name": self.name,
            "sent": self.sent,
            "in_gold": self.in_gold,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "max_recovery_s": round(self.max_recovery_s, 3),
            "passed": self.passed,
            **self.details,
        }
