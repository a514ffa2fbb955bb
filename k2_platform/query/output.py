"""Query results printed for people (aligned table) or programs (CSV, JSON): decimals exact, times ISO."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal

from .rows import decimal_text

FORMATS = ("table", "csv", "json")


def _cell(value: object) -> object:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    if fmt == "json":
        return json.dumps([dict(zip(columns, row)) for row in cells], default=str, indent=1)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in cells)
        return out.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    text = [[("" if v is None else str(v)) for v in row] for row in cells]
    widths = [max([len(c)] + [len(r[i]) for r in text]) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, text), f"({len(rows)} rows)"])
