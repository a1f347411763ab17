"""Scam detector: the average of two linear members (``fit_blend``), folded into one linear model:
word (1-2) tf-idf, NB-SVM (Wang & Manning 2012): log-count-ratio scaled features -> LinearSVC (C=1),
and a plain LinearSVC (C=1) over word + char (3-5) tf-idf; both read the dense columns beside the
text: the phrasing signals (``signals.py``) and the scam cues (``features.SCAM_CUES``). The average
(issue 23, second pass) was chosen by the same grouped 2x5-fold CV over all rows: EMSCAD PR-AUC at
the real base rate 0.507 -> 0.520, recall at precision 0.9 0.236 -> 0.377, ROC-AUC 0.847 -> 0.844
(see docs/classifiers.md). The first member's history follows. Platt-calibrated on the
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


#: weight of the word + char LinearSVC member in the shipped average (the NB-SVM gets 1 - BLEND)
BLEND = 0.5


def fit_blend(Xw, X, extras: np.ndarray, y: np.ndarray, weights: np.ndarray) -> LinearSVC:
    """The shipped scam model: the average of two linear members' decision values, folded into one
    linear model over the shared [word, char, dense] rows (so scoring costs what one model costs):

    * the NB-scaled LinearSVC over word tf-idf + dense columns (``fit_model``; char coefficients 0),
    * a plain LinearSVC(C=1) over word + char tf-idf + the same dense columns.

    ``Xw``: the word block, ``X``: the [word, char] blocks (``Xw`` first), ``extras``: the dense columns."""
    from .modelling import hstack

    w = np.asarray(weights, dtype=np.float64)
    nb = fit_model(hstack([Xw, extras]), y, w)
    widen(nb, Xw.shape[1], X.shape[1] - Xw.shape[1])
    wc = _model().fit(hstack([X, extras]), y, sample_weight=w / w.mean())
    nb.coef_ = (1.0 - BLEND) * nb.coef_ + BLEND * wc.coef_
    nb.intercept_ = (1.0 - BLEND) * nb.intercept_ + BLEND * wc.intercept_
    return nb


def widen(model: LinearSVC, n_word: int, n_char: int) -> None:
    """Insert zero coefficients for the ``n_char`` char n-gram columns after the ``n_word`` word
    columns, so the model reads the scorer's shared [word, char, dense] rows (and ignores char)."""
    c = model.coef_
    model.coef_ = np.hstack([c[:, :n_word], np.zeros((c.shape[0], n_char), dtype=c.dtype), c[:, n_word:]])
    model.n_features_in_ = model.coef_.shape[1]


def score(bundle: dict, decision: np.ndarray) -> np.ndarray:
    """The shipped scam score: the calibrated model probability (cues are model columns, never floors)."""
    return calibrate(bundle, decision)
