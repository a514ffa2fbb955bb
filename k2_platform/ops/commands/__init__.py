"""One module per `k2` subcommand; each defines `register(subparsers)`.

The handler set with `set_defaults(func=...)` is called as `func(args, settings)` and returns an
exit code (None means 0). Raise `k2_platform.ops.errors.StackError` for a user-facing one-line error.
"""
