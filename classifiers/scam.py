"""Scam detector: word (1-2) + char_wb (3-5) tf-idf -> logistic regression (C=64), Platt-calibrated
on out-of-fold (grouped) train scores re-weighted to the real EMSCAD fraud rate (4.84%).

Scam-cue regexes (features.SCAM_CUES) and contact detectors provide the *evidence* spans.
They were tried as model inputs (0/1 indicators, plus client payment-verification and
account age) and lowered grouped EMSCAD PR-AUC (EMSCAD legitimate ads also give emails
and phone numbers), so the shipped model does not use them. There is no length or
word-count input anywhere; tf-idf rows are L2-normalised.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from .modelling import oof_decision, platt_apply, platt_fit

NAME = "scam"
#: re-selected on VALIDATION after the seed corpus grew (grid 4..256, base-rate-weighted EMSCAD
#: validation PR-AUC: 4 .502, 8 .501, 16 .496, 32 .521, 64 .528, 128 .529, 256 .498; a tie
#: within 0.005 goes to the stronger regularisation)
C = 64.0


def _model() -> LogisticRegression:
    return LogisticRegression(C=C, solver="lbfgs", max_iter=3000)


def fit(X_text, y, groups, calib_weights) -> dict:
    oof = oof_decision(_model, X_text, y, groups)
    platt = platt_fit(oof, y, calib_weights)
    lr = _model().fit(X_text, y)
    return {"lr": lr, "platt": list(platt)}


def predict(bundle: dict, X_text) -> np.ndarray:
    """Calibrated probability of fraud per row."""
    return platt_apply(bundle["lr"].decision_function(X_text), bundle["platt"])
