"""Shared modelling helpers: text cleaning, tf-idf vectorisers, Platt calibration,
out-of-fold scores, threshold choice at a target precision, top contributing terms."""
from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

_MASK_RE = re.compile(r"#(URL|EMAIL|PHONE)_[0-9a-f]+#")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_RE = re.compile(r"\bhttps?://\S+|\bwww\.\S+")


def clean_text(s: str) -> str:
    """Normalise anonymised EMSCAD placeholders and real emails/URLs to shared tokens.

    Does not change anything the evidence offsets refer to: offsets always index the raw
    input fields; cleaned text only feeds the vectorisers.
    """
    s = _MASK_RE.sub(lambda m: f" x{m.group(1).lower()}x ", s)
    s = _EMAIL_RE.sub(" xemailx ", s)
    return _URL_RE.sub(" xurlx ", s)


def make_word_vectorizer(max_features: int) -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.9, max_features=max_features, sublinear_tf=True,
                           strip_accents="unicode", lowercase=True, dtype=np.float32, token_pattern=r"(?u)\b\w[\w']*\b")


def make_char_vectorizer(max_features: int) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, max_df=0.9, max_features=max_features,
                           sublinear_tf=True, lowercase=True, dtype=np.float32)


def platt_fit(scores: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """Platt scaling p = sigmoid(a*s + b), fitted with (optional) sample weights."""
    lr = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    lr.fit(scores.reshape(-1, 1), y, sample_weight=weights)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def platt_apply(scores: np.ndarray, ab: tuple[float, float] | list[float]) -> np.ndarray:
    z = ab[0] * np.asarray(scores, dtype=np.float64) + ab[1]
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def oof_decision(make_model, X, y, groups, sample_weight=None, n_splits: int = 5) -> np.ndarray:
    """Out-of-fold decision_function values with GroupKFold (deterministic: no shuffling)."""
    out = np.zeros(X.shape[0], dtype=np.float64)
    gkf = GroupKFold(n_splits=n_splits)
    for tr, te in gkf.split(X, y, groups):
        m = make_model()
        m.fit(X[tr], y[tr], sample_weight=None if sample_weight is None else sample_weight[tr])
        out[te] = m.decision_function(X[te])
    return out


def threshold_for_precision(p: np.ndarray, y: np.ndarray, target: float, weights: np.ndarray | None = None,
                            min_threshold: float = 0.5) -> float:
    """Smallest threshold whose (weighted) precision on these rows is >= target.

    Falls back to the threshold with the best precision if the target is never reached.
    Never goes below ``min_threshold`` (a flag should mean "more likely than not").
    """
    w = np.ones_like(p) if weights is None else weights
    order = np.argsort(-p, kind="stable")
    ps, ys, ws = p[order], y[order], w[order]
    tp = np.cumsum(ws * ys)
    fp = np.cumsum(ws * (1 - ys))
    prec = tp / np.maximum(tp + fp, 1e-12)
    # candidate cut after position i -> threshold ps[i]; only at distinct score boundaries
    best = None
    for i in range(len(ps) - 1, -1, -1):
        if i + 1 < len(ps) and ps[i + 1] == ps[i]:
            continue
        if prec[i] >= target and tp[i] > 0:
            best = ps[i]
            break
    if best is None:
        best = ps[int(np.argmax(prec))] if len(ps) else 1.0
    return float(max(best, min_threshold))


def hstack(blocks) -> sp.csr_matrix:
    return sp.hstack(blocks, format="csr", dtype=np.float32)


def top_terms(x_row: sp.csr_matrix, coef: np.ndarray, vocab_inv: np.ndarray, k: int = 3) -> list[tuple[str, float]]:
    """Top-k (term, coef*tfidf) with positive contribution, from one sparse row of word features."""
    row = x_row.tocsr()
    idx, vals = row.indices, row.data
    mask = idx < len(vocab_inv)
    idx, vals = idx[mask], vals[mask]
    if len(idx) == 0:
        return []
    contrib = vals * coef[idx]
    order = np.argsort(-contrib, kind="stable")[:k]
    return [(str(vocab_inv[idx[j]]), float(contrib[j])) for j in order if contrib[j] > 0]


def locate_term(term: str, title: str, description: str) -> tuple[str, int, int] | None:
    """Find a word n-gram (as the vectoriser tokenised it) in the raw fields."""
    parts = [re.escape(t) for t in term.split()]
    pat = re.compile(r"(?<![\w])" + r"\W+".join(parts) + r"(?![\w])", re.IGNORECASE)
    for field, text in (("title", title), ("description", description)):
        m = pat.search(text)
        if m:
            return field, m.start(), m.end()
    return None


def pack_vectorizer(v: TfidfVectorizer) -> dict:
    """Compact, skops-friendly form of a fitted TfidfVectorizer (terms + idf arrays)."""
    terms = np.empty(len(v.vocabulary_), dtype=object)
    for t, j in v.vocabulary_.items():
        terms[j] = t
    return {"analyzer": v.analyzer, "params": {k: v.get_params()[k] for k in ("ngram_range", "min_df", "max_df", "max_features")},
            "terms": np.array(terms.tolist(), dtype=str), "idf": np.asarray(v.idf_, dtype=np.float64)}


def unpack_vectorizer(d: dict, template: TfidfVectorizer | None = None) -> TfidfVectorizer:
    """Rebuild a vectoriser; ``template`` (unfitted, same settings) defaults to the post vectorisers."""
    if template is None:
        template = make_char_vectorizer(None) if d["analyzer"] == "char_wb" else make_word_vectorizer(None)
    v = template
    v.vocabulary_ = {str(t): i for i, t in enumerate(d["terms"].tolist())}
    v.idf_ = d["idf"]
    return v
