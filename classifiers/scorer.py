"""The scorer the flagging worker and the console call: active models in, scores and
evidence out. Batch-oriented: a batch of posts is vectorised once and every detector
reads the same sparse matrix.

Offsets: the models read ``title + "\\n\\n" + description``; every Evidence carries
``field`` ("title" or "description") and ``start``/``end`` index that field of the input.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.taxonomy import CATEGORY_LABELS, NOT_A_JOB, category_label

from . import feedback as fb_mod
from . import miscategorised as cat_mod
from . import policy as pol_mod
from . import scam as scam_mod
from .features import Hit, find_scam_cues, gate_view
from .modelling import FastTfidf, clean_text, hstack, locate_term, top_terms, unpack_vectorizer
from .policy_rules import POLICY_TYPES, find_policy_hits
from .registry import ARTIFACTS_DIR, DETECTORS, load_bundle, read_active
from .types import Evidence, FeedbackInput, PostInput, PostScore

N_TERMS = 3
_POLICY_LABELS = {
    "off_platform": "moving contact or payment off the platform",
    "unpaid_work": "unpaid work",
    "academic_dishonesty": "academic dishonesty",
    "fake_reviews": "fake reviews",
    "account_rental": "account rental or impersonation",
}


def _row(X, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, data) of row i of a CSR matrix, without scipy's row-indexing overhead."""
    a, b = X.indptr[i], X.indptr[i + 1]
    return X.indices[a:b], X.data[a:b]


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
        inv = np.empty(self._n_word, dtype=object)
        for term, j in self._word.vocabulary_.items():
            inv[j] = term
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

    # ------------------------------------------------------------------ posts
    def vectorise(self, posts: Sequence[PostInput]):
        texts = [clean_text(f"{p.title or ''}\n\n{p.description or ''}") for p in posts]
        return hstack([v.transform(texts) for v in self._fast])

    def score_posts(self, posts: Sequence[PostInput]) -> list[PostScore]:
        if not posts:
            return []
        X = self.vectorise(posts)
        R = np.zeros((len(posts), len(POLICY_TYPES)), dtype=np.float32)
        col = {t: j for j, t in enumerate(POLICY_TYPES)}
        hits, cues = [], []
        F = np.zeros((len(posts), len(scam_mod.CUE_NAMES)), dtype=np.float32)
        ccol = {c: j for j, c in enumerate(scam_mod.CUE_NAMES)}
        for i, p in enumerate(posts):
            text = f"{p.title or ''}\n\n{p.description or ''}"
            view = gate_view(text)
            pol = find_policy_hits(text, view=view)
            for h in pol:
                R[i, col[h.kind]] = 1.0
            hits.append(pol)
            cue = find_scam_cues(text, view=view)
            for h in cue:
                F[i, ccol[h.kind]] = 1.0
            cues.append(cue)

        p_scam = scam_mod.predict_shipped(self._b["scam"], X, F)
        proba = cat_mod.predict_proba(self._b["miscategorised"], X)
        posted = [p.category if p.category in CATEGORY_LABELS else None for p in posts]
        p_mis = cat_mod.miscategorised_score(proba, posted)
        p_naj = cat_mod.not_a_job_score(proba)
        P_model, _ = pol_mod.predict_model(self._b["policy"], X, R)
        P_pol = pol_mod.combine(P_model, R, self._rule_precision)

        th = self.thresholds
        pol_thr = np.array([th["policy"][t] for t in POLICY_TYPES])
        out: list[PostScore] = []
        for i, p in enumerate(posts):
            title, desc = p.title or "", p.description or ""
            pol = hits[i]
            flags: list[str] = []
            ev: list[Evidence] = []
            pred = cat_mod.suggestion(proba[i])
            if p_scam[i] >= th["scam"]:
                flags.append("scam")
                # contact details are the off_platform policy hits (same spans and reasons as find_contacts)
                ev += self._span_evidence(title, cues[i] + [h for h in pol if h.kind == "off_platform"], "scam", "scam")
                ev += self._term_evidence(_row(X, i), self._b["scam"]["lr"].coef_[0], title, desc, "scam", "scam",
                                          "wording typical of fraudulent job posts")
            suggested = None
            mis_score = float(p_mis[i])
            naj_flag = pred == NOT_A_JOB and posted[i] != NOT_A_JOB and p_naj[i] >= th["not_a_job"]
            if naj_flag:
                mis_score = max(mis_score, float(p_naj[i]))
            if naj_flag or (p_mis[i] >= th["miscategorised"] and (posted[i] is None or pred != posted[i])):
                flags.append("miscategorised")
                suggested = pred
                cls = CATEGORY_LABELS.index(pred)
                why = ("reads like a freelancer advertising themselves, not a job" if pred == NOT_A_JOB
                       else f"wording typical of {category_label(pred)}")
                ev += self._term_evidence(_row(X, i), self._b["miscategorised"]["lr"].coef_[cls], title, desc, "miscategorised",
                                          "miscategorised", why)
            types = [t for j, t in enumerate(POLICY_TYPES) if R[i, j] > 0 or P_model[i, j] >= pol_thr[j]]
            if types:
                flags.append("policy")
                for t in types:
                    j = POLICY_TYPES.index(t)
                    if R[i, j] > 0:
                        ev += self._span_evidence(title, [h for h in pol if h.kind == t], "policy", t)
                    else:
                        ev += self._term_evidence(_row(X, i), self._b["policy"]["lr"][t].coef_[0], title, desc, "policy", t,
                                                  f"wording typical of {_POLICY_LABELS[t]}")
            out.append(PostScore(
                id=p.id,
                scores={"scam": float(p_scam[i]), "miscategorised": mis_score, "policy": float(P_pol[i].max())},
                flags=flags, policy_types=types, suggested_category=suggested, predicted_category=pred, evidence=ev,
                model_versions=dict(self.versions),
                policy_scores={t: float(P_pol[i, j]) for j, t in enumerate(POLICY_TYPES)},
            ))
        return out

    @staticmethod
    def _span_evidence(title: str, hits: list[Hit], detector: str, label: str) -> list[Evidence]:
        """Map spans over ``title + "\\n\\n" + description`` back to their field."""
        off = len(title) + 2
        out, seen = [], set()
        for h in sorted(hits, key=lambda h: (h.start, h.end)):
            if h.end <= len(title):
                field, s, e = "title", h.start, h.end
            elif h.start >= off:
                field, s, e = "description", h.start - off, h.end - off
            else:
                continue  # straddles the title/description join
            if (field, s, e) in seen:
                continue
            seen.add((field, s, e))
            out.append(Evidence(label=label, text=h.text, start=s, end=e, why=h.why, field=field, detector=detector, kind="rule"))
        return out

    def _term_evidence(self, x_row, coef: np.ndarray, title: str, desc: str, detector: str, label: str, why: str) -> list[Evidence]:
        out = []
        for term, c in top_terms(x_row, coef[: self._n_word], self._vocab_inv, k=N_TERMS):
            loc = locate_term(term, title, desc)
            if loc is None:
                continue
            field, s, e = loc
            src = title if field == "title" else desc
            out.append(Evidence(label=label, text=src[s:e], start=s, end=e, why=f"{why}: '{term}'", field=field,
                                detector=detector, kind="term", weight=c))
        return out

    # ------------------------------------------------------------------ feedback
    def score_feedback(self, items: Sequence[FeedbackInput]) -> list[float]:
        if not items:
            return []
        for it in items:
            if it.rating is not None and not 1 <= int(it.rating) <= 5:
                raise ValueError(f"feedback {it.id!r}: rating must be 1-5 or None")
        p = fb_mod.predict(self._b["feedback"], [it.text for it in items], [it.rating for it in items])
        return [float(v) for v in p]


def _load(model_dir: Path) -> Scorer:
    active = read_active(model_dir)
    bundles, metrics = {}, {}
    for det in DETECTORS:
        bundles[det], metrics[det] = load_bundle(model_dir, det, active[det])
    return Scorer(bundles, metrics, model_dir)


@functools.lru_cache(maxsize=8)
def _cached(model_dir: str, active_stamp: str) -> Scorer:
    return _load(Path(model_dir))


def load_scorer(model_dir: Path | None = None) -> Scorer:
    """Load the ACTIVE models (cached per process and per active.json content)."""
    root = Path(model_dir) if model_dir is not None else ARTIFACTS_DIR
    stamp = (root / "active.json").read_text(encoding="utf-8") if (root / "active.json").exists() else ""
    return _cached(str(root.resolve()), stamp)
