"""`k2`: the one command-line entry point. Each subcommand lives in its own module under
`k2_platform.ops.commands` and registers itself, so adding a command touches no shared file."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from . import commands
from .errors import StackError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="k2", description="K2 market-data lakehouse: local stack, ingestion, queries, benchmarks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..settings import load_settings

    try:
        settings = load_settings()
        return args.func(args, settings) or 0
    except (StackError, FileNotFoundError, ValueError) as exc:
        print(f"k2: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
