"""Candidate models: trained on the shipped rows plus the moderators' labels, never activated
here, and compared with the active models on the same rows. Pure: label rows and posts come
in as plain dicts / ``PostInput``s (the console reads them from its database).

A label row (``LabelInput``) is one standing label with its judged text snapshot. Labels on
the same text (whitespace and case folded) merge into one training row; a shipped row with
that text is replaced by it, keeping what the labels do not speak about (its category, say):
a label that contradicts the shipped data wins for that text.

``PROFILES`` sizes the training: ``full`` is the product (every row, the shipped folds and
vocabularies), ``fast`` a small deterministic subset (seconds; the tests).
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from models.taxonomy import NOT_A_JOB

from .data import PostRow, load_short_honest, post_text
from .registry import ARTIFACTS_DIR, load_bundle, read_active, save_bundle
from .types import PostInput

POST_DETECTORS = ("post_text", "scam", "miscategorised", "policy")
#: the reasons (and policy types) every comparison and the gate look at
REASONS = ("scam", "miscategorised", "policy")


@dataclass(frozen=True)
class Profile:
    limit: int | None = None
    seed_every: int | None = None
    real_posts: bool = True
    repeats: int | None = None
    n_splits: int | None = None
    max_features: int | None = None


PROFILES = {"full": Profile(),
            "fast": Profile(limit=60, seed_every=6, real_posts=False, repeats=1, n_splits=3,
                            max_features=2000)}


@dataclass(frozen=True)
class LabelInput:
    """One standing label with the text that was judged."""
    title: str
    description: str
    category: str | None
    reason: str
    positive: bool
    decided_at: datetime
    policy_type: str | None = None
    label_category: str | None = None  # miscategorised: the right category
    subject: str = ""


def norm_text(title: str | None, description: str | None) -> str:
    return " ".join(post_text(title, description).lower().split())


def _apply(row: PostRow, lab: LabelInput) -> None:
    if lab.reason == "scam":
        row.scam = int(lab.positive)
    elif lab.reason == "policy" and lab.policy_type:
        types = [t for t in row.policy_types if t != lab.policy_type]
        row.policy_types = types + [lab.policy_type] if lab.positive else types
    elif lab.reason == "miscategorised":
        if lab.positive and lab.label_category:
            row.true_category = lab.label_category
        elif not lab.positive and lab.category:
            row.true_category = lab.category  # "not miscategorised": it was in the right place
        elif not lab.positive and row.true_category == NOT_A_JOB:
            row.true_category = None


def merge_labels(shipped: list[PostRow], labels: Iterable[LabelInput]) -> list[PostRow]:
    """The shipped rows with every labelled text replaced by a row built from its labels
    (oldest label first, so a later one on the same text wins)."""
    by_text: dict[str, list[LabelInput]] = {}
    for lab in sorted(labels, key=lambda x: x.decided_at):
        by_text.setdefault(norm_text(lab.title, lab.description), []).append(lab)
    if not by_text:
        return list(shipped)
    out, base = [], {}
    for r in shipped:
        key = norm_text(r.title, r.description)
        if key in by_text:
            base.setdefault(key, r)
        else:
            out.append(r)
    for key, labs in by_text.items():
        first = labs[0]
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        old = base.get(key)
        row = (replace(old, policy_types=list(old.policy_types), source="label", id=f"label-{digest}")
               if old is not None else
               PostRow(id=f"label-{digest}", title=first.title, description=first.description,
                       source="label", group=f"label:{digest}", scam=0, true_category=None,
                       posted_category=first.category))
        for lab in labs:
            _apply(row, lab)
        out.append(row)
    return out


@contextlib.contextmanager
def _profile(profile: Profile):
    """The profile's fold count and vocabulary sizes, for the duration of one training."""
    from . import post_training

    saved = (post_training.N_SPLITS, post_training.WORD_MAX_FEATURES, post_training.CHAR_MAX_FEATURES)
    if profile.n_splits:
        post_training.N_SPLITS = profile.n_splits
    if profile.max_features:
        post_training.WORD_MAX_FEATURES = post_training.CHAR_MAX_FEATURES = profile.max_features
    try:
        yield
    finally:
        post_training.N_SPLITS, post_training.WORD_MAX_FEATURES, post_training.CHAR_MAX_FEATURES = saved


def steps(profile: Profile) -> int:
    """How many progress steps ``train_candidate`` reports."""
    from . import post_training  # (scikit-learn: imported on first use, not at start-up)

    return ((profile.repeats or post_training.REPEATS) * (profile.n_splits or post_training.N_SPLITS)
            + 3)


def _data_hash(rows: list[PostRow], seed: int) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(f"{r.id}|{r.title}|{r.description}|{r.scam}|{r.true_category}|{r.policy_types}\n".encode())
    h.update(f"seed={seed}".encode())
    return h.hexdigest()[:10]


def train_candidate(labels: Sequence[LabelInput], *, out_dir: Path | None = None, seed: int = 1729,
                    profile: str = "full", cutoff: datetime | None = None,
                    progress: Callable[[str], None] | None = None) -> dict:
    """Train the post detectors on the shipped rows plus ``labels`` and save them as a new
    version (never activated; the feedback model is the active one's: no decision labels
    feedback text). ``cutoff``: also fit a time-split model on the labels decided before it.

    Returns {"version", "versions", "metrics", "seconds", "n_labels", "time_split_scorer"}."""
    from . import post_training
    from .post_fit import fit_posts
    from .scorer import Scorer
    from .training import DEFAULT_SEED, TARGET_PRECISION, build_datasets

    t0 = time.perf_counter()
    prof = PROFILES[profile]
    root = Path(out_dir) if out_dir is not None else ARTIFACTS_DIR
    report = progress or (lambda _step: None)
    active = read_active(root)
    seed = seed if seed is not None else DEFAULT_SEED
    with _profile(prof):
        ds = build_datasets(seed, limit=prof.limit, seed_every=prof.seed_every, real_posts=prof.real_posts)
        report("data")
        rows = merge_labels(ds.posts, labels)
        bundles, metrics = fit_posts(rows, ds.short_honest_val, seed, TARGET_PRECISION, progress=report,
                                     repeats=prof.repeats or post_training.REPEATS)
        metrics["scam"]["real_by_source"] = metrics.pop("real_by_source")
        fb_bundle, fb_metrics = load_bundle(root, "feedback", active["feedback"])
        version = (f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-"
                   f"{_data_hash(rows, seed)}")
        versions = {"feedback": active["feedback"]}
        for det in POST_DETECTORS:
            metrics[det].update(seed=seed, version=f"{det}-{version}", n_labels=len(labels),
                                profile=profile)
            save_bundle(bundles[det], root, det, version, metrics[det])
            versions[det] = version
        metrics["feedback"] = fb_metrics
        bundles["feedback"] = fb_bundle
        split = None
        if cutoff is not None:
            before = [lab for lab in labels if lab.decided_at < cutoff]
            split_rows = merge_labels(ds.posts, before)
            split = Scorer(refit_bundles(bundles, split_rows), metrics)
        report("time split")
    return {"version": version, "versions": versions, "metrics": metrics, "n_labels": len(labels),
            "seconds": round(time.perf_counter() - t0, 2), "time_split_scorer": split}


def refit_bundles(bundles: dict, rows: list[PostRow]) -> dict:
    """``bundles`` with the post models refitted on ``rows`` (one fit, no folds): the
    candidate's calibration and thresholds are kept (the time-split model)."""
    from . import post_training

    texts, raw = post_training.model_texts(rows), post_training.raw_texts(rows)
    f = post_training.Fitted(rows, texts, post_training.Dense(raw), post_training.fit_weights(rows))
    out = copy.copy(bundles)
    out["post_text"] = post_training.pack(f)
    out["scam"] = {**bundles["scam"], "lr": f.scam}
    out["miscategorised"] = {**bundles["miscategorised"], "lr": f.cat, "role_lr": f.role}
    out["policy"] = {**bundles["policy"], "lr": f.policy}
    return out


# --- comparison ---------------------------------------------------------------------------

def label_inputs(labels: Sequence[LabelInput]) -> list[PostInput]:
    return [PostInput(id=str(i), title=lab.title, description=lab.description, category=lab.category)
            for i, lab in enumerate(labels)]


def _figures(y: list[int], score: list[float], flagged: list[bool]) -> dict:
    from sklearn.metrics import average_precision_score

    y_a, f_a = np.array(y, dtype=int), np.array(flagged, dtype=bool)
    tp, n_flag, n_pos = int((y_a & f_a).sum()), int(f_a.sum()), int(y_a.sum())
    out = {"n": len(y), "n_pos": n_pos, "flagged": n_flag,
           "precision": tp / n_flag if n_flag else None, "recall": tp / n_pos if n_pos else None,
           "pr_auc": None}
    if 0 < n_pos < len(y):
        out["pr_auc"] = float(average_precision_score(y_a, np.array(score)))
    return out


def evaluate_labels(scorer, labels: Sequence[LabelInput]) -> dict:
    """Per reason (policy: per type) on these labels: precision and recall at the operating
    point (what the scorer flags), PR-AUC of its scores."""
    results = scorer.score_posts(label_inputs(labels)) if labels else []
    acc: dict[str, tuple[list, list, list]] = {}
    for lab, res in zip(labels, results):
        if lab.reason == "policy":
            if not lab.policy_type:
                continue
            key = f"policy:{lab.policy_type}"
            score = res.policy_scores.get(lab.policy_type, 0.0)
            flagged = lab.policy_type in res.policy_types
        elif lab.reason in ("scam", "miscategorised"):
            key, score, flagged = lab.reason, res.scores.get(lab.reason, 0.0), lab.reason in res.flags
        else:
            continue
        ys, ss, fs = acc.setdefault(key, ([], [], []))
        ys.append(int(lab.positive))
        ss.append(float(score))
        fs.append(bool(flagged))
    return {k: _figures(*v) for k, v in sorted(acc.items())}


def shipped_figures(metrics: dict) -> dict:
    """The cross-validated figures at the operating point each version shipped with."""
    out = {}
    scam = metrics["scam"].get("cv_all") or {}
    out["scam"] = {k: scam.get(k) for k in ("n", "n_pos", "precision", "recall", "pr_auc")}
    cat = metrics["miscategorised"].get("cv_pairs") or {}
    out["miscategorised"] = {k: cat.get(k) for k in ("n", "n_pos", "precision", "recall", "pr_auc")}
    for t, cv in sorted((metrics["policy"].get("cv") or {}).items()):
        out[f"policy:{t}"] = {"n": None, "n_pos": cv.get("n_pos"), "precision": cv.get("cv_precision"),
                              "recall": cv.get("cv_recall"), "pr_auc": None}
    return out


def short_honest(scorer) -> dict:
    """The short honest test posts (data/seed/short_honest_posts.jsonl) this scorer flags."""
    posts = load_short_honest()
    results = scorer.score_posts([PostInput(id=d["id"], title=d["title"], description=d["description"],
                                            category=d.get("category")) for d in posts])
    flagged = [{"id": r.id, "flags": list(r.flags)} for r in results if r.flags]
    return {"n": len(posts), "flagged": len(flagged), "posts": flagged}


def flag_keys(res) -> set[str]:
    """What a score flags, policy per type (``policy:off_platform``)."""
    keys = {f for f in res.flags if f != "policy"}
    keys |= {f"policy:{t}" for t in res.policy_types} if "policy" in res.flags else set()
    return keys


def flag_diff(active, candidate, posts: Sequence[PostInput], chunk: int = 500) -> dict:
    """Per reason (policy: per type): what each flags on ``posts`` and what the candidate
    would add and drop."""
    out: dict[str, dict] = {}

    def bump(key: str, field: str) -> None:
        out.setdefault(key, {"active": 0, "candidate": 0, "added": 0, "dropped": 0})[field] += 1

    for start in range(0, len(posts), chunk):
        part = posts[start:start + chunk]
        for a, c in zip(active.score_posts(part), candidate.score_posts(part)):
            ka, kc = flag_keys(a), flag_keys(c)
            for k in ka:
                bump(k, "active")
            for k in kc:
                bump(k, "candidate")
            for k in kc - ka:
                bump(k, "added")
            for k in ka - kc:
                bump(k, "dropped")
    return {"n_posts": len(posts), "by_reason": dict(sorted(out.items()))}


def gate(comparison: dict, margin: float, min_flagged: int = 5) -> list[str]:
    """Why the candidate may not be promoted ([] = it passes): a reason whose precision at the
    operating point is lower than the active model's by more than ``margin`` (shipped
    cross-validation; the labels' time split where both flagged at least ``min_flagged``),
    or any short honest post flagged."""
    failures = []
    for part, label in (("shipped", "shipped CV"), ("time_split", "labels after the cut-off")):
        figures = comparison.get(part) or {}
        cand, act = figures.get("candidate") or {}, figures.get("active") or {}
        for key in sorted(set(cand) & set(act)):
            c, a = cand[key], act[key]
            if c.get("precision") is None or a.get("precision") is None:
                continue
            if part == "time_split" and min(c.get("flagged") or 0, a.get("flagged") or 0) < min_flagged:
                continue
            if c["precision"] < a["precision"] - margin:
                failures.append(f"{key}: precision {c['precision']:.3f} on {label}, active "
                                f"{a['precision']:.3f} (margin {margin:.3f})")
    honest = (comparison.get("short_honest") or {}).get("candidate") or {}
    if honest.get("flagged"):
        ids = ", ".join(p["id"] for p in honest.get("posts", [])[:5])
        failures.append(f"{honest['flagged']} short honest post(s) flagged ({ids})")
    return failures


def time_cutoff(decided: Sequence[datetime], share: float = 0.8, min_after: int = 5) -> datetime | None:
    """The cut-off of the labels' time split: the first ``share`` of the labels (by time)
    before it; None when fewer than ``min_after`` would come after it."""
    times = sorted(decided)
    k = int(len(times) * share)
    if len(times) - k < min_after or k == 0:
        return None
    return times[k]


def load_versions(root: Path | None, versions: dict[str, str]):
    """A scorer of these versions (any on disk, active or not)."""
    from .registry import DETECTORS
    from .scorer import Scorer

    root = Path(root) if root is not None else ARTIFACTS_DIR
    bundles, metrics = {}, {}
    for det in DETECTORS:
        bundles[det], metrics[det] = load_bundle(root, det, versions[det])
    return Scorer(bundles, metrics, root)


__all__ = ["LabelInput", "PROFILES", "evaluate_labels", "flag_diff", "gate", "load_versions",
           "merge_labels", "shipped_figures", "short_honest", "time_cutoff", "train_candidate"]
