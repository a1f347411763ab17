"""General sentiment: a text model fitted once on 19,000+ human-rated public sentences that are
NOT in the feedback training rows (``data/sentiment/vader_icwsm2014``: movie-review, product-
review, tweet and editorial snippets, each rated by about 20 people on -4..+4; Hutto & Gilbert,
ICWSM 2014, shipped with the vaderSentiment sources, MIT).

Why: the feedback rows (a few thousand sentences of three public domains plus generated and real
freelancer feedback) teach the text model few words outside those domains; a sentence about a
film or a client that uses other words got a near-neutral text logit. This model has seen far
more ways of saying something is bad. Its logits for the whole feedback and for each sentence
(``FEATURES``) are columns of the feedback combiner, which learns from the feedback rows how
much to trust them (it is not itself trained on any feedback row, so its logits on those rows
are not over-fitted and need no out-of-fold step).

Labels: negative = mean rating < 0; snippets whose mean rating is within ``MARGIN`` of neutral
are left out (the raters did not agree on a direction).

Features (chosen by the feedback model's leave-one-source-out ROC-AUC, ``feedback_cv``): word
1-2 + char_wb 2-5 tf-idf, the word n-grams read with negation scopes marked
(``feedback_text.mark_negation``), every column scaled by its naive-Bayes log-count ratio
(Wang & Manning 2012: log of the share of negative snippets that contain the n-gram over the
share of positive ones, add-one smoothed) before the logistic regression; the ratios are then
folded into the fitted coefficients (w_j * r_j), so scoring is one plain linear model. Bundles
without the ``"negation"`` key (fitted before it) read the text unmarked.
"""
from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from .feedback_text import make_vectorizers, vectoriser_inputs as inputs
from .modelling import hstack, pack_vectorizer, unpack_vectorizer

#: the four snippet sets of the VADER paper's evaluation, and their short source names
CORPORA = {"movieReviewSnippets": "vmov", "amazonReviewSnippets": "vamz", "tweets": "vtwt",
           "nytEditorialSnippets": "vnyt"}
MARGIN = 0.5
C = 4.0
FEATURES = ("g_text", "g_sent_min", "g_sent_mean", "g_sent_max")


def corpus_dir() -> Path:
    from .data import DATA_DIR

    return DATA_DIR / "sentiment" / "vader_icwsm2014"


def load_corpus(directory: Path | None = None, limit: int | None = None,
                exclude: Iterable[str] = ()) -> tuple[list[str], np.ndarray, list[str]]:
    """(texts, negative 0/1, source) of every snippet rated at least ``MARGIN`` from neutral and
    whose normalised text is not in ``exclude`` (the feedback rows: a sentence that is also a
    feedback row must not reach the combiner through this model); ``limit`` keeps every k-th
    row (deterministic) so at most ``limit`` remain."""
    from .data import _norm

    directory = directory or corpus_dir()
    skip = {_norm(t) for t in exclude}
    texts, y, src = [], [], []
    for name, short in CORPORA.items():
        with gzip.open(directory / f"{name}_GroundTruth.txt.gz", "rt", encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\r\n").split("\t")
                if len(parts) < 3:
                    continue
                mean, text = float(parts[1]), parts[2].strip()
                if text and abs(mean) >= MARGIN and _norm(text) not in skip:
                    texts.append(text)
                    y.append(int(mean < 0))
                    src.append(short)
    if limit and len(texts) > limit:
        step = -(-len(texts) // limit)
        keep = range(0, len(texts), step)
        texts, y, src = [texts[i] for i in keep], [y[i] for i in keep], [src[i] for i in keep]
    return texts, np.array(y, dtype=np.int64), src


def nb_ratio(X: sp.spmatrix, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Naive-Bayes log-count ratio of every column (positive = more common in negative rows)."""
    B = (X > 0).astype(np.float64)
    p = alpha + np.asarray(B[y == 1].sum(0)).ravel()
    q = alpha + np.asarray(B[y == 0].sum(0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def fit(texts: list[str] | None = None, y: np.ndarray | None = None, limit: int | None = None,
        exclude: Iterable[str] = (), negation: bool = True, nb: bool = True, polarity: bool = False) -> dict:
    """Fit the general model (on the shipped corpus less ``exclude`` unless ``texts``/``y`` are
    given); ``negation``: the word n-grams read negation-marked text; ``nb``: columns scaled by
    their naive-Bayes log-count ratio; ``polarity``: with ``negation``, the flipped-polarity tokens
    of ``feedback_text.mark_negation``."""
    if texts is None:
        texts, y, src = load_corpus(limit=limit, exclude=exclude)
    else:
        src = ["given"] * len(texts)
    y = np.asarray(y)
    vecs = make_vectorizers(char=True)
    X = hstack([v.fit_transform(t) for v, t in zip(vecs, inputs(texts, negation, polarity))]).tocsr()
    if nb:
        r = nb_ratio(X, y)
        lr = LogisticRegression(C=C, solver="lbfgs", max_iter=3000).fit(X @ sp.diags(r), y)
        lr.coef_ = lr.coef_ * r  # (X diag(r)) w == X (w * r): score the unscaled columns
    else:
        lr = LogisticRegression(C=C, solver="lbfgs", max_iter=3000).fit(X, y)
    return {"vectorizers": [pack_vectorizer(v) for v in vecs], "lr": lr, "margin": MARGIN, "negation": negation,
            "nb": nb, "polarity": bool(negation and polarity), "n_rows": len(texts), "rows_by_source": {s: src.count(s) for s in sorted(set(src))}}


class General:
    """A loaded general model: ``decision(texts)`` (positive = negative sentiment)."""

    def __init__(self, bundle: dict):
        from .vectorising import FastTfidf

        vecs = [unpack_vectorizer(d, t) for d, t in zip(bundle["vectorizers"], make_vectorizers(char=True))]
        self._tx = [FastTfidf(v) if FastTfidf.supported(v) else v for v in vecs]
        self.lr = bundle["lr"]
        self.negation = bool(bundle.get("negation", False))
        self.polarity = bool(bundle.get("polarity", False))

    def decision(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.lr.decision_function(hstack([v.transform(t) for v, t in zip(self._tx, inputs(texts, self.negation, self.polarity))]))


def features(model: General, texts: list[str], sentences: list[str], n_sent: np.ndarray) -> np.ndarray:
    """``FEATURES`` per text: the logit of the whole text and the min / mean / max logit of its
    sentences (``sentences`` grouped by text, ``n_sent`` per text, as ``feedback.Prepared``)."""
    out = np.zeros((len(texts), len(FEATURES)))
    if not texts:
        return out
    out[:, 0] = model.decision(texts)
    z = model.decision(sentences)
    starts = np.concatenate([[0], np.cumsum(n_sent)[:-1]]).astype(np.int64)
    out[:, 1] = np.minimum.reduceat(z, starts)
    out[:, 2] = np.add.reduceat(z, starts) / n_sent
    out[:, 3] = np.maximum.reduceat(z, starts)
    return out
