"""Errors of the local infrastructure: each message names the cause and the fix on one line."""


class StackError(RuntimeError):
    pass
