"""Handing a finished drain step's memory back to the OS, so the next step starts from a low base.

A worker runs bronze, refine and gold steps one after another. Arrow's allocator and glibc's
malloc both keep freed memory for reuse, but not for each other: without this, each step's peak
stacks on the garbage the previous step left, and a worker's peak RSS is the sum, not the max.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa

_libc_name = ctypes.util.find_library("c")
_malloc_trim = getattr(ctypes.CDLL(_libc_name), "malloc_trim", None) if _libc_name else None  # glibc only


def release_unused() -> None:
    pa.default_memory_pool().release_unused()
    if _malloc_trim is not None:
        _malloc_trim(0)


def releases_memory(step):
    """Decorator for a drain step: release_unused() once the step's batches are garbage."""

    @functools.wraps(step)
    def run(*args, **kwargs):
        try:
            return step(*args, **kwargs)
        finally:
            release_unused()

    return run
