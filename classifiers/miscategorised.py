"""Category model over CATEGORY_LABELS (the taxonomy + ``not_a_job``) and the
miscategorised score derived from it.

    P(miscategorised) = 1 - P'(posted category)     if a category was posted
                      = P(not_a_job)                 otherwise

A confident ``not_a_job`` prediction is the exception (product rule: a self-advertisement
in the jobs section is flagged whatever category it was filed under):

    not_a_job score = P(not_a_job)   if not_a_job is the arg-max, else 0   (no posted prior)

flags when >= its own threshold (chosen on validation by the same rule); the post's
miscategorised score is then max(1 - P'(posted), P(not_a_job)).

P' treats the poster's own choice as evidence: a prior that the posted category is
right with probability POSTED_PRIOR (the rest spread over the other real categories and,
at NOT_A_JOB_PRIOR, not_a_job) is multiplied into the text model's probabilities. The
text alone therefore has to be very sure before it overrides the poster.

Class probabilities come from a multinomial logistic regression with one temperature
fitted on out-of-fold scores (so they are calibrated, not over-confident).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression

from models.taxonomy import CATEGORY_LABELS, NOT_A_JOB

NAME = "miscategorised"
C = 8.0


def _model() -> LogisticRegression:
    return LogisticRegression(C=C, solver="lbfgs", max_iter=3000)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit(X_text, labels: list[str], groups) -> dict:
    y = np.array([CATEGORY_LABELS.index(c) for c in labels])
    # out-of-fold decision values for the temperature
    oof = np.zeros((X_text.shape[0], len(CATEGORY_LABELS)))
    from sklearn.model_selection import GroupKFold

    for tr, te in GroupKFold(n_splits=5).split(X_text, y, groups):
        m = _model().fit(X_text[tr], y[tr])
        d = m.decision_function(X_text[te])
        full = np.full((len(te), len(CATEGORY_LABELS)), -30.0)
        full[:, m.classes_] = d
        oof[te] = full

    def nll(t: float) -> float:
        p = _softmax(oof / t)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1))))

    temp = float(minimize_scalar(nll, bounds=(0.05, 20), method="bounded").x)
    lr = _model().fit(X_text, y)
    assert list(lr.classes_) == list(range(len(CATEGORY_LABELS))), "every label needs training rows"
    return {"lr": lr, "temperature": temp, "labels": list(CATEGORY_LABELS)}


def predict_proba(bundle: dict, X_text) -> np.ndarray:
    return proba_from_decision(bundle, bundle["lr"].decision_function(X_text))


def proba_from_decision(bundle: dict, decision: np.ndarray) -> np.ndarray:
    """Class probabilities from the model's decision values (temperature-scaled softmax)."""
    return _softmax(decision / bundle["temperature"])


POSTED_PRIOR = 0.80
NOT_A_JOB_PRIOR = 0.10


def posted_index(posted: list[str | None]) -> np.ndarray:
    """Column of each posted category in CATEGORY_LABELS; -1 for None or an unknown value."""
    col = {c: j for j, c in enumerate(CATEGORY_LABELS)}
    return np.fromiter((col.get(c, -1) if c is not None else -1 for c in posted), dtype=np.int64, count=len(posted))


def posterior_given_posted(proba: np.ndarray, posted: list[str | None]) -> np.ndarray:
    """P(category | text, posted category): the text posterior re-weighted by a prior that puts
    POSTED_PRIOR on the posted category, NOT_A_JOB_PRIOR on not_a_job and the rest evenly on the
    others. Rows without a posted category (or posted as not_a_job) keep the text posterior."""
    naj = CATEGORY_LABELS.index(NOT_A_JOB)
    k = len(CATEGORY_LABELS)
    idx = posted_index(posted)
    rows = np.flatnonzero((idx >= 0) & (idx != naj))
    out = proba.copy()
    if len(rows):
        prior = np.full((len(rows), k), (1.0 - POSTED_PRIOR - NOT_A_JOB_PRIOR) / (k - 2))
        prior[:, naj] = NOT_A_JOB_PRIOR
        prior[np.arange(len(rows)), idx[rows]] = POSTED_PRIOR
        w = proba[rows] * prior
        out[rows] = w / w.sum(axis=1, keepdims=True)
    return out


def miscategorised_score(proba: np.ndarray, posted: list[str | None]) -> np.ndarray:
    """1 - P(posted category | text, posted) for rows with a known posted category; otherwise
    P(not_a_job | text)."""
    naj = CATEGORY_LABELS.index(NOT_A_JOB)
    idx = posted_index(posted)
    post = posterior_given_posted(proba, posted)
    known = idx >= 0
    out = proba[:, naj].copy()
    out[known] = 1.0 - post[np.flatnonzero(known), idx[known]]
    return np.clip(out, 0.0, 1.0)


def suggestion(proba_row: np.ndarray) -> str:
    return CATEGORY_LABELS[int(np.argmax(proba_row))]


def not_a_job_score(proba: np.ndarray) -> np.ndarray:
    """P(not_a_job) where not_a_job is the arg-max, else 0 (the text alone; no posted-category prior)."""
    naj = CATEGORY_LABELS.index(NOT_A_JOB)
    return np.where(proba.argmax(axis=1) == naj, proba[:, naj], 0.0)
