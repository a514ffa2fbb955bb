"""`k2 chaos <scenario>` / `k2 chaos all`: failure drills on the real stack, each ending in a reconciliation.

Per scenario a table (sent, in Kafka, lost, duplicated, recovery seconds); the last line is one JSON
object with `scenarios`, `lost`, `duplicated`, `max_recovery_s`. Exit code 1 unless every trade is
there exactly once with exact values and no gap is left unrepaired.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..chaos import ingest_kill
from ..chaos.stack import drill_stack
from .demo import recordings

_SCENARIOS = {m.NAME: m for m in (ingest_kill,)}


def register(sub) -> None:
    parser = sub.add_parser("chaos", help="failure drills: inject a fault into the real stack, then reconcile (table + JSON last line)")
    scenarios = parser.add_subparsers(dest="scenario", metavar="SCENARIO", required=True)
    for name, module in _SCENARIOS.items():
        p = scenarios.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(func=_run, chosen=[name])
    p = scenarios.add_parser("all", help="every scenario with its defaults")
    for module in _SCENARIOS.values():
        module.add_arguments(p)
    p.set_defaults(func=_run, chosen=list(_SCENARIOS))


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _run(args, settings) -> int:
    files = [Path(p) for p in recordings(settings)]
    summaries = []
    for name in args.chosen:
        with drill_stack(settings, name, _progress) as (drill, work_dir):
            result = _SCENARIOS[name].scenario(args, drill, files, work_dir, _progress)
        summaries.append(_report(name, result))
    print(
        json.dumps(
            {
                "scenarios": summaries,
                "lost": sum(s["lost"] for s in summaries),
                "duplicated": sum(s["duplicated"] for s in summaries),
                "max_recovery_s": max(s["max_recovery_s"] for s in summaries),
                "passed": all(s["passed"] for s in summaries),
            }
        )
    )
    return 0 if all(s["passed"] for s in summaries) else 1


def _report(name: str, result: ingest_kill.DrillResult) -> dict:
    rows = result.reconciliations
    print(f"\n{name} (seed {result.seed}): {len(result.kills)} kills, recovery " + ", ".join(f"{r:.2f}s" for r in result.recoveries))
    header = (
        f"{'exchange':<10} {'sent':>8} {'in kafka':>9} {'lost':>6} {'duplicated':>10} {'wrong':>6} {'unrepaired gaps':>15} "
        f"{'from REST':>9} {'max recovery s':>14}"
    )
    print(header + "\n" + "-" * len(header))
    for r in rows:
        print(
            f"{r.exchange:<10} {r.sent:>8,} {r.in_kafka:>9,} {r.lost:>6,} {r.duplicated:>10,} {r.wrong_values:>6,} {r.unrepaired_gaps:>15,} "
            f"{r.repaired_from_rest:>9,} {result.max_recovery_s:>14.2f}"
        )
        if r.lost_ids:
            print(f"  first lost (symbol, trade id): {r.lost_ids}")
    return {
        "name": name,
        "seed": result.seed,
        "kills": len(result.kills),
        "sent": sum(r.sent for r in rows),
        "in_kafka": sum(r.in_kafka for r in rows),
        "lost": sum(r.lost for r in rows),
        "duplicated": sum(r.duplicated for r in rows),
        "wrong_values": sum(r.wrong_values for r in rows),
        "unrepaired_gaps": sum(r.unrepaired_gaps for r in rows),
        "repaired_from_rest": sum(r.repaired_from_rest for r in rows),
        "max_recovery_s": round(result.max_recovery_s, 3),
        "passed": all(r.exact for r in rows) and len(result.kills) > 0,
    }
