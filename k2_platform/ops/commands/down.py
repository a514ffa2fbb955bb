"""`k2 down`: stop the processes `k2 up` started; data stays unless --wipe."""

from __future__ import annotations

from ..stack import down
from .up import add_profile_argument, with_profile


def register(sub) -> None:
    p = sub.add_parser("down", help="stop the services k2 started (by pid); committed data is kept")
    add_profile_argument(p)
    p.add_argument("--wipe", action="store_true", help="also delete the state directory (all local data)")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    down(with_profile(settings, args.profile), wipe=args.wipe)
    return 0
