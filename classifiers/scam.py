"""Scam detector: word (1-2) + char_wb (3-5) tf-idf, NB-SVM style log-count-ratio scaling,
-> logistic regression (C=8) fitted with EMSCAD legitimate rows re-weighted to the real fraud
rate (4.84%); Platt-calibrated on out-of-fold (grouped) train scores with the same weights.

NB scaling (Wang & Manning 2012): r_j = log((p_j / |p|_1) / (q_j / |q|_1)) with
p = alpha + sum of the tf-idf column over scam rows, q = alpha + the same over legitimate rows
(both sums base-rate weighted, alpha = 1); the regression sees ``X * r``. The scaling is a fixed
per-column factor, so it is folded into the stored coefficients (``coef = coef_fit * r``): the
shipped model is a plain LogisticRegression over the same L2-normalised tf-idf rows, scoring
costs nothing extra and term evidence (coef x tf-idf) is the true contribution. In the
out-of-fold scores used for calibration, r is computed on each fold's training part only.

Scam-cue regexes (features.SCAM_CUES) count the way the policy rules do: a fired cue
raises the scam score to at least that cue's *precision floor*,

    scam score = max(model probability, max over fired cues of floor(cue))

where floor(cue) = the 10% quantile (a one-sided 90% lower bound) of Beta(1 + TP, 1 + FP),
TP/FP being the cue's hits on VALIDATION rows (EMSCAD legitimate rows re-weighted to the
real 4.84% fraud rate, seed rows weight 1). The lower bound, not the raw precision, because
most cues fire on only a handful of validation rows: a cue seen 4 times, all scams, gets
0.63 rather than 1.0. A cue that fires on any short honest validation post gets floor 0.
A cue therefore flags on its own only when its floor reaches the scam threshold; cues with
poor (or too little) validation evidence only add evidence.

The cues are not model inputs: as 0/1 features (with client payment-verification and
account age) they lowered grouped EMSCAD PR-AUC (EMSCAD legitimate ads also give emails
and phone numbers). There is no length or word-count input anywhere; tf-idf rows are
L2-normalised.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.stats import beta
from sklearn.linear_model import LogisticRegression

from .features import SCAM_CUES
from .rules import find_scam_cues
from .modelling import oof_decision, platt_apply, platt_fit

NAME = "scam"
#: chosen on VALIDATION (base-rate-weighted EMSCAD validation PR-AUC of the model alone), grid
#: alpha {0.1, 0.3, 1} x C {4, 8, 16, 32, 64} (x binarised ratio counts); best 0.644 (alpha 1, C 32),
#: a tie within 0.005 goes to the stronger regularisation -> alpha 1, C 8 (0.642). The former
#: model (no NB scaling, unweighted fit, C=64) scores 0.519 on the same rows. See docs/classifiers.md.
C = 8.0
NB_ALPHA = 1.0
#: quantile of Beta(1 + TP, 1 + FP) used as a cue's precision floor (a 90% lower bound)
CUE_LOWER_Q = 0.10
CUE_NAMES: tuple[str, ...] = tuple(SCAM_CUES)


def _model() -> LogisticRegression:
    return LogisticRegression(C=C, solver="lbfgs", max_iter=3000)


def nb_ratio(X, y: np.ndarray, weights: np.ndarray, alpha: float = NB_ALPHA) -> np.ndarray:
    """Log-count ratio per column: log((p/|p|_1) / (q/|q|_1)), p/q = alpha + weighted column sums
    over scam / legitimate rows."""
    pos, neg = y == 1, y == 0
    p = alpha + np.asarray(X[pos].T @ weights[pos]).ravel()
    q = alpha + np.asarray(X[neg].T @ weights[neg]).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def _fit_nb_lr(X, y: np.ndarray, weights: np.ndarray) -> LogisticRegression:
    """LR on NB-scaled features, fitted with the base-rate weights; the ratio is folded into coef_."""
    r = nb_ratio(X, y, weights)
    lr = _model().fit(X @ sp.diags(r), y, sample_weight=weights / weights.mean())
    lr.coef_ = lr.coef_ * r[None, :]
    return lr


class _InFoldNB:
    """``_fit_nb_lr`` as an estimator, so ``modelling.oof_decision`` fits the NB ratio inside
    each fold (never on the rows it then scores)."""

    def fit(self, X, y, sample_weight):  # noqa: ANN001
        self.lr = _fit_nb_lr(X, y, sample_weight)
        return self

    def decision_function(self, X):  # noqa: ANN001
        return self.lr.decision_function(X)


def _oof_decision(X, y: np.ndarray, groups, weights: np.ndarray) -> np.ndarray:
    """Out-of-fold decision values (GroupKFold, no shuffling); the NB ratio is fitted in-fold."""
    return oof_decision(_InFoldNB, X, y, groups, sample_weight=weights)


def fit(X_text, y, groups, calib_weights) -> dict:
    """``calib_weights``: EMSCAD legitimate rows re-weighted to the real fraud rate (seed rows 1);
    used for the NB ratio, the regression fit and the Platt calibration."""
    w = np.asarray(calib_weights, dtype=np.float64)
    oof = _oof_decision(X_text, y, groups, w)
    platt = platt_fit(oof, y, w)
    lr = _fit_nb_lr(X_text, y, w)
    return {"lr": lr, "platt": list(platt)}


def predict(bundle: dict, X_text) -> np.ndarray:
    """Calibrated probability of fraud per row."""
    return calibrate(bundle, bundle["lr"].decision_function(X_text))


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


def cue_floors(F_val: np.ndarray, y_val: np.ndarray, w_val: np.ndarray, F_short_honest: np.ndarray | None) -> dict[str, dict]:
    """Per cue, on VALIDATION rows: weighted TP/FP, raw precision and the floor (90% lower bound;
    0 when the cue fires on a short honest validation post or never fires)."""
    out = {}
    for j, c in enumerate(CUE_NAMES):
        f = F_val[:, j] > 0
        tp = float((w_val * (y_val == 1) * f).sum())
        fp = float((w_val * (y_val == 0) * f).sum())
        sh = int(F_short_honest[:, j].sum()) if F_short_honest is not None and len(F_short_honest) else 0
        floor = float(beta.ppf(CUE_LOWER_Q, 1.0 + tp, 1.0 + fp)) if f.any() and sh == 0 else 0.0
        out[c] = {"n_fired": int(f.sum()), "tp_weighted": tp, "fp_weighted": fp,
                  "precision": tp / (tp + fp) if tp + fp else None, "short_honest_validation_hits": sh, "floor": floor}
    return out


def apply_cues(p_model: np.ndarray, F: np.ndarray, floors: dict[str, float]) -> np.ndarray:
    """max(model probability, floor of every fired cue)."""
    fl = np.array([floors.get(c, 0.0) for c in CUE_NAMES], dtype=np.float64)
    return np.maximum(p_model, (F * fl).max(axis=1)) if len(F) else p_model


def predict_shipped(bundle: dict, X_text, F: np.ndarray) -> np.ndarray:
    """The shipped scam score: calibrated model probability raised by fired cues."""
    return shipped_score(bundle, bundle["lr"].decision_function(X_text), F)


def shipped_score(bundle: dict, decision: np.ndarray, F: np.ndarray) -> np.ndarray:
    """``predict_shipped`` from the model's decision values."""
    return apply_cues(calibrate(bundle, decision), F, bundle.get("cue_floor", {}))
