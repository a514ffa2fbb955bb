"""`k2 bench <name>`: benchmarks, printed as a table and, as the last line, one JSON object."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time

from ...costs import bench_results
from .. import bench
from ..memory import peak_rss_mb


def print_results(results: dict) -> None:
    width = max(len(k) for k in results)
    print("-" * (width + 24))
    for key, value in results.items():
        print(
            f"{key:<{width}}  {value:>20,}" if isinstance(value, (int, float)) and not isinstance(value, bool) else f"{key:<{width}}  {value!s:>20}"
        )
    print("-" * (width + 24))
    print(json.dumps(results, sort_keys=False, default=str))


def register(sub) -> None:
    parser = sub.add_parser("bench", help="run a benchmark (table + JSON last line)")
    benches = parser.add_subparsers(dest="bench", metavar="BENCH", required=True)
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{bench.__name__}.{info.name}")
        p = benches.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        p.add_argument("--json", action="store_true", help="accepted for clarity: the last line is always the JSON result")
        module.add_arguments(p)
        p.set_defaults(func=_runner(module))


def _runner(module):
    def run(args, settings):
        cpu_started = time.process_time()
        results = module.run(args, settings)
        results.setdefault("peak_rss_mb", peak_rss_mb())
        # CPU of this process over the whole run (children such as a started broker excluded): throughput per core.
        results.setdefault("cpu_s", round(time.process_time() - cpu_started, 3))
        print_results(results)
        print(f"saved to {bench_results.save(settings, module.NAME, results, sys.argv[1:])}", file=sys.stderr)

    return run
