"""The feedback model alone: what scoring a client's feedback needs (an import of feedback,
a client's rescoring, the follow-up re-check), without the post models.

``load_feedback_scorer`` loads only the active ``feedback`` bundle: not the post text
vectorisers, the post detectors, their stacked matrix or the rule prefilter, which
``classifiers.scorer.load_scorer`` builds and a feedback import never reads (this module
does not import ``classifiers.scorer``). The bundle is cached per process and per version,
and the whole scorer takes its feedback bundle from the same cache, so a process that loads
both (a worker) holds the feedback model once.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from . import feedback as fb_mod
from .registry import ARTIFACTS_DIR, load_bundle, read_active
from .types import FeedbackInput


def score_feedback(bundle: dict, items: Sequence[FeedbackInput]) -> list[float]:
    """The probability that each feedback is negative (``items``' ratings 1-5 or None)."""
    if not items:
        return []
    for it in items:
        if it.rating is not None and not 1 <= int(it.rating) <= 5:
            raise ValueError(f"feedback {it.id!r}: rating must be 1-5 or None")
    p = fb_mod.predict(bundle, [it.text for it in items], [it.rating for it in items])
    return [float(v) for v in p]


class FeedbackScorer:
    """``score_feedback`` and the version label of the active feedback model, as the whole
    ``Scorer`` has them (``versions["feedback"]``, ``thresholds["feedback"]``)."""

    def __init__(self, bundle: dict, metrics: dict, model_dir: Path | None = None):
        self.model_dir = model_dir
        self.bundle = bundle
        self.metrics = {"feedback": metrics}
        self.versions: dict[str, str] = {"feedback": metrics["version"]}
        self.thresholds: dict[str, float] = {"feedback": float(metrics["threshold"])}

    def score_feedback(self, items: Sequence[FeedbackInput]) -> list[float]:
        return score_feedback(self.bundle, items)


@functools.lru_cache(maxsize=8)
def feedback_bundle(model_dir: str, version: str) -> tuple[dict, dict]:
    """The feedback bundle ``version`` of ``model_dir`` and its metrics, loaded once per
    process (shared by ``load_feedback_scorer`` and ``classifiers.scorer``)."""
    return load_bundle(Path(model_dir), "feedback", version)


def load_feedback_scorer(model_dir: Path | None = None) -> FeedbackScorer:
    """The ACTIVE feedback model only (its bundle cached per process and version)."""
    root = (Path(model_dir) if model_dir is not None else ARTIFACTS_DIR).resolve()
    bundle, metrics = feedback_bundle(str(root), read_active(root)["feedback"])
    return FeedbackScorer(bundle, metrics, root)
