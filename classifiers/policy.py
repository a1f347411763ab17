"""Policy detector: one calibrated logistic regression per policy type over word + char
tf-idf plus the 0/1 rule indicators, combined with the transparent rules:

    type score = max(model probability, rule precision on validation)   if a rule fired
               = model probability                                       otherwise
    type flagged = rule fired  or  model probability >= threshold(type)
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from .modelling import hstack, oof_decision, platt_apply, platt_fit
from .policy_rules import POLICY_TYPES

NAME = "policy"
RULE_SCALE = 0.5
C = 1.0


def _model() -> LogisticRegression:
    return LogisticRegression(C=C, solver="lbfgs", max_iter=3000)


def design(X_text, R: np.ndarray):
    return hstack([X_text, R * RULE_SCALE])


def fit(X_text, R, Y: np.ndarray, groups) -> dict:
    """``Y``: (n, len(POLICY_TYPES)) 0/1; ``R``: same shape, rule indicators."""
    X = design(X_text, R)
    models, platts = {}, {}
    for j, t in enumerate(POLICY_TYPES):
        y = Y[:, j]
        oof = oof_decision(_model, X, y, groups)
        platts[t] = list(platt_fit(oof, y))
        models[t] = _model().fit(X, y)
    return {"lr": models, "platt": platts, "types": list(POLICY_TYPES)}


def predict_model(bundle: dict, X_text, R) -> tuple[np.ndarray, object]:
    X = design(X_text, R)
    P = np.column_stack([platt_apply(bundle["lr"][t].decision_function(X), bundle["platt"][t]) for t in POLICY_TYPES])
    return P, X


def combine(P_model: np.ndarray, R: np.ndarray, rule_precision: dict[str, float]) -> np.ndarray:
    floors = np.array([rule_precision.get(t, 0.0) for t in POLICY_TYPES])
    return np.where(R > 0, np.maximum(P_model, floors), P_model)
