"""The scorer the flagging worker and the console call: active models in, scores and
evidence out. Batch-oriented: a batch of posts is vectorised once and every detector
reads the same sparse matrix.

Offsets: the models read ``title + "\\n\\n" + description``; every Evidence carries
``field`` ("title" or "description") and ``start``/``end`` index that field of the input.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from operator import attrgetter
from pathlib import Path

import numpy as np

from models.taxonomy import CATEGORY_LABELS, NOT_A_JOB, category_label

from . import miscategorised as cat_mod
from . import policy as pol_mod
from . import scam as scam_mod
from .feedback_scorer import feedback_bundle, score_feedback
from .gcpause import gc_paused
from .modelling import StackedLinear, clean_text, hstack, locate_term, top_terms, unpack_vectorizer
from .vectorising import FastTfidf
from .policy_rules import POLICY_TYPES
from .rules import find_contacts, find_policy_hits, find_scam_cues, find_signals
from .signals import EVIDENCE_FOR, drop_negated, negated_spans
from .signals import NAMES as SIGNAL_NAMES
from .textutil import Hit
from .rulescan import screens as rule_screens
from .registry import ARTIFACTS_DIR, DETECTORS, load_bundle, read_active
from .types import Evidence, FeedbackInput, PostInput, PostScore, new_evidence

N_TERMS = 3
_START_END = attrgetter("start", "end")
_POLICY_LABELS = {
    "off_platform": "moving contact or payment off the platform",
    "unpaid_work": "unpaid work",
    "academic_dishonesty": "academic dishonesty",
    "fake_reviews": "fake reviews",
    "account_rental": "account rental or impersonation",
}


#: evidence from a phrasing signal (``signals.py``: who writes, what they ask) has kind "signal"
_SIGNAL_KINDS = frozenset(SIGNAL_NAMES)


def _signals(hits: list[Hit], detector: str) -> list[Hit]:
    """The signal hits that are evidence for ``detector`` (a detector name or a policy type)."""
    names = EVIDENCE_FOR.get(detector, ())
    return [h for h in hits if h.kind in names] if hits and names else []


#: a post with fewer words than this is "short": a model score alone never flags it (DESIGN.md:
#: a post is never flagged merely for being short); a rule hit or a detector's signal still can
SHORT_WORDS = 12
#: the miscategorised score a short post needs (a longer one needs the trained threshold)
SHORT_MISCATEGORISED_MIN = 0.9
_WORD = re.compile(r"\w+")


def _word_counts(texts: list[str]) -> np.ndarray:
    """Words per text, counted only up to ``SHORT_WORDS`` (a text of 400+ characters is long)."""
    return np.fromiter((len(_WORD.findall(t)) if len(t) < 400 else SHORT_WORDS for t in texts),
                       dtype=np.int64, count=len(texts))


def _shrink_short(d: np.ndarray, d_empty: float, weight: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A short post's model-only decision values, pulled towards the empty text's in proportion
    to its length (``words / SHORT_WORDS``): a few words are little evidence, so a term model's
    confidence on them is not shown as if it were a full post's ("Data entry" read 0.95 scam
    because the term is frequent in scams; the written-out job does not)."""
    if not rows.any():
        return d
    d = d.copy()
    d[rows] = d_empty + (d[rows] - d_empty) * weight[rows]
    return d


def _below(p: np.ndarray, threshold: float, rows: np.ndarray) -> np.ndarray:
    """``p`` capped just below ``threshold`` on ``rows``: a post the short-post rule keeps unflagged
    never shows a score at or above the flag threshold."""
    return np.where(rows, np.minimum(p, np.nextafter(threshold, 0.0)), p) if rows.any() else p


def _span_evidence_masks(short: np.ndarray, R: np.ndarray, cues, hits, sig_hits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which short rows have span evidence for each detector: scam -> a scam cue, a contact
    detail or the earn_scheme signal; not_a_job -> the offer_self signal; a policy type -> its
    rule or its signal. (Rows that are not short are all True: the rule does not apply.)"""
    ev_scam, ev_naj = ~short, ~short
    ev_pol = np.repeat((~short)[:, None], len(POLICY_TYPES), axis=1) | (R > 0)
    scam_kinds, naj_kinds = set(EVIDENCE_FOR["scam"]), set(EVIDENCE_FOR[NOT_A_JOB])
    pol_kinds = [set(EVIDENCE_FOR[t]) for t in POLICY_TYPES]
    ev_scam, ev_naj = ev_scam.copy(), ev_naj.copy()
    for i in np.flatnonzero(short).tolist():
        kinds = {h.kind for h in sig_hits[i]}
        ev_scam[i] = bool(cues[i] or kinds & scam_kinds or any(h.kind == "off_platform" for h in hits[i]))
        ev_naj[i] = bool(kinds & naj_kinds)
        for j, k in enumerate(pol_kinds):
            ev_pol[i, j] |= bool(kinds & k)
    return ev_scam, ev_naj, ev_pol


def _model_texts(posts: Sequence[PostInput]) -> list[str]:
    """What the models and the rules read: ``title + "\\n\\n" + description`` (see the module docstring)."""
    return [f"{p.title or ''}\n\n{p.description or ''}" for p in posts]


#: a model term is shown as evidence only if it carries at least this share of the strongest
#: shown term's contribution: a word that barely moved the score ("assistant" beside
#: "wire transfer") is not something a moderator can check the score against
TERM_MIN_SHARE = 0.25


def strong_terms(terms: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The terms (highest contribution first) worth showing: those with at least
    ``TERM_MIN_SHARE`` of the first one's contribution."""
    if not terms:
        return []
    floor = TERM_MIN_SHARE * terms[0][1]
    return [(t, c) for t, c in terms if c >= floor]


class Scorer:
    def __init__(self, bundles: dict[str, dict], metrics: dict[str, dict], model_dir: Path | None = None):
        self.model_dir = model_dir
        self._b = bundles
        self.metrics = metrics
        self._word = unpack_vectorizer(bundles["post_text"]["word"])
        self._char = unpack_vectorizer(bundles["post_text"]["char"])
        self._n_word = len(self._word.vocabulary_)
        # batch n-gram lookups with numpy; identical output to the sklearn vectorisers (unit-tested)
        self._fast = [FastTfidf(v) if FastTfidf.supported(v) else v for v in (self._word, self._char)]
        inv = [""] * self._n_word  # column -> word term
        for term, j in self._word.vocabulary_.items():
            inv[j] = str(term)
        self._vocab_inv = inv
        self.thresholds: dict = {
            "scam": float(metrics["scam"]["threshold"]),
            "miscategorised": float(metrics["miscategorised"]["threshold"]),
            "policy": {t: float(v) for t, v in metrics["policy"]["thresholds"].items()},
            "feedback": float(metrics["feedback"]["threshold"]),
            # a confident not_a_job prediction flags as miscategorised whatever the posted category
            "not_a_job": float(metrics["miscategorised"].get("not_a_job_threshold", 2.0)),
        }
        self.versions: dict[str, str] = {d: metrics[d]["version"] for d in DETECTORS}
        self._rule_precision = bundles["policy"]["rule_precision"]
        # word-term weights per model, for evidence (the policy rows read the design matrix [X, rules])
        self._scam_coef = bundles["scam"]["lr"].coef_
        self._cat_coef = bundles["miscategorised"]["lr"].coef_
        # every model's decision values in one sparse product per coefficient dtype (same floats as sklearn)
        self._linear = StackedLinear([bundles["scam"]["lr"], bundles["miscategorised"]["lr"], bundles["miscategorised"]["role_lr"],
                                      *(bundles["policy"]["lr"][t] for t in POLICY_TYPES)], self._n_word + len(self._char.vocabulary_))
        self._policy_coef = np.vstack([bundles["policy"]["lr"][t].coef_[0][: self._n_word] for t in POLICY_TYPES])
        # every model's decision value on the empty text: where a short post's model-only scores shrink to
        X_empty = hstack(self._vectorise_blocks(_model_texts([PostInput("", "", "")]))).tocsr()
        self._d_empty = [d[0] for d in self._linear.decisions(X_empty, [None] * (3 + len(POLICY_TYPES)))]
        rule_screens([""])  # build the rule prefilter now, with the models (once per process), not in the first batch

    # ------------------------------------------------------------------ posts
    def vectorise(self, posts: Sequence[PostInput]):
        return hstack(self._vectorise_blocks(_model_texts(posts)))

    def _vectorise_blocks(self, texts: list[str]) -> list:
        """The word and the char tf-idf rows (float32 CSR) of ``_model_texts``; ``vectorise`` is
        the two side by side."""
        cleaned = [clean_text(t) for t in texts]
        return [v.transform(cleaned) for v in self._fast]

    def score_posts(self, posts: Sequence[PostInput]) -> list[PostScore]:
        if not posts:
            return []
        with gc_paused():  # a batch's objects would otherwise trigger full collections (see gcpause)
            return self._score_batch(posts)

    def _score_batch(self, posts: Sequence[PostInput]) -> list[PostScore]:
        texts = _model_texts(posts)
        blocks = self._vectorise_blocks(texts)
        X, X_word = hstack(blocks), blocks[0]  # top terms read the word block only: ~1/7 of the entries
        R = np.zeros((len(posts), len(POLICY_TYPES)), dtype=np.float32)
        col = {t: j for j, t in enumerate(POLICY_TYPES)}
        hits, cues = [], []
        no_hits: list[Hit] = []  # shared, never mutated
        F = np.zeros((len(posts), len(scam_mod.CUE_NAMES)), dtype=np.float32)
        ccol = {c: j for j, c in enumerate(scam_mod.CUE_NAMES)}
        S = np.zeros((len(posts), len(SIGNAL_NAMES)), dtype=np.float32)
        scol = {n: j for j, n in enumerate(SIGNAL_NAMES)}
        sig_hits: list[list[Hit]] = []
        for i, (text, scr) in enumerate(zip(texts, rule_screens(texts))):
            if not scr:  # no rule or signal can match (most posts)
                hits.append(no_hits)
                cues.append(no_hits)
                sig_hits.append(no_hits)
                continue
            sig = find_signals(text, screen=scr)
            for h in sig:
                S[i, scol[h.kind]] = 1.0
            sig_hits.append(sig)
            spans = negated_spans(sig)
            pol = (find_policy_hits(text, screen=scr) if not spans else
                   find_policy_hits(text, contacts=drop_negated(find_contacts(text, screen=scr), spans), screen=scr))
            for h in pol:
                R[i, col[h.kind]] = 1.0
            hits.append(pol)
            cue = find_scam_cues(text, screen=scr)
            for h in cue:
                F[i, ccol[h.kind]] = 1.0
            cues.append(cue)

        d_scam, d_cat, d_role, *d_pol = self._linear.decisions(X, self._extras(R, S, F))
        # the short-post rule: on a post of a few words, a detector without span evidence has its
        # model score shrunk towards the empty text's, kept below its threshold and never flags
        words = _word_counts(texts)
        short = words < SHORT_WORDS
        weight = words / SHORT_WORDS
        ev_scam, ev_naj, ev_pol = _span_evidence_masks(short, R, cues, hits, sig_hits)
        d0_scam, _, d0_role, *d0_pol = self._d_empty
        d_scam = _shrink_short(d_scam, d0_scam, weight, ~ev_scam)
        d_role = _shrink_short(d_role, d0_role, weight, ~ev_naj)
        d_pol = [_shrink_short(d, d0, weight, ~ev_pol[:, j]) for j, (d, d0) in enumerate(zip(d_pol, d0_pol))]
        th = self.thresholds
        p_scam = _below(scam_mod.score(self._b["scam"], d_scam), th["scam"], ~ev_scam)
        proba = cat_mod.proba_from_decision(self._b["miscategorised"], d_cat)
        posted = [p.category if p.category in CATEGORY_LABELS else None for p in posts]
        p_mis = cat_mod.miscategorised_score(proba, posted)
        p_naj = _below(cat_mod.role_score(self._b["miscategorised"], d_role), th["not_a_job"], ~ev_naj)
        P_model = pol_mod.calibrate(self._b["policy"], d_pol)
        P_model = np.column_stack([_below(P_model[:, j], th["policy"][t], ~ev_pol[:, j]) for j, t in enumerate(POLICY_TYPES)])
        P_pol = pol_mod.combine(P_model, R, self._rule_precision)

        # decisions for the whole batch (numpy), then one Python pass that builds the results
        naj = CATEGORY_LABELS.index(NOT_A_JOB)
        pred_idx = proba.argmax(axis=1)
        posted_idx = cat_mod.posted_index(posted)
        naj_on = (posted_idx != naj) & (p_naj >= th["not_a_job"])
        # without a posted category nothing can be in the wrong category but a self-ad (naj_on)
        mis_cat = (p_mis >= th["miscategorised"]) & (posted_idx >= 0) & (pred_idx != posted_idx)
        rule_on = R > 0
        model_typed = P_model >= np.array([th["policy"][t] for t in POLICY_TYPES])
        scam_on = p_scam >= th["scam"]
        # a short post filed under a category the model reads as another has no span evidence to
        # show: it is flagged only when the posted category's probability is below 1 - SHORT_MISCATEGORISED_MIN
        mis_cat &= ~short | (p_mis >= SHORT_MISCATEGORISED_MIN)
        pred_idx = np.where(naj_on, naj, pred_idx)  # the author-role model decides not_a_job
        mis_on = naj_on | mis_cat
        mis_score = np.where(naj_on, np.maximum(p_mis, p_naj), p_mis)
        typed = rule_on | model_typed
        # top contributing word terms of every (row, model) that needs them: one batched lookup per detector
        scam_rows = np.flatnonzero(scam_on)
        scam_terms = dict(zip(scam_rows.tolist(), self._top_terms(X_word, scam_rows, self._scam_coef, np.zeros_like(scam_rows))))
        mis_rows = np.flatnonzero(mis_on)
        mis_terms = dict(zip(mis_rows.tolist(), self._top_terms(X_word, mis_rows, self._cat_coef, pred_idx[mis_rows])))
        pol_rows, pol_cols = np.nonzero(typed & ~rule_on)
        pol_terms = dict(zip(zip(pol_rows.tolist(), pol_cols.tolist()), self._top_terms(X_word, pol_rows, self._policy_coef, pol_cols)))

        pred_l = [CATEGORY_LABELS[j] for j in pred_idx.tolist()]
        scam_l, mis_l, mis_on_l, pol_l = p_scam.tolist(), mis_score.tolist(), mis_on.tolist(), P_pol.tolist()
        rule_l, typed_l, typed_any = rule_on.tolist(), typed.tolist(), typed.any(axis=1).tolist()
        versions = self.versions
        out: list[PostScore] = []
        for i, p in enumerate(posts):
            title, desc = p.title or "", p.description or ""
            pol = hits[i]
            flags: list[str] = []
            ev: list[Evidence] = []
            pred = pred_l[i]
            if i in scam_terms:
                flags.append("scam")
                # contact details are the off_platform policy hits (same spans and reasons as find_contacts)
                ev += self._span_evidence(title, cues[i] + [h for h in pol if h.kind == "off_platform"]
                                          + _signals(sig_hits[i], "scam"), "scam", "scam")
                ev += self._term_evidence(scam_terms[i], title, desc, "scam", "scam", "wording typical of fraudulent job posts")
            suggested = None
            if mis_on_l[i]:
                flags.append("miscategorised")
                suggested = pred
                why = ("reads like a freelancer advertising themselves, not a job" if pred == NOT_A_JOB
                       else f"wording typical of {category_label(pred)}")
                if pred == NOT_A_JOB:
                    ev += self._span_evidence(title, _signals(sig_hits[i], NOT_A_JOB), "miscategorised", "miscategorised")
                ev += self._term_evidence(mis_terms[i], title, desc, "miscategorised", "miscategorised", why)
            types = [t for t, on in zip(POLICY_TYPES, typed_l[i]) if on] if typed_any[i] else []
            if types:
                flags.append("policy")
                for j, (t, on, by_rule) in enumerate(zip(POLICY_TYPES, typed_l[i], rule_l[i])):
                    if not on:
                        continue
                    # one entry per span: where a rule and a signal mark the same words, the rule's
                    rule_hits = [h for h in pol if h.kind == t] if by_rule else []
                    ev += self._span_evidence(title, rule_hits + _signals(sig_hits[i], t), "policy", t)
                    if not by_rule:
                        ev += self._term_evidence(pol_terms[i, j], title, desc, "policy", t, f"wording typical of {_POLICY_LABELS[t]}")
            pol_i = pol_l[i]
            out.append(PostScore(p.id, {"scam": scam_l[i], "miscategorised": mis_l[i], "policy": max(pol_i)}, flags, types,
                                 suggested, pred, ev, dict(versions), dict(zip(POLICY_TYPES, pol_i))))
        return out

    @staticmethod
    def _extras(R: np.ndarray, S: np.ndarray, F: np.ndarray) -> list[np.ndarray | None]:
        """The dense columns each model of ``self._linear`` reads after the text
        (``post_training.scam_extras`` / ``cat_extras`` / ``policy_extras``): signals and scam cues
        for scam, signals for the category model, rule indicators and signals for each policy type."""
        pol = np.hstack([pol_mod.rule_columns(R), S])
        return [np.hstack([S, F]), S, S, *([pol] * len(POLICY_TYPES))]

    def _top_terms(self, X, rows: np.ndarray, W: np.ndarray, cls: np.ndarray) -> list[list[tuple[str, float]]]:
        """``modelling.top_terms`` as (vocabulary term, weight) pairs."""
        return top_terms(X, rows, W, cls, self._n_word, k=N_TERMS, names=self._vocab_inv)

    @staticmethod
    def _span_evidence(title: str, hits: list[Hit], detector: str, label: str) -> list[Evidence]:
        """Map spans over ``title + "\\n\\n" + description`` back to their field."""
        n = len(title)
        off = n + 2
        out, seen = [], set()
        for h in sorted(hits, key=_START_END) if len(hits) > 1 else hits:
            if h.end <= n:
                field, s, e = "title", h.start, h.end
            elif h.start >= off:
                field, s, e = "description", h.start - off, h.end - off
            else:
                continue  # straddles the title/description join
            if (field, s, e) in seen:
                continue
            seen.add((field, s, e))
            out.append(new_evidence(label, h.text, s, e, h.why, field, detector,
                                    "signal" if h.kind in _SIGNAL_KINDS else "rule"))
        return out

    @staticmethod
    def _term_evidence(terms: list[tuple[str, float]], title: str, desc: str, detector: str, label: str,
                       why: str) -> list[Evidence]:
        out = []
        for term, c in strong_terms(terms):
            loc = locate_term(term, title, desc)
            if loc is None:
                continue
            field, s, e = loc
            src = title if field == "title" else desc
            out.append(new_evidence(label, src[s:e], s, e, f"{why}: '{term}'", field, detector, "term", c))
        return out

    # ------------------------------------------------------------------ feedback
    def score_feedback(self, items: Sequence[FeedbackInput]) -> list[float]:
        return score_feedback(self._b["feedback"], items)


def _load(model_dir: Path) -> Scorer:
    active = read_active(model_dir)
    bundles, metrics = {}, {}
    for det in DETECTORS:
        # the feedback bundle from the cache the feedback path loads (classifiers.feedback_scorer)
        bundles[det], metrics[det] = (feedback_bundle(str(model_dir), active[det]) if det == "feedback"
                                      else load_bundle(model_dir, det, active[det]))
    return Scorer(bundles, metrics, model_dir)


@functools.lru_cache(maxsize=8)
def _cached(model_dir: str, active_stamp: str) -> Scorer:
    return _load(Path(model_dir))


def load_scorer(model_dir: Path | None = None) -> Scorer:
    """Load the ACTIVE models (cached per process and per active.json content)."""
    root = Path(model_dir) if model_dir is not None else ARTIFACTS_DIR
    stamp = (root / "active.json").read_text(encoding="utf-8") if (root / "active.json").exists() else ""
    return _cached(str(root.resolve()), stamp)
