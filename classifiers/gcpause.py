"""``gc_paused()``: the cyclic garbage collector held off while a batch is scored.

Why: CPython's collector runs a *full* collection (every tracked object of the process: ~165k
in a bare scorer process, ~80 ms here; more in the web app or the worker) once enough objects
have survived the young collections. Scoring a batch allocates tens of thousands of tracked
objects (result objects, evidence, per-post lists) that all stay alive until the batch returns,
so they survive the young collections run in the middle of the batch and push the process
towards the next full collection: on the seed stress mix, one full collection per ~7,000 posts,
~13 us per post on average, a third of score_posts' cost beyond vectorise + predict_proba.

Scoring creates no reference cycles (only lists, tuples, dicts, frozen dataclasses, numpy and
scipy arrays, regex matches), so nothing the collector could free is left behind by pausing it:
each object is freed by reference counting exactly as before. Allocation counts keep running
while paused; after the pause the next allocation runs one young collection over whatever of
the batch is still alive (the results), instead of dozens of young collections that each
promote the half-built batch towards the old generation.

Process-wide (``gc.disable`` is), so the pause is shared: concurrent ``gc_paused()`` blocks (two
threads scoring at once) keep the collector off until the last one ends, and it is switched
back on only if it was on when the first one began. Cycles other threads create meanwhile are
collected after the pause.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # gc_paused() blocks running now (all threads)
_restore = False  # switch the collector back on when the last one ends


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off for the block (see the module docstring)."""
    global _depth, _restore
    with _lock:
        if _depth == 0:
            _restore = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _restore:
                gc.enable()
