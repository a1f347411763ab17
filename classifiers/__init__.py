"""TrustDesk classifiers: pure ML, text and numbers in, scores and evidence out.

    from classifiers import PostInput, FeedbackInput, load_scorer
    scorer = load_scorer()
    scorer.score_posts([PostInput(id="p1", title="...", description="...")])

No Flask, no database: see docs/classifiers.md.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# light (numpy-free dataclasses and one function): imported eagerly. The function
# ``client_negativity`` must be bound after its submodule of the same name is imported.
from .client_negativity import ClientNegativity, FeedbackPoint, client_negativity
from .types import Evidence, FeedbackInput, PostInput, PostScore

#: loaded on first use (PEP 562), so importing the package or one of its submodules
#: (``classifiers.features``, as the web app does) does not import the scorer and its
#: models' libraries (scikit-learn, skops: ~3 s)
_LAZY = {"Scorer": "scorer", "load_scorer": "scorer"}
__all__ = ["ClientNegativity", "Evidence", "FeedbackInput", "FeedbackPoint", "PostInput",
           "PostScore", "Scorer", "client_negativity", "load_scorer"]

if TYPE_CHECKING:
    from .scorer import Scorer, load_scorer  # noqa: F401


def __getattr__(name: str):  # noqa: ANN202
    if name not in _LAZY:
        raise AttributeError(f"module 'classifiers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value
