"""`k2 chaos <scenario>` / `k2 chaos all`: failure drills on the real stack, each ending in a reconciliation against gold.

Per scenario a table (sent, in gold, lost, duplicated, recovery seconds) and its details; the last line
is one JSON object with `scenarios`, `lost`, `duplicated`, `max_recovery_s` and `passed`. Exit code 1
unless every scenario passed. A scenario is a module of ops/chaos (interface: ops/chaos/__init__.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..chaos import backlog_pause, broker_restart, catalog_outage, disconnects, drain_kill, drain_race, ingest_kill, poison, rest_gap
from ..chaos.result import ChaosResult
from ..chaos.stack import drill_stack
from .demo import recordings

# Feed side (recording -> ingest -> Kafka -> gold), then platform side (drains, broker, catalog, backlog).
_SCENARIOS = {m.NAME: m for m in (ingest_kill, disconnects, rest_gap, poison, drain_kill, drain_race, broker_restart, catalog_outage, backlog_pause)}


class _ScenarioOptions:
    """What a scenario's add_arguments() adds to: its options land under `<scenario>:<dest>`, so scenarios never
    clash; under `all` the option strings are prefixed too (`--ingest-kill-kills`), short forms dropped."""

    def __init__(self, parser, name: str, prefixed: bool):
        self.parser, self.name, self.prefixed = parser, name, prefixed

    def add_argument(self, *flags: str, **kwargs):
        longs = [f for f in flags if f.startswith("--")]
        dest = kwargs.pop("dest", None) or longs[0][2:].replace("-", "_")
        if kwargs.get("action", "store") in ("store", "append"):
            kwargs.setdefault("metavar", dest.upper())
        if self.prefixed:
            flags = tuple(f"--{self.name}-{f[2:]}" for f in longs)
        return self.parser.add_argument(*flags, dest=f"{self.name}:{dest}", **kwargs)


def register(sub) -> None:
    parser = sub.add_parser("chaos", help="failure drills: inject a fault into the real stack, then reconcile against gold (table + JSON last line)")
    scenarios = parser.add_subparsers(dest="scenario", metavar="SCENARIO", required=True)
    for name, module in _SCENARIOS.items():
        p = scenarios.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(_ScenarioOptions(p, name, prefixed=False))
        p.set_defaults(func=_run, chosen=[name])
    p = scenarios.add_parser("all", help="every scenario in turn; a scenario's options are prefixed by its name (--ingest-kill-kills)")
    for name, module in _SCENARIOS.items():
        module.add_arguments(_ScenarioOptions(p.add_argument_group(name, module.HELP), name, prefixed=True))
    p.set_defaults(func=_run, chosen=list(_SCENARIOS))


def scenario_args(args, name: str) -> argparse.Namespace:
    """The options of one scenario, under their own names."""
    prefix = f"{name}:"
    return argparse.Namespace(**{k[len(prefix) :]: v for k, v in vars(args).items() if k.startswith(prefix)})


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _run(args, settings) -> int:
    files = [Path(p) for p in recordings(settings)]
    results = []
    for name in args.chosen:
        with drill_stack(settings, name, _progress) as (drill, work_dir):
            results.append(_SCENARIOS[name].scenario(scenario_args(args, name), drill, files, work_dir, _progress))
        print_table(results[-1])
    summaries = [r.summary() for r in results]
    print(
        json.dumps(
            {
                "scenarios": summaries,
                "lost": sum(r.lost for r in results),
                "duplicated": sum(r.duplicated for r in results),
                "max_recovery_s": max(s["max_recovery_s"] for s in summaries),
                "passed": all(r.passed for r in results),
            }
        )
    )
    return 0 if all(r.passed for r in results) else 1


def print_table(result: ChaosResult) -> None:
    print(f"\n{result.name}: {'passed' if result.passed else 'FAILED'}")
    header = f"{'':<10} {'sent':>9} {'in gold':>9} {'lost':>6} {'duplicated':>10} {'recovery s':>10}"
    print(header + "\n" + "-" * len(header))
    for r in result.rows:
        print(f"{r.label:<10} {r.sent:>9,} {r.in_gold:>9,} {r.lost:>6,} {r.duplicated:>10,} {'':>10}")
    print(f"{'total':<10} {result.sent:>9,} {result.in_gold:>9,} {result.lost:>6,} {result.duplicated:>10,} {result.max_recovery_s:>10.3f}")
    for key, value in result.details.items():
        print(f"  {key}: {value}")
