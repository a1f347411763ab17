"""Deprecated: the worker class is ``app.jobs.worker.AppWorker``.

``rq worker -w app.worker.AppWorker`` keeps working for this release, with a
DeprecationWarning; use ``-w app.jobs.worker.AppWorker``. This module goes in the next one.
"""
from __future__ import annotations

import warnings

from .jobs.worker import AppWorker

__all__ = ["AppWorker"]

warnings.warn("app.worker.AppWorker is deprecated and will be removed in the next release: "
              "use app.jobs.worker.AppWorker (rq worker -w app.jobs.worker.AppWorker)",
              DeprecationWarning, stacklevel=2)
