"""Training of the post detectors (scam, category / miscategorised, policy) on EVERY labelled row.

    rows = EMSCAD (real job ads) + seed (generated) + honest messenger posts (hand-written)
           + realphrasing (real breaches, scams, self-ads and honest posts; read from ../shared)

1. Out-of-fold: ``REPEATS`` x ``N_SPLITS``-fold grouped cross-validation (StratifiedGroupKFold
   over a label that mixes scam / policy / not_a_job, different seed per repeat). In each fold the
   tf-idf vectorisers and every model are fitted on the training part only and the held-out
   part is scored: every row gets ``REPEATS`` out-of-fold decision values per model. Groups are
   near-duplicate ads (EMSCAD), template groups (seed) and sources (realphrasing), so one source
   never straddles train and test.
2. Calibration (Platt for scam and each policy type, a temperature for the category softmax) is
   fitted on those out-of-fold decisions, and every threshold is chosen on the calibrated
   out-of-fold scores (``training.threshold_rule``: target precision, EMSCAD legitimate rows
   re-weighted to the real 4.84% fraud rate, above every short honest validation post).
3. The shipped vectorisers and models are refitted on all rows.

Every model reads the same word + char tf-idf rows plus dense columns: the phrasing signals
(``signals.py``) for all three, the scam cues for scam, the policy rule indicators for policy.
Real rows weigh ``REAL_WEIGHT`` times a generated one: they are few, and the only evidence of
how real people phrase a breach.
"""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

import hashlib

from models.taxonomy import CATEGORIES, CATEGORY_LABELS, NOT_A_JOB

from . import miscategorised as cat_mod
from . import policy as pol_mod
from . import scam as scam_mod
from .data import PostRow, post_text
from .modelling import clean_text, hstack, make_char_vectorizer, make_word_vectorizer, pack_vectorizer
from .policy_rules import POLICY_TYPES
from .rules import find_contacts, find_policy_hits, signal_matrix
from .signals import drop_negated, negated_spans
from .vectorising import FastTfidf

N_SPLITS = 5
REPEATS = 2
REAL_WEIGHT = 4.0
WORD_MAX_FEATURES = 12000
CHAR_MAX_FEATURES = 12000


class Dense:
    """The dense columns of a set of rows: signals S, scam cues F, policy rule indicators R."""

    def __init__(self, texts: list[str]):
        self.S, sig_hits = signal_matrix(texts)
        self.F = scam_mod.cue_matrix(texts)
        self.R = np.zeros((len(texts), len(POLICY_TYPES)), dtype=np.float32)
        col = {t: j for j, t in enumerate(POLICY_TYPES)}
        for i, (t, sh) in enumerate(zip(texts, sig_hits)):
            for h in policy_hits(t, sh):
                self.R[i, col[h.kind]] = 1.0

    def take(self, idx) -> "Dense":
        d = object.__new__(Dense)
        d.S, d.F, d.R = self.S[idx], self.F[idx], self.R[idx]
        return d


def policy_hits(text: str, signal_hits) -> list:
    """Policy rule hits, without the contact hits a negation covers ("do not contact me outside")."""
    spans = negated_spans(signal_hits)
    return find_policy_hits(text, contacts=drop_negated(find_contacts(text), spans)) if spans else find_policy_hits(text)


def scam_extras(D: Dense) -> np.ndarray:
    return np.hstack([D.S, D.F])


def cat_extras(D: Dense) -> np.ndarray:
    return D.S


def policy_extras(D: Dense) -> np.ndarray:
    return np.hstack([pol_mod.rule_columns(D.R), D.S])


def base_weights(rows: list[PostRow], fraud_rate: float) -> np.ndarray:
    """Per-row weight: EMSCAD legitimate rows re-weighted to the real fraud rate; real rows REAL_WEIGHT."""
    em = [r for r in rows if r.source == "emscad"]
    n_f = sum(r.scam for r in em)
    w_l = (1 - fraud_rate) / fraud_rate * (n_f / max(len(em) - n_f, 1))
    return np.array([w_l if (r.source == "emscad" and r.scam == 0) else (REAL_WEIGHT if r.source == "real" else 1.0)
                     for r in rows])


def fit_weights(rows: list[PostRow]) -> np.ndarray:
    """Per-row weight for fitting every model: REAL_WEIGHT for a real row, 1 otherwise (the base-rate
    re-weighting is for calibration, thresholds and figures only: fitted with it, the scam model
    ranked worse out of fold)."""
    return np.array([REAL_WEIGHT if r.source == "real" else 1.0 for r in rows])


#: the scam model's fit weight of an EMSCAD row, times its ``fit_weights`` weight: the 1,512 EMSCAD
#: ads are the only professionally labelled real scams and honest ads, and ~4,400 generated and
#: hand-written marketplace rows outnumber them 3 to 1. Chosen by grouped 2 x 5-fold CV (EMSCAD
#: ranking at the real base rate, both groupings of ``scripts/scam_grouping_cv.py``; docs/classifiers.md)
SCAM_EMSCAD_WEIGHT = 3.0


def scam_fit_weights(rows: list[PostRow], w: np.ndarray) -> np.ndarray:
    """``w`` with EMSCAD rows times ``SCAM_EMSCAD_WEIGHT`` (the scam model only)."""
    return w * np.array([SCAM_EMSCAD_WEIGHT if r.source == "emscad" else 1.0 for r in rows])


def policy_mask(rows: list[PostRow], R: np.ndarray) -> np.ndarray:
    """Rows the policy models train on: labelled rows (seed, moderators' labels, real policy
    rows), and rows without a policy label (EMSCAD, real scams/self-ads/honest posts) only where no rule fires."""
    return np.array([(r.source in ("seed", "label") or bool(r.policy_types) or R[i].sum() == 0)
                     for i, r in enumerate(rows)])


def strat_label(r: PostRow) -> int:
    return 1 if r.scam else 2 if r.policy_types else 3 if r.true_category == NOT_A_JOB else 0


class Fitted:
    """Vectorisers and models fitted on some rows (no calibration)."""

    def __init__(self, rows: list[PostRow], texts: list[str], D: Dense, w: np.ndarray):
        self.word, self.char = make_word_vectorizer(WORD_MAX_FEATURES), make_char_vectorizer(CHAR_MAX_FEATURES)
        Xw = self.word.fit_transform(texts)
        X = hstack([Xw, self.char.fit_transform(texts)])
        self._fast = [FastTfidf(v) if FastTfidf.supported(v) else v for v in (self.word, self.char)]
        y = np.array([r.scam for r in rows])
        # the scam model: NB-SVM on the word block + a plain LinearSVC on word + char, averaged (scam.fit_blend)
        self.scam = scam_mod.fit_blend(Xw, X, scam_extras(D), y, scam_fit_weights(rows, w))
        cat_idx = [i for i, r in enumerate(rows) if r.true_category is not None]
        yc = np.array([CATEGORY_LABELS.index(rows[i].true_category) for i in cat_idx])
        self.cat = cat_mod.fit_model(hstack([X[cat_idx], cat_extras(D.take(cat_idx))]), yc, w[cat_idx])
        self.role = cat_mod.fit_role(hstack([X, cat_extras(D)]), np.array([int(r.true_category == NOT_A_JOB) for r in rows]), w)
        m = policy_mask(rows, D.R)
        Y = np.array([[float(t in r.policy_types) for t in POLICY_TYPES] for r in rows], dtype=np.float32)
        Xp = hstack([X[m], policy_extras(D.take(m))])
        self.policy = {t: pol_mod.fit_model(Xp, Y[m, j], w[m]) for j, t in enumerate(POLICY_TYPES)}

    def transform(self, texts: list[str]):
        """The tf-idf rows of ``texts`` (FastTfidf: the same output as the vectorisers' transform)."""
        return hstack([v.transform(texts) for v in self._fast])

    def decisions(self, texts: list[str], D: Dense) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        X = self.transform(texts)
        d_scam = self.scam.decision_function(hstack([X, scam_extras(D)]))
        Xc = hstack([X, cat_extras(D)])
        d_cat = cat_mod.full_decision(self.cat, Xc)
        d_role = self.role.decision_function(Xc)
        Xp = hstack([X, policy_extras(D)])
        d_pol = np.column_stack([self.policy[t].decision_function(Xp) for t in POLICY_TYPES])
        return d_scam, d_cat, d_role, d_pol


def out_of_fold(rows: list[PostRow], texts: list[str], D: Dense, w: np.ndarray, seed: int, repeats: int = REPEATS,
                progress=None) -> dict[str, np.ndarray]:
    """(repeats, n, ...) out-of-fold decision values of every model, and each row's fold."""
    n = len(rows)
    groups = np.array([r.group for r in rows])
    strat = np.array([strat_label(r) for r in rows])
    y_scam = np.array([r.scam for r in rows])
    out = {"scam": np.zeros((repeats, n)), "role": np.zeros((repeats, n)), "baseline_scam": np.zeros((repeats, n)), "cat": np.zeros((repeats, n, len(CATEGORY_LABELS))),
           "policy": np.zeros((repeats, n, len(POLICY_TYPES))), "fold": np.zeros((repeats, n), dtype=np.int64)}
    for rep in range(repeats):
        cv = StratifiedGroupKFold(n_splits=N_SPLITS, shuffle=True, random_state=seed + rep)
        for k, (tr, te) in enumerate(cv.split(np.zeros(n), strat, groups)):
            f = Fitted([rows[i] for i in tr], [texts[i] for i in tr], D.take(tr), w[tr])
            d_scam, d_cat, d_role, d_pol = f.decisions([texts[i] for i in te], D.take(te))
            out["scam"][rep, te], out["cat"][rep, te], out["policy"][rep, te] = d_scam, d_cat, d_pol
            out["role"][rep, te] = d_role
            out["baseline_scam"][rep, te] = baseline_scam([texts[i] for i in tr], y_scam[tr], [texts[i] for i in te])
            out["fold"][rep, te] = k
            if progress is not None:
                progress(f"fold {rep + 1}.{k + 1}")
    return out


def baseline_scam(train_texts: list[str], y: np.ndarray, test_texts: list[str]) -> np.ndarray:
    """The plain baseline the issue measures against: TfidfVectorizer() + LinearSVC() on the same
    training rows (decision values)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    v = TfidfVectorizer()
    return LinearSVC().fit(v.fit_transform(train_texts), y).decision_function(v.transform(test_texts))


def model_texts(rows: list[PostRow]) -> list[str]:
    return [clean_text(post_text(r.title, r.description)) for r in rows]


def raw_texts(rows: list[PostRow]) -> list[str]:
    return [post_text(r.title, r.description) for r in rows]


def pack(f: Fitted) -> dict:
    return {"word": pack_vectorizer(f.word), "char": pack_vectorizer(f.char)}


def _pool(a: np.ndarray) -> np.ndarray:
    """(repeats, n, ...) -> (repeats * n, ...)."""
    return a.reshape((-1,) + a.shape[2:])


def repeat_figures(p: np.ndarray, y: np.ndarray, w: np.ndarray, n_boot: int = 200, seed: int = 0) -> dict:
    """PR-AUC (weighted), ROC-AUC and recall at precision 0.9 of out-of-fold scores ``p``
    (repeats, n): each repeat's figure, their mean, and a 95% bootstrap interval (rows
    resampled, every repeat's scores kept together)."""
    from .modelling import recall_at_precision
    from sklearn.metrics import average_precision_score, roc_auc_score

    def fig(idx):
        out = []
        for pr in p:
            yy, pp, ww = y[idx], pr[idx], w[idx]
            out.append((average_precision_score(yy, pp, sample_weight=ww), roc_auc_score(yy, pp, sample_weight=ww),
                        recall_at_precision(pp, yy, ww, 0.9)))
        return np.mean(out, axis=0), out

    mean, per = fig(np.arange(len(y)))
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if 0 < y[idx].sum() < len(idx):
            boots.append(fig(idx)[0])
    lo, hi = np.percentile(boots, [2.5, 97.5], axis=0) if boots else (mean, mean)
    names = ("pr_auc", "roc_auc", "recall_at_p90")
    return {"n": int(len(y)), "n_pos": int(y.sum()),
            **{k: {"mean": float(mean[j]), "ci95": [float(lo[j]), float(hi[j])], "per_repeat": [float(r[j]) for r in per]}
               for j, k in enumerate(names)}}


def miscat_pairs(rows: list[PostRow]) -> tuple[list[int], list[str | None], np.ndarray]:
    """Validation/test pairs for the miscategorised detector: (row index, posted category, label).

    Every row with a known category appears posted under its true category (label 0, or 1
    for not_a_job), with no category (same labels) and under a deterministic wrong category
    (label 1)."""
    cats = list(CATEGORIES)
    idx, posted, y = [], [], []
    for i, r in enumerate(rows):
        if r.true_category is None:
            continue
        naj = r.true_category == NOT_A_JOB
        if naj:
            idx += [i, i]
            posted += [r.posted_category, None]
            y += [1, 1]
        else:
            h = int(hashlib.sha256(r.id.encode()).hexdigest(), 16)
            wrong = cats[(cats.index(r.true_category) + 1 + h % (len(cats) - 1)) % len(cats)]
            idx += [i, i, i]
            posted += [r.true_category, None, wrong]
            y += [0, 0, 1]
    return idx, posted, np.array(y)
