"""`k2 bench` results kept in the state directory: `<state_dir>/bench/<name>.json`, the latest run of each bench.

The file holds the bench's JSON result (the last line it prints) plus when and where it ran, so a
consumer (the cost model) can say what it measured and on which machine.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from ..settings import Settings


def results_path(settings: Settings, name: str) -> Path:
    return settings.state_dir / "bench" / f"{name}.json"


def save(settings: Settings, name: str, results: dict, argv: list[str]) -> Path:
    path = results_path(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "bench": name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "argv": argv,
        "cpu_count": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "results": results,
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str))
    tmp.replace(path)  # a reader never sees half a file
    return path


def latest(settings: Settings, name: str) -> dict | None:
    """The latest saved run of bench `name`, or None when it never ran with this state directory."""
    path = results_path(settings, name)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"bench results file {path} is not valid JSON ({exc}); re-run `k2 bench {name}`") from exc
    if not isinstance(record, dict) or not isinstance(record.get("results"), dict):
        raise ValueError(f"bench results file {path} has no 'results' object; re-run `k2 bench {name}`")
    return record
