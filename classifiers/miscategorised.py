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

from .modelling import platt_apply

NAME = "miscategorised"
C = 8.0


def _model() -> LogisticRegression:
    return LogisticRegression(C=C, solver="lbfgs", max_iter=3000)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


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


def fit_model(X, y: np.ndarray, weights: np.ndarray | None = None) -> LogisticRegression:
    """The multinomial regression alone (no temperature); ``y``: indices into CATEGORY_LABELS."""
    return _model().fit(X, y, sample_weight=None if weights is None else weights / np.mean(weights))


def full_decision(lr: LogisticRegression, X) -> np.ndarray:
    """(n, len(CATEGORY_LABELS)) decision values; a class the model never saw gets -30."""
    d = lr.decision_function(X)
    full = np.full((X.shape[0], len(CATEGORY_LABELS)), -30.0)
    full[:, lr.classes_] = d
    return full


def fit_temperature(decision: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature that minimises the log loss of out-of-fold decision values."""
    def nll(t: float) -> float:
        p = _softmax(decision / t)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1))))

    return float(minimize_scalar(nll, bounds=(0.05, 20), method="bounded").x)


#: the author-role model: P(the author offers their services or looks for work | text), a binary
#: regression over the same tf-idf rows and the phrasing signals (``signals.offer_self`` /
#: ``hire_intent``); it decides the not_a_job (wrong section) flag on its own
ROLE_C = 4.0


def fit_role(X, y: np.ndarray, weights: np.ndarray | None = None) -> LogisticRegression:
    return LogisticRegression(C=ROLE_C, solver="lbfgs", max_iter=3000).fit(
        X, y, sample_weight=None if weights is None else weights / np.mean(weights))


def role_score(bundle: dict, decision: np.ndarray) -> np.ndarray:
    """P(self-advertisement) from the role model's decision values (Platt on out-of-fold decisions)."""
    return platt_apply(decision, bundle["role_platt"])
