"""Scam detector: word (1-2) tf-idf, NB-SVM (Wang & Manning 2012): log-count-ratio scaled features
-> LinearSVC (C=1), plus dense columns read beside the text: the phrasing signals
(``signals.py``) and the scam cues (``features.SCAM_CUES``). The scorer's shared rows also hold
char n-grams; the scam model's coefficients for them are zero (``widen``). Platt-calibrated on the
out-of-fold decisions of every row (``post_training``), with EMSCAD legitimate rows re-weighted to
the real 4.84% fraud rate, so the score reads as a probability at the real base rate.

NB scaling: r_j = log((p_j / |p|_1) / (q_j / |q|_1)) with p = alpha + the column's sum over scam
rows, q = alpha + the same over legitimate rows (alpha = 1); the SVM sees ``X * r``. The scaling
is a fixed per-column factor, so it is folded into the stored coefficients (``coef = coef_fit *
r``): the shipped model is a plain linear model over the same L2-normalised tf-idf rows, scoring
costs nothing extra and term evidence (coef x tf-idf) is the true contribution. Out of fold, r is
computed on each fold's training part only.

Chosen by grouped, repeated cross-validation over all 1,512 EMSCAD rows (5 folds x 3 repeats,
base-rate-weighted PR-AUC; ``docs/classifiers.md``), tested on title + the full ad and on title +
description alone (the mapping of an ad to a post is not fixed): word-only NB + LinearSVC C=1
fitted without base-rate weights 0.536 +- 0.015 / 0.440 +- 0.021, against the former word + char
NB + LogisticRegression C=8 fitted with them 0.495 +- 0.013 / 0.355 +- 0.025 and a plain
TfidfVectorizer() + LinearSVC() 0.463 +- 0.015 / 0.345 +- 0.005. Adding char n-grams tied on the
full ad and lost on description alone; C in {0.3, 1, 3}, LogisticRegression C 32 and 40k words
were within or below the spread.

The cues are model columns, never overrides: a fired cue moves the score by its learned weight
(the former per-cue precision floors raised honest ads). There is no length or word-count
input anywhere; tf-idf rows are L2-normalised.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from .features import SCAM_CUES
from .rules import find_scam_cues
from .modelling import platt_apply

NAME = "scam"
C = 1.0
NB_ALPHA = 1.0
CUE_NAMES: tuple[str, ...] = tuple(SCAM_CUES)


def _model() -> LinearSVC:
    return LinearSVC(C=C, max_iter=5000, random_state=0)  # liblinear shuffles: seeded for determinism


def nb_ratio(X, y: np.ndarray, weights: np.ndarray, alpha: float = NB_ALPHA) -> np.ndarray:
    """Log-count ratio per column: log((p/|p|_1) / (q/|q|_1)), p/q = alpha + weighted column sums
    over scam / legitimate rows."""
    pos, neg = y == 1, y == 0
    p = alpha + np.asarray(X[pos].T @ weights[pos]).ravel()
    q = alpha + np.asarray(X[neg].T @ weights[neg]).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def _fit_nb_svm(X, y: np.ndarray, weights: np.ndarray) -> LinearSVC:
    """LinearSVC on NB-scaled features (the ratio from unweighted column sums); the ratio is folded
    into coef_. ``weights``: per-row fit weights (real rows count more than generated ones)."""
    r = nb_ratio(X, y, np.ones(X.shape[0]))
    svm = _model().fit(X @ sp.diags(r), y, sample_weight=weights / weights.mean())
    svm.coef_ = svm.coef_ * r[None, :]
    return svm


def calibrate(bundle: dict, decision: np.ndarray) -> np.ndarray:
    """The calibrated probability from the model's decision values."""
    return platt_apply(decision, bundle["platt"])


def cue_matrix(texts: list[str]) -> np.ndarray:
    """0/1 (n, len(CUE_NAMES)): which scam cues fire in each ``title + "\\n\\n" + description``."""
    F = np.zeros((len(texts), len(CUE_NAMES)), dtype=np.float32)
    col = {c: j for j, c in enumerate(CUE_NAMES)}
    for i, t in enumerate(texts):
        for h in find_scam_cues(t):
            F[i, col[h.kind]] = 1.0
    return F


def fit_model(X, y: np.ndarray, weights: np.ndarray) -> LinearSVC:
    """The NB-scaled SVM alone (no calibration)."""
    return _fit_nb_svm(X, y, np.asarray(weights, dtype=np.float64))


def widen(model: LinearSVC, n_word: int, n_char: int) -> None:
    """Insert zero coefficients for the ``n_char`` char n-gram columns after the ``n_word`` word
    columns, so the model reads the scorer's shared [word, char, dense] rows (and ignores char)."""
    c = model.coef_
    model.coef_ = np.hstack([c[:, :n_word], np.zeros((c.shape[0], n_char), dtype=c.dtype), c[:, n_word:]])
    model.n_features_in_ = model.coef_.shape[1]


def score(bundle: dict, decision: np.ndarray) -> np.ndarray:
    """The shipped scam score: the calibrated model probability (cues are model columns, never floors)."""
    return calibrate(bundle, decision)
