"""TrustDesk classifiers: pure ML, text and numbers in, scores and evidence out.

    from classifiers import PostInput, FeedbackInput, load_scorer
    scorer = load_scorer()
    scorer.score_posts([PostInput(id="p1", title="...", description="...")])

No Flask, no database: see docs/classifiers.md.
"""
from __future__ import annotations

from .client_negativity import ClientNegativity, FeedbackPoint, client_negativity
from .scorer import Scorer, load_scorer
from .types import Evidence, FeedbackInput, PostInput, PostScore

__all__ = ["ClientNegativity", "Evidence", "FeedbackInput", "FeedbackPoint", "PostInput", "PostScore", "Scorer",
           "client_negativity", "load_scorer"]
