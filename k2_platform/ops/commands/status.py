"""`k2 status`: what runs and where."""

from __future__ import annotations

import json

from ..stack import status
from .up import add_profile_argument, with_profile


def register(sub) -> None:
    p = sub.add_parser("status", help="show what runs and where")
    add_profile_argument(p)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    report = status(with_profile(settings, args.profile))
    for name, svc in report["services"].items():
        state = "running" if svc["running"] else "stopped"
        print(f"{name:<10} {state:<8} pid={svc['pid'] or '-':<8} answers={'yes' if svc['answers'] else 'no'}")
    print(f"kafka      {report['kafka_bootstrap']}")
    print(f"catalog    {report['catalog_uri']} ({report['catalog_profile']})")
    print(f"state      {report['state_dir']}")
    if args.json:
        print(json.dumps(report))
    return 0
