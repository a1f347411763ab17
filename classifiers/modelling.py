"""Shared modelling helpers: text cleaning, tf-idf vectorisers, Platt calibration,
out-of-fold scores, threshold choice at a target precision, top contributing terms."""
from __future__ import annotations

import functools
import re

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import GroupKFold

_MASK_RE = re.compile(r"#(URL|EMAIL|PHONE)_[0-9a-f]+#")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_RE = re.compile(r"\bhttps?://\S+|\bwww\.\S+")


def clean_text(s: str) -> str:
    """Normalise anonymised EMSCAD placeholders and real emails/URLs to shared tokens.

    Does not change anything the evidence offsets refer to: offsets always index the raw
    input fields; cleaned text only feeds the vectorisers.
    """
    # each substitution only runs if its required literal is present (same result, faster)
    if "#" in s:
        s = _MASK_RE.sub(lambda m: f" x{m.group(1).lower()}x ", s)
    if "@" in s:
        s = _EMAIL_RE.sub(" xemailx ", s)
    if "http" in s or "www." in s:
        s = _URL_RE.sub(" xurlx ", s)
    return s


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
    """Lowest threshold >= ``min_threshold`` whose (weighted) precision on these rows is >= target.

    Candidates are the distinct scores >= ``min_threshold``. If none reaches the target, the
    candidate with the best precision; if there is no candidate, ``min_threshold`` itself.
    """
    w = np.ones_like(p) if weights is None else weights
    order = np.argsort(-p, kind="stable")
    ps, ys, ws = p[order], y[order], w[order]
    tp = np.cumsum(ws * ys)
    fp = np.cumsum(ws * (1 - ys))
    prec = tp / np.maximum(tp + fp, 1e-12)
    # candidate cut after position i -> threshold ps[i]; only at distinct score boundaries
    cands = [i for i in range(len(ps)) if ps[i] >= min_threshold and (i + 1 == len(ps) or ps[i + 1] != ps[i])]
    if not cands:
        return float(min_threshold)
    for i in reversed(cands):  # lowest threshold first
        if prec[i] >= target and tp[i] > 0:
            return float(ps[i])
    return float(ps[max(cands, key=lambda i: prec[i])])


def hstack(blocks) -> sp.csr_matrix:
    return sp.hstack(blocks, format="csr", dtype=np.float32)


def top_terms(X, rows: np.ndarray, W: np.ndarray, cls: np.ndarray, n_cols: int, k: int = 3,
              names: list[str] | None = None) -> list[list[tuple[int | str, float]]]:
    """Top contributing terms of many rows at once: for each (r, c) in zip(rows, cls), the
    top-k (column, X[r, j] * W[c, j]) with positive contribution over the columns j < n_cols
    of CSR matrix X, highest first, ties in stored order; ``names[j]`` instead of the column
    ``j`` when ``names`` is given. ``rows`` may repeat (one row scored against several
    coefficient rows). One sorted pass over the selected CSR entries; only the k kept per
    request reach Python."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return []
    start, stop = X.indptr[rows], X.indptr[rows + 1]
    lens = stop - start
    seg = np.repeat(np.arange(len(rows)), lens)  # which request each stored entry belongs to
    pos = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(start, lens)
    idx, vals = X.indices[pos], X.data[pos]
    if X.shape[1] > n_cols:  # X holds other columns too
        keep = idx < n_cols
        seg, idx, vals = seg[keep], idx[keep], vals[keep]
    contrib = vals.astype(np.float64) * W[np.asarray(cls)[seg], idx]
    # only positive contributions are ever kept, and in descending order they all come before the
    # others: dropping the rest first leaves the same top k, in the same (stable) order
    pos = contrib > 0
    seg, idx, contrib = seg[pos], idx[pos], contrib[pos]
    order = by_request_then_descending(seg, contrib, len(rows))
    counts = np.bincount(seg, minlength=len(rows))
    rank = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)  # place within its request
    order = order[rank < k]
    cols = idx[order].tolist()
    out: list[list[tuple[int | str, float]]] = [[] for _ in range(len(rows))]
    for s, j, c in zip(seg[order].tolist(), cols if names is None else [names[j] for j in cols], contrib[order].tolist()):
        out[s].append((j, c))
    return out


def by_request_then_descending(seg: np.ndarray, contrib: np.ndarray, n_requests: int) -> np.ndarray:
    """``np.lexsort((-contrib, seg))``: by request, then contribution descending, ties in stored
    order. Done as two stable sorts (by contribution, then by request) because the request ids
    sort as int16 with numpy's radix sort: ~3x faster than lexsort on a batch's entries."""
    order = np.argsort(-contrib, kind="stable")
    key = seg[order]
    if n_requests <= np.iinfo(np.int16).max:
        key = key.astype(np.int16)
    return order[np.argsort(key, kind="stable")]


class StackedLinear:
    """The decision functions of several fitted linear models (LogisticRegression) that read the
    same sparse rows: one sparse product per coefficient dtype instead of one scikit-learn call
    (input validation, a float copy of X, a matrix-vector product) per model.

    ``decisions(X, extras)[k]`` equals ``models[k].decision_function(hstack([X, extras[k]]))``
    bit for bit (``extras[k]``: the dense columns model k reads after X's ``n_cols``, or None
    when it reads X alone). Why the floats are identical: scipy's CSR product adds up each output
    element over the row's stored entries in stored order, whatever the number of columns on the
    right, in the coefficients' dtype; ``hstack`` gives rows of X's entries in sorted column order
    (hence X must have sorted indices, as the tf-idf vectorisers produce) followed by the
    non-zero extras in column order; so the text sum, then each non-zero extra's product added
    in column order, then the intercept, is the same arithmetic in the same order.
    Unit-tested against scikit-learn (``tests/unit/classifiers/test_stacked_linear.py``) and
    pinned by the scorer's golden output."""

    def __init__(self, models: list, n_cols: int):
        self._intercepts = [m.intercept_ for m in models]
        self._extra_coef = [m.coef_[:, n_cols:] for m in models]  # (classes, extra columns)
        by_dtype: dict[np.dtype, list[int]] = {}
        for k, m in enumerate(models):
            by_dtype.setdefault(m.coef_.dtype, []).append(k)
        #: per dtype: the stacked text coefficients (n_cols, all classes) and each model's columns in them
        self._groups: list[tuple[np.ndarray, list[tuple[int, int, int]]]] = []
        for ks in by_dtype.values():
            W = np.ascontiguousarray(np.vstack([models[k].coef_[:, :n_cols] for k in ks]).T)
            ends = np.cumsum([models[k].coef_.shape[0] for k in ks]).tolist()
            self._groups.append((W, [(k, e - models[k].coef_.shape[0], e) for k, e in zip(ks, ends)]))

    def decisions(self, X, extras: list[np.ndarray | None]) -> list[np.ndarray]:
        """One decision array per model: (n,) for a binary model, (n, classes) otherwise."""
        if not X.has_sorted_indices:
            raise ValueError("StackedLinear needs CSR rows with sorted indices (see the class docstring)")
        out: list[np.ndarray] = [None] * len(self._intercepts)  # type: ignore[list-item]
        for W, members in self._groups:
            D = X @ W
            for k, a, b in members:
                S = self._add_extras(D[:, a:b], extras[k], self._extra_coef[k], X.dtype)
                dec = S + self._intercepts[k]
                out[k] = dec.reshape(-1) if dec.shape[1] == 1 else dec
        return out

    @staticmethod
    def _add_extras(S: np.ndarray, E: np.ndarray | None, coef: np.ndarray, dtype) -> np.ndarray:
        """``S`` plus each non-zero extra column's product, column by column (the order hstack
        stores them in); extras are cast to X's dtype first, as hstack does."""
        if E is None or not E.any():
            return S
        S = S.copy()
        E = E.astype(dtype, copy=False)
        for j in range(E.shape[1]):
            rows = np.flatnonzero(E[:, j])
            if len(rows):
                S[rows] += E[rows, j:j + 1] * coef[:, j]
        return S


@functools.lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str]:
    parts = [re.escape(t) for t in term.split()]
    return re.compile(r"(?<![\w])" + r"\W+".join(parts) + r"(?![\w])", re.IGNORECASE)


def locate_term(term: str, title: str, description: str) -> tuple[str, int, int] | None:
    """Find a word n-gram (as the vectoriser tokenised it) in the raw fields."""
    pat = _term_pattern(term)
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


def threshold_rule(p_val: np.ndarray, y_val: np.ndarray, target: float, weights: np.ndarray | None = None,
                   honest_scores: np.ndarray | None = None, min_threshold: float = 0.5) -> tuple[float, dict]:
    """THE threshold rule (validation data only, never test):

        t = the lowest threshold that (a) reaches ``target`` (weighted) precision on the
            validation rows, (b) is >= ``min_threshold`` (0.5: a flag means "more likely than
            not"), and (c) is strictly above every score a short honest VALIDATION post gets
            for this detector (so none of them is flagged).

    Returns (t, notes) where notes record which constraint was binding."""
    hmax = float(np.max(honest_scores)) if honest_scores is not None and len(honest_scores) else None
    floor = min_threshold if hmax is None or hmax < min_threshold else float(np.nextafter(hmax, np.inf))
    t_prec = threshold_for_precision(p_val, y_val, target, weights, min_threshold=min_threshold)
    t = threshold_for_precision(p_val, y_val, target, weights, min_threshold=floor)
    notes = {"rule": "lowest t >= max(min_threshold, next float above max short-honest validation score) "
                     "with validation precision >= target",
             "t_validation_precision_only": t_prec, "min_threshold": min_threshold, "max_short_honest_validation_score": hmax,
             "binding": "short_honest_validation" if t != t_prec else ("min_threshold" if t == min_threshold else "validation_precision")}
    return float(t), notes


def binary_summary(p: np.ndarray, y: np.ndarray, w: np.ndarray | None, thr: float) -> dict:
    w = np.ones_like(p) if w is None else w
    pred = p >= thr
    tp = float((w * (pred & (y == 1))).sum())
    fp = float((w * (pred & (y == 0))).sum())
    fn = float((w * (~pred & (y == 1))).sum())
    out = {"n": int(len(y)), "n_pos": int(y.sum()),
           "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None}
    if 0 < y.sum() < len(y):
        out["pr_auc"] = float(average_precision_score(y, p, sample_weight=w))
        out["roc_auc"] = float(roc_auc_score(y, p, sample_weight=w))
    return out


def recall_at_precision(p: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, target: float = 0.9) -> float:
    """Highest (weighted) recall over thresholds whose (weighted) precision is >= ``target``."""
    w = np.ones_like(p, dtype=np.float64) if w is None else w
    order = np.argsort(-p, kind="stable")
    ys, ws = y[order], w[order]
    tp = np.cumsum(ws * ys)
    fp = np.cumsum(ws * (1 - ys))
    prec = tp / np.maximum(tp + fp, 1e-12)
    rec = tp / max(float((w * y).sum()), 1e-12)
    ok = prec >= target
    return float(rec[ok].max()) if ok.any() else 0.0
