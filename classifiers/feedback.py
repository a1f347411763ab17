"""Feedback negativity: tf-idf text model combined with the star rating.

Stage 1: word + char tf-idf -> logistic regression (text only).
Stage 2: logistic regression over [out-of-fold text logit, star score, stars missing]
         -> probability the feedback is negative (calibrated by construction).

The star score is ordinal, (3 - stars) / 2 (1 star -> 1, 5 stars -> -1, missing -> 0), so
fewer stars can never make a feedback look *less* negative (one-hot stars learned
non-monotone weights, e.g. 5 stars more negative than 4, from the few rated rows).
"""
from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .modelling import hstack, oof_decision, pack_vectorizer, unpack_vectorizer

NAME = "feedback"
C = 4.0


def make_vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=20000, sublinear_tf=True, strip_accents="unicode",
                           dtype=np.float32, token_pattern=r"(?u)\b\w[\w']*\b")
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, max_features=20000, sublinear_tf=True,
                           dtype=np.float32)
    return word, char


def _model() -> LogisticRegression:
    return LogisticRegression(C=C, solver="lbfgs", max_iter=3000)


def rating_block(ratings: list[int | None]) -> np.ndarray:
    """[(3 - stars) / 2, stars missing] per feedback."""
    out = np.zeros((len(ratings), 2), dtype=np.float64)
    for i, r in enumerate(ratings):
        if r is None:
            out[i, 1] = 1.0
        else:
            out[i, 0] = (3.0 - int(r)) / 2.0
    return out


def fit(texts: list[str], y: np.ndarray, ratings: list[int | None], groups) -> dict:
    word, char = make_vectorizers()
    X = hstack([word.fit_transform(texts), char.fit_transform(texts)])
    oof = oof_decision(_model, X, y, groups)
    text_lr = _model().fit(X, y)
    comb = LogisticRegression(C=10.0, solver="lbfgs", max_iter=2000).fit(np.column_stack([oof, rating_block(ratings)]), y)
    return {"word": pack_vectorizer(word), "char": pack_vectorizer(char), "text_lr": text_lr, "combiner": comb}


def predict(bundle: dict, texts: list[str], ratings: list[int | None]) -> np.ndarray:
    if "_vec" not in bundle:  # unpack once per loaded bundle
        bundle["_vec"] = (unpack_vectorizer(bundle["word"], make_vectorizers()[0]), unpack_vectorizer(bundle["char"], make_vectorizers()[1]))
    word, char = bundle["_vec"]
    X = hstack([word.transform(texts), char.transform(texts)])
    z = bundle["text_lr"].decision_function(X)
    return bundle["combiner"].predict_proba(np.column_stack([z, rating_block(ratings)]))[:, 1]
