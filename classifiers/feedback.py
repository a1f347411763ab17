"""Feedback negativity, scored per sentence (probability that a feedback about a client is negative).

Stage 1 (text model): word (1-2) + char_wb (2-5) tf-idf -> logistic regression, fitted on whole
texts; the word n-grams read the text with negation scopes marked (``feedback_text.mark_negation``;
with ``Settings.polarity`` a negated lexicon word also adds a token of its flipped polarity, so "no
complaints" reads as a negated negative). It scores the whole feedback AND each of its sentences (``feedback_text.split_sentences``),
so one "he never paid me" sentence inside a long story is seen as such.
Stage 2 (combiner): logistic regression over
    [whole-text logit, max / min / mean sentence logit, share of sentences with logit > 0,
     VADER lexicon features (most negative / mean / most positive compound, largest neg share),
     log(1 + sentences), rating missing, cumulative stars 1{stars <= 4}, ..., 1{stars <= 1}]
fitted on out-of-fold stage-1 logits (GroupKFold), so it is calibrated by construction.
The star columns are cumulative and their weights are constrained >= 0 (a column whose weight
comes out negative is dropped and the combiner refitted), so fewer stars never make a feedback
look less negative.

Language: text that ``feedback_text.language_of`` calls clearly non-English is NOT given a text
score: it gets the rating-only model (the same cumulative stars, weights >= 0), which without a
rating is the base rate of unrated training feedback - a neutral, non-confident prior.

Bundles written before this format (no ``format`` key) are still scored the old way
(whole-text model + stars) until the models are retrained.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from . import feedback_general as fg
from . import feedback_text as ft
from .feedback_text import make_vectorizers  # noqa: F401 - fb.make_vectorizers (feedback_cv)
from .modelling import hstack, pack_vectorizer, unpack_vectorizer

NAME = "feedback"
FORMAT = 2
C = 4.0  # legacy bundles only

TEXT_FEATURES = ("z_text", "z_sent_max", "z_sent_min", "z_sent_mean", "share_sent_neg")
LENGTH_FEATURES = ("log1p_sentences",)
RATING_FEATURES = ("rating_missing", "stars_le_4", "stars_le_3", "stars_le_2", "stars_le_1")
#: columns whose combiner weight must be >= 0 (monotone in the stars)
MONOTONE = RATING_FEATURES[1:]


@dataclass(frozen=True)
class Settings:
    """What model selection (``feedback_cv``) chooses between."""
    text_C: float = 4.0
    char: bool = True
    lexicon: bool = True
    sentences: bool = True
    combiner_C: float = 1.0
    #: sample weight of in-domain rows (seed, real freelancer feedback, hand-written rows) in both stages
    domain_weight: float = 1.0
    #: the general sentiment model's logits (``feedback_general``) as combiner columns
    general: bool = True
    #: word n-grams of both text models read negation-marked text (``feedback_text.mark_negation``)
    negation: bool = True
    #: the general model's columns scaled by their naive-Bayes log-count ratio
    general_nb: bool = True
    #: with ``negation``: a negated lexicon word also adds a token for its flipped polarity
    #: (``feedback_text.mark_negation``: "no complaints" -> a negated negative), in both text models
    polarity: bool = True
    #: the hand-written negation rows (source "hand", ``data/seed/feedback_negation_handwritten.jsonl``)
    #: are among the training rows (``feedback_cv.Data.fit`` drops them otherwise)
    handwritten: bool = True

    def general_key(self) -> tuple[bool, bool, bool]:
        """Which general model these settings need (one fit per distinct key)."""
        return (self.negation, self.general_nb, self.negation and self.polarity)


# ------------------------------------------------------------------------------- vectorisers
def _text_model(C: float) -> LogisticRegression:
    return LogisticRegression(C=C, solver="lbfgs", max_iter=3000)


# ------------------------------------------------------------------------------- preparation
@dataclass
class Prepared:
    """What is computed once per text, whatever the model: sentences and lexicon features."""
    texts: list[str]
    sentences: list[str]  # every sentence of every text, in order
    owner: np.ndarray  # sentences[k] belongs to texts[owner[k]]
    n_sent: np.ndarray
    lexicon: np.ndarray  # (n, len(ft.LEXICON_FEATURES))
    general: np.ndarray  # (n, len(fg.FEATURES)); zeros when no general model was given

    def subset(self, idx) -> "Prepared":
        idx = np.asarray(idx)
        keep = np.isin(self.owner, idx)
        remap = np.full(len(self.texts), -1)
        remap[idx] = np.arange(len(idx))
        # sentences stay grouped by owner in the owners' original order: reorder to idx order
        order = np.argsort(remap[self.owner[keep]], kind="stable")
        sent_idx = np.flatnonzero(keep)[order]
        return Prepared([self.texts[i] for i in idx], [self.sentences[k] for k in sent_idx], remap[self.owner[sent_idx]],
                        self.n_sent[idx], self.lexicon[idx], self.general[idx])


def prepare(texts: list[str], lexicon: bool = True, general: fg.General | None = None) -> Prepared:
    sentences, owner, n_sent = [], [], []
    for i, t in enumerate(texts):
        s = ft.split_sentences(t)
        sentences += s
        owner += [i] * len(s)
        n_sent.append(len(s))
    owner_a = np.array(owner, dtype=np.int64)
    lex = np.zeros((len(texts), len(ft.LEXICON_FEATURES)))
    if lexicon and texts:
        per = ft.vader_sentences(sentences)
        starts = np.concatenate([[0], np.cumsum(n_sent)[:-1]]).astype(np.int64)
        # per-text min / mean / max compound and max neg share, vectorised over the sentences
        lex[:, 0] = np.minimum.reduceat(per[:, 0], starts)
        lex[:, 1] = np.add.reduceat(per[:, 0], starts) / np.array(n_sent)
        lex[:, 2] = np.maximum.reduceat(per[:, 0], starts)
        lex[:, 3] = np.maximum.reduceat(per[:, 1], starts)
    n_sent_a = np.array(n_sent, dtype=np.int64)
    gen = fg.features(general, list(texts), sentences, n_sent_a) if general is not None else np.zeros((len(texts), len(fg.FEATURES)))
    return Prepared(list(texts), sentences, owner_a, n_sent_a, lex, gen)


def rating_block(ratings: list[int | None]) -> np.ndarray:
    """[rating missing, 1{stars <= 4}, 1{stars <= 3}, 1{stars <= 2}, 1{stars <= 1}] per feedback."""
    out = np.zeros((len(ratings), len(RATING_FEATURES)), dtype=np.float64)
    for i, r in enumerate(ratings):
        if r is None:
            out[i, 0] = 1.0
        else:
            out[i, 1:] = [float(int(r) <= k) for k in (4, 3, 2, 1)]
    return out


# ------------------------------------------------------------------------------- the text model
class TextModel:
    """Fitted vectorisers + LR; ``decision`` of a list of texts (positive = negative feedback)."""

    def __init__(self, vecs: list[TfidfVectorizer], lr: LogisticRegression, fast: bool = False, negation: bool = False,
                 polarity: bool = False):
        self.vecs, self.lr, self.negation, self.polarity = vecs, lr, negation, polarity
        if fast:
            from .vectorising import FastTfidf

            self._tx = [FastTfidf(v) if FastTfidf.supported(v) else v for v in vecs]
        else:
            self._tx = vecs

    @classmethod
    def fit(cls, texts: list[str], y: np.ndarray, w: np.ndarray | None, s: Settings) -> "TextModel":
        vecs = make_vectorizers(s.char)
        X = hstack([v.fit_transform(t) for v, t in zip(vecs, ft.vectoriser_inputs(texts, s.negation, s.polarity))])
        return cls(vecs, _text_model(s.text_C).fit(X, y, sample_weight=w), negation=s.negation, polarity=s.polarity)

    def decision(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.lr.decision_function(hstack([v.transform(t) for v, t in zip(self._tx, ft.vectoriser_inputs(texts, self.negation, self.polarity))]))


def _aggregate(z_text: np.ndarray, z_multi: np.ndarray, prep: Prepared, sentences: bool) -> np.ndarray:
    """``TEXT_FEATURES`` + length per text from the whole-text logits and the logits of the
    sentences of multi-sentence texts (``prep.sentences[k]`` for k in ``_multi_sentences(prep)``);
    a single-sentence text's sentence logit is its whole-text logit."""
    n = len(prep.texts)
    if not sentences:
        F = np.column_stack([z_text, z_text, z_text, z_text, (z_text > 0).astype(float)])
    else:
        z_sent = z_text[prep.owner].copy()
        z_sent[_multi_sentences(prep)] = z_multi
        starts = np.concatenate([[0], np.cumsum(prep.n_sent)[:-1]]).astype(np.int64)
        F = np.empty((n, len(TEXT_FEATURES)))
        F[:, 0] = z_text
        F[:, 1] = np.maximum.reduceat(z_sent, starts)
        F[:, 2] = np.minimum.reduceat(z_sent, starts)
        F[:, 3] = np.add.reduceat(z_sent, starts) / prep.n_sent
        F[:, 4] = np.add.reduceat((z_sent > 0).astype(float), starts) / prep.n_sent
    return np.column_stack([F, np.log1p(prep.n_sent)])


def _multi_sentences(prep: Prepared) -> np.ndarray:
    """Indices into ``prep.sentences`` of the sentences of texts with more than one sentence."""
    return np.flatnonzero((prep.n_sent > 1)[prep.owner])


def text_features(tm: TextModel, prep: Prepared, sentences: bool = True) -> np.ndarray:
    """``TEXT_FEATURES`` (+ length) per text."""
    z_text = tm.decision(prep.texts)
    z_multi = tm.decision([prep.sentences[k] for k in _multi_sentences(prep)]) if sentences else None
    return _aggregate(z_text, z_multi, prep, sentences)


def design(F_text: np.ndarray, prep: Prepared, ratings: list[int | None], s: Settings) -> np.ndarray:
    blocks = [F_text]
    if s.lexicon:
        blocks.append(prep.lexicon)
    if s.general:
        blocks.append(prep.general)
    blocks.append(rating_block(ratings))
    return np.column_stack(blocks)


def feature_names(s: Settings) -> list[str]:
    return [*TEXT_FEATURES, *LENGTH_FEATURES, *(ft.LEXICON_FEATURES if s.lexicon else ()),
            *(fg.FEATURES if s.general else ()), *RATING_FEATURES]


def fit_monotone_lr(X: np.ndarray, y: np.ndarray, w: np.ndarray | None, names: list[str], C: float) -> dict:
    """LR whose weights on the ``MONOTONE`` columns are >= 0: a column that comes out negative is
    dropped (weight 0) and the model refitted, until none is. Returns {"lr", "cols"}."""
    cols = list(range(X.shape[1]))
    while True:
        lr = LogisticRegression(C=C, solver="lbfgs", max_iter=5000).fit(X[:, cols], y, sample_weight=w)
        bad = [c for c, wt in zip(cols, lr.coef_[0]) if names[c] in MONOTONE and wt < 0]
        if not bad:
            return {"lr": lr, "cols": np.array(cols, dtype=np.int64)}
        worst = min(bad, key=lambda c: lr.coef_[0][cols.index(c)])
        cols.remove(worst)


def _apply_lr(m: dict, X: np.ndarray) -> np.ndarray:
    return m["lr"].predict_proba(X[:, m["cols"]])[:, 1]


def sample_weights(sources: list[str], s: Settings) -> np.ndarray:
    return np.array([s.domain_weight if src in ("seed", "real", "hand") else 1.0 for src in sources])


# ------------------------------------------------------------------------------- fit / predict
def fit(texts: list[str], y: np.ndarray, ratings: list[int | None], groups, sources: list[str] | None = None,
        settings: Settings | None = None, prep: Prepared | None = None, general: dict | None = None) -> dict:
    """Fit both stages on these rows; ``prep`` (``prepare(texts, ..., general)``) may be passed to
    reuse it. ``general`` is a fitted ``feedback_general`` bundle (fitted here when the settings
    use one and none is given); it is stored in the returned bundle."""
    s = settings or Settings()
    y = np.asarray(y)
    if s.general and general is None:
        general = fg.fit(negation=s.negation, nb=s.general_nb, polarity=s.polarity)
    prep = prep or prepare(texts, s.lexicon, fg.General(general) if s.general else None)
    w = sample_weights(sources or [""] * len(texts), s)
    # the vectorisers are fitted once on these rows (unsupervised); the stage-1 LR out of fold
    # (groups never straddle) gives the logits the combiner is fitted on
    vecs = make_vectorizers(s.char)
    X = hstack([v.fit_transform(t) for v, t in zip(vecs, ft.vectoriser_inputs(texts, s.negation, s.polarity))])
    multi = _multi_sentences(prep)
    Xs = (hstack([v.transform(t) for v, t in zip(vecs, ft.vectoriser_inputs([prep.sentences[k] for k in multi], s.negation, s.polarity))])
          if s.sentences and len(multi) else None)
    z_text, z_multi = np.zeros(len(texts)), np.zeros(len(multi))
    owner_multi = prep.owner[multi]
    for tr, te in GroupKFold(n_splits=5).split(np.zeros(len(y)), y, groups):
        lr = _text_model(s.text_C).fit(X[tr], y[tr], sample_weight=w[tr])
        z_text[te] = lr.decision_function(X[te])
        if Xs is not None:
            rows = np.flatnonzero(np.isin(owner_multi, te))
            if len(rows):
                z_multi[rows] = lr.decision_function(Xs[rows])
    F = _aggregate(z_text, z_multi, prep, s.sentences)
    names = feature_names(s)
    comb = fit_monotone_lr(design(F, prep, ratings, s), y, w, names, s.combiner_C)
    rating_only = fit_monotone_lr(rating_block(ratings), y, w, list(RATING_FEATURES), 1.0)
    tm = TextModel(vecs, _text_model(s.text_C).fit(X, y, sample_weight=w), negation=s.negation, polarity=s.polarity)
    return {"format": FORMAT, "settings": asdict(s), "general": general if s.general else None,
            "vectorizers": [pack_vectorizer(v) for v in tm.vecs],
            "text_lr": tm.lr, "combiner": comb["lr"], "combiner_cols": comb["cols"], "feature_names": names,
            "rating_lr": rating_only["lr"], "rating_cols": rating_only["cols"]}


def _settings(bundle: dict) -> Settings:
    # bundles before the general model / before negation marking and the NB-scaled general model /
    # before the polarity tokens
    return Settings(**{"general": False, "negation": False, "general_nb": False, "polarity": False, "handwritten": False,
                       **bundle["settings"]})


def _unpacked(bundle: dict) -> tuple[TextModel, frozenset[str], fg.General | None]:
    """Vectorisers rebuilt once per loaded bundle (cached in it; training pops ``_tm``)."""
    if "_tm" not in bundle:
        s = _settings(bundle)
        vecs = [unpack_vectorizer(d, t) for d, t in zip(bundle["vectorizers"], make_vectorizers(s.char))]
        english = frozenset(t for t in vecs[0].vocabulary_ if " " not in t and t.isalpha()) | ft.lexicon_words()
        general = fg.General(bundle["general"]) if s.general else None
        bundle["_tm"] = (TextModel(vecs, bundle["text_lr"], fast=True, negation=s.negation, polarity=s.polarity), english, general)
    return bundle["_tm"]


def score(bundle: dict, texts: list[str], ratings: list[int | None]) -> dict:
    """Per feedback: "negative" (probability), "text_scored" (False: not English, rating-only
    score) and "language" (ISO 639-1 code, "en" unless clearly another language)."""
    texts = [t or "" for t in texts]
    if "format" not in bundle:  # a model trained before per-sentence scoring
        return {"negative": _legacy_predict(bundle, texts, ratings), "text_scored": np.ones(len(texts), dtype=bool),
                "language": ["en"] * len(texts)}
    s = _settings(bundle)
    tm, english, general = _unpacked(bundle)
    langs = [ft.language_of(t, english)[0] for t in texts]
    scored = np.array([lang == "en" for lang in langs], dtype=bool)
    p = _apply_lr({"lr": bundle["rating_lr"], "cols": bundle["rating_cols"]}, rating_block(ratings))
    idx = np.flatnonzero(scored)
    if len(idx):
        sub = [texts[i] for i in idx]
        prep = prepare(sub, s.lexicon, general)
        X = design(text_features(tm, prep, s.sentences), prep, [ratings[i] for i in idx], s)
        p[idx] = _apply_lr({"lr": bundle["combiner"], "cols": bundle["combiner_cols"]}, X)
    return {"negative": p, "text_scored": scored, "language": langs}


def predict(bundle: dict, texts: list[str], ratings: list[int | None]) -> np.ndarray:
    return score(bundle, texts, ratings)["negative"]


# ------------------------------------------------------------------------------- legacy bundles
def _legacy_rating_block(ratings: list[int | None]) -> np.ndarray:
    out = np.zeros((len(ratings), 2), dtype=np.float64)
    for i, r in enumerate(ratings):
        if r is None:
            out[i, 1] = 1.0
        else:
            out[i, 0] = (3.0 - int(r)) / 2.0
    return out


def _legacy_predict(bundle: dict, texts: list[str], ratings: list[int | None]) -> np.ndarray:
    if "_vec" not in bundle:
        bundle["_vec"] = (unpack_vectorizer(bundle["word"], make_vectorizers()[0]), unpack_vectorizer(bundle["char"], make_vectorizers()[1]))
    word, char = bundle["_vec"]
    z = bundle["text_lr"].decision_function(hstack([word.transform(texts), char.transform(texts)]))
    return bundle["combiner"].predict_proba(np.column_stack([z, _legacy_rating_block(ratings)]))[:, 1]
