"""Running a job in this process: inline after a commit when there is no Redis, or in the
children of an ``InlineRunner`` (``app.jobs.inline``), which hands itself in here through
``background`` - so dispatching never imports the runner.
"""
from __future__ import annotations

import importlib
import logging
from contextvars import ContextVar
from typing import Any

from .spec import JobSpec

log = logging.getLogger(__name__)

#: the runner that takes this context's inline jobs (set by ``inline.inline_in_background``);
#: anything with ``submit(spec)``
background: ContextVar[Any | None] = ContextVar("trustdesk_inline_runner", default=None)


def background_runner() -> Any | None:
    """The runner that takes this context's inline jobs, if any (``run_inline``)."""
    return background.get()


def run_inline(spec: JobSpec) -> str:
    if spec.at is not None:
        from models import utcnow

        if spec.at > utcnow():
            return "inline-deferred"
    runner = background_runner()
    if runner is not None:
        runner.submit(spec)
        return "inline-background"
    return run_now(spec)


def run_now(spec: JobSpec) -> str:
    try:
        resolve(spec.func)(*spec.args)
        return "inline"
    except Exception:  # noqa: BLE001 - committed data is safe; the sweep retries
        log.exception("inline job %s failed; the sweep will retry it", spec.job_id)
        return "inline-failed"


def freeze_long_lived_objects() -> None:
    """Move every object alive now out of the cyclic garbage collector's way (``gc.freeze``),
    in a process that has just loaded what it keeps until it ends (the app, the models): its
    full collections then traverse only what came after, instead of the hundreds of
    thousands of objects of the models. Nothing frozen is leaked: reference counting still
    frees it; only a reference cycle among frozen objects would wait for the process end."""
    import gc

    gc.collect()
    gc.freeze()


def resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)
