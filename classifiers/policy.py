"""Policy detector: one calibrated logistic regression per policy type over word + char
tf-idf plus the 0/1 rule indicators, combined with the transparent rules:

    type score = max(model probability, rule precision on validation)   if a rule fired
               = model probability                                       otherwise
    type flagged = rule fired  or  model probability >= threshold(type)

Calibration is CONDITIONAL ON THE RULES BEING SILENT. A rule hit flags by itself and shows at
least the rule's validation precision, so the model probability only decides (and is only
shown on its own) for posts where no rule of that type fired. It is therefore calibrated as
P(violation of this type | no rule of this type fired, text): Platt scaling on the grouped
out-of-fold train scores of the rule-silent rows only, with Platt's (1999) smoothed targets
(N+ + 1)/(N+ + 2) and 1/(N- + 2), which keep the fit finite when the out-of-fold scores are
separable (the synthetic seed violations are). Formerly the calibration was fitted on all
rows: the rule indicator is a design column, so rule hits made the out-of-fold scores
bimodal, Platt slopes ran to 6-23 and a post the rules did not flag could show 1.00 while
the model-only thresholds sat at 0.9999+.

When the rule-silent training rows of a type hold no violation at all (the rules caught every
training positive; true for every type but off_platform), there is nothing to calibrate
against: the type's model-only probability is the constant Laplace estimate 1 / (N + 2)
(slope 0), i.e. the model never flags that type on its own and never shows a high score
without a rule hit.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from .modelling import hstack, platt_apply, platt_fit
from .policy_rules import POLICY_TYPES

NAME = "policy"
RULE_SCALE = 0.5
C = 1.0


def _model() -> LogisticRegression:
    return LogisticRegression(C=C, solver="lbfgs", max_iter=3000)


def design(X_text, R: np.ndarray):
    return hstack([X_text, rule_columns(R)])


def rule_columns(R: np.ndarray) -> np.ndarray:
    """The rule indicators as the models read them, after the text columns."""
    return R * RULE_SCALE


def smoothed_platt_fit(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling with Platt's smoothed targets; (0, logit(1 / (N + 2))) when ``y`` has no positive."""
    y = np.asarray(y, dtype=np.float64)
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        p = (n_pos + 1.0) / (len(y) + 2.0)
        return 0.0, float(np.log(p / (1.0 - p)))
    target = np.where(y > 0, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    s = np.concatenate([scores, scores])
    lab = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    return platt_fit(s, lab, np.concatenate([target, 1.0 - target]))


def calibrate(bundle: dict, decisions: list[np.ndarray]) -> np.ndarray:
    """(n, len(POLICY_TYPES)) model-only probabilities from each type's decision values."""
    return np.column_stack([platt_apply(d, bundle["platt"][t]) for d, t in zip(decisions, POLICY_TYPES)])


def combine(P_model: np.ndarray, R: np.ndarray, rule_precision: dict[str, float]) -> np.ndarray:
    floors = np.array([rule_precision.get(t, 0.0) for t in POLICY_TYPES])
    return np.where(R > 0, np.maximum(P_model, floors), P_model)


def fit_model(X, y: np.ndarray, weights: np.ndarray | None = None) -> LogisticRegression:
    """One type's regression alone (no calibration) over ``design`` columns."""
    return _model().fit(X, y, sample_weight=None if weights is None else weights / np.mean(weights))
