"""Garbage collection paused around the blocks that build large, acyclic structures (loading a
bank or an audit, scoring, rendering): a speed measure, not part of any one job."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Run a block without automatic garbage collection, then restore it as it was.

    For the blocks that build large, long-lived, acyclic structures (a bank, an audit, a result,
    a report's context): every few hundred new objects CPython's collector would otherwise
    stop and traverse everything alive, the structure being built included, which makes the
    cost of a run grow faster than its size. Nothing they build is a reference cycle, so
    nothing is left for the collector to find; it runs as usual after the block.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
