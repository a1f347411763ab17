"""Train every detector: seeded, deterministic, writes a new version and activates it.

    python -m classifiers train        (or classifiers.training.train_all())

Splits (``build_datasets``): EMSCAD rows and seed posts are split 60/20/20 into
train / validation / test by GROUP (near-duplicate ads, or seed posts built around the
same core sentence, never straddle parts). Models are fitted on train, calibrated on
out-of-fold train scores, thresholds are chosen by ``threshold_rule`` on validation only
(target precision on the validation rows AND above every score of the short honest
validation posts, data/seed/short_honest_validation.jsonl), and test (incl.
data/seed/short_honest_posts.jsonl) is only touched by ``classifiers.evaluation``.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from models.taxonomy import CATEGORIES, CATEGORY_LABELS, NOT_A_JOB

from . import feedback_cv as fb_cv
from . import miscategorised as cat_mod
from . import policy as pol_mod
from . import scam as scam_mod
from .data import (DATA_DIR, EMSCAD_REAL_FRAUD_RATE, FeedbackRow, PostRow, grouped_split, load_emscad, load_feedback,
                   load_seed_posts, load_short_honest_validation, post_text)
from .modelling import clean_text, hstack, pack_vectorizer, make_char_vectorizer, make_word_vectorizer, threshold_for_precision
from .policy_rules import POLICY_TYPES, find_policy_hits
from .registry import ARTIFACTS_DIR, save_bundle, write_active

DEFAULT_SEED = 1729
WORD_MAX_FEATURES = 12000
CHAR_MAX_FEATURES = 12000

#: target precision each threshold is chosen for (on validation; scam precision is
#: re-weighted to the real-world fraud rate of 4.84%)
TARGET_PRECISION = {"scam": 0.80, "miscategorised": 0.95, "policy": 0.90, "feedback": 0.90}
#: floor for MODEL-ONLY policy flags (a rule hit always flags). Was 0.99, a design prior for
#: the former all-rows Platt calibration whose scores sat at 0 or 1. The model-only score is
#: now calibrated as P(violation | the type's rules are silent) (policy.py), so the floor is
#: the policy target precision itself: a model-only flag means "at least 90% likely", and a
#: displayed 0.9 or more without a rule hit is a flag unless validation precision asks for more.
POLICY_MODEL_MIN_THRESHOLD = 0.90


@dataclass
class Datasets:
    posts: list[PostRow]
    post_split: np.ndarray  # 0 train / 1 validation / 2 test
    feedback: list[FeedbackRow]
    fb_split: np.ndarray
    seed: int
    #: data/seed/short_honest_validation.jsonl: short honest posts used ONLY as a threshold
    #: constraint (never trained on; the separate short_honest_posts.jsonl is the test set)
    short_honest_val: list[dict] = field(default_factory=list)


def _every(rows: list, k: int, key) -> list:
    """Deterministic subset: every k-th row within each stratum ``key(row)`` (keeps every label)."""
    seen: dict = {}
    out = []
    for r in rows:
        n = seen[key(r)] = seen.get(key(r), -1) + 1
        if n % k == 0:
            out.append(r)
    return out


#: hand-written honest posts about legitimate messenger work (Telegram/WhatsApp/Discord bots and
#: integrations, support inboxes, channels), TRAINING ONLY. Added because the NB-LR scam model and
#: the off_platform model leaned on the bare word "Telegram" (validation: "Telegram bot for
#: reminders" set both thresholds just above itself; test: "Telegram order notifications" flagged)
TRAIN_ONLY_POSTS = DATA_DIR / "seed" / "honest_messenger_posts.jsonl"


def build_datasets(seed: int = DEFAULT_SEED, limit: int | None = None, seed_every: int | None = None) -> Datasets:
    """Load and split. ``limit`` keeps only a deterministic subset of the EMSCAD and public
    sentiment rows, ``seed_every`` every k-th seed post / seed feedback row per label (both
    used by the fast determinism test); by default everything is kept."""
    emscad = load_emscad()
    seedp = load_seed_posts()
    fbs = load_feedback()
    if seed_every:
        seedp = _every(seedp, seed_every, lambda r: (r.true_category, r.scam, tuple(r.policy_types)))
        fbs = [r for r in fbs if r.source != "seed"] + _every([r for r in fbs if r.source == "seed"], seed_every,
                                                               lambda r: (r.negative, r.rating))
    if limit is not None:
        emscad = [r for i, r in enumerate(emscad) if i % max(1, len(emscad) // limit) == 0][:limit]
        pub = [r for r in fbs if r.source != "seed"]
        pub = [r for i, r in enumerate(pub) if i % max(1, len(pub) // limit) == 0][:limit]
        fbs = pub + [r for r in fbs if r.source == "seed"]
    s_em = grouped_split([r.group for r in emscad], [r.scam for r in emscad], seed)
    s_seed = grouped_split([r.group for r in seedp], [int(r.scam or bool(r.policy_types) or r.true_category == NOT_A_JOB) for r in seedp], seed)
    # training-only supplement (never split: adding it leaves every validation/test row in place)
    extra = load_seed_posts(TRAIN_ONLY_POSTS)
    posts = emscad + seedp + extra
    post_split = np.concatenate([s_em, s_seed, np.zeros(len(extra), dtype=s_seed.dtype)])
    fb_split = grouped_split([r.group for r in fbs], [r.negative for r in fbs], seed)
    return Datasets(posts, post_split, fbs, fb_split, seed, load_short_honest_validation())


def emscad_weights(rows: list[PostRow]) -> np.ndarray:
    """Weights that re-weight EMSCAD legitimate rows to the real fraud rate (seed rows: 1)."""
    em = [r for r in rows if r.source == "emscad"]
    n_f = sum(r.scam for r in em)
    n_l = len(em) - n_f
    w_l = (1 - EMSCAD_REAL_FRAUD_RATE) / EMSCAD_REAL_FRAUD_RATE * (n_f / max(n_l, 1))
    return np.array([w_l if (r.source == "emscad" and r.scam == 0) else 1.0 for r in rows])


def policy_rule_matrix(rows) -> np.ndarray:
    """R: 0/1 policy-rule indicators (one column per POLICY_TYPES) for PostRow-like objects."""
    R = []
    for r in rows:
        kinds = {h.kind for h in find_policy_hits(post_text(r.title, r.description))}
        R.append([float(t in kinds) for t in POLICY_TYPES])
    return np.array(R, dtype=np.float32)


def policy_labels(rows: list[PostRow]) -> np.ndarray:
    return np.array([[float(t in r.policy_types) for t in POLICY_TYPES] for r in rows], dtype=np.float32)


def policy_train_mask(rows: list[PostRow], R: np.ndarray) -> np.ndarray:
    """EMSCAD rows are unlabelled for policy: use them as negatives only where no rule fires."""
    return np.array([r.source == "seed" or R[i].sum() == 0 for i, r in enumerate(rows)])


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


def _data_hash(ds: Datasets) -> str:
    h = hashlib.sha256()
    for r in ds.posts:
        h.update(f"{r.id}|{r.title}|{r.description}|{r.scam}|{r.true_category}|{r.policy_types}\n".encode())
    for r in ds.feedback:
        h.update(f"{r.id}|{r.text}|{r.negative}|{r.rating}\n".encode())
    for d in ds.short_honest_val:
        h.update(f"{d['id']}|{d['title']}|{d['description']}|{d['category']}\n".encode())
    h.update(f"seed={ds.seed}".encode())
    return h.hexdigest()[:10]


class _Progress:
    def __init__(self, enabled: bool, total: int):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=sys.stderr, desc="train", unit="step")

    def step(self, what: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(what)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def fit_all(ds: Datasets, progress: bool = False) -> tuple[dict[str, dict], dict[str, dict]]:
    """Fit every detector on ``ds``. Returns (bundles, metrics) keyed by detector."""
    prog = _Progress(progress, 6)
    rows = ds.posts
    tr, va = ds.post_split == 0, ds.post_split == 1
    texts = [clean_text(post_text(r.title, r.description)) for r in rows]
    word, char = make_word_vectorizer(WORD_MAX_FEATURES), make_char_vectorizer(CHAR_MAX_FEATURES)
    tr_texts = [t for t, m in zip(texts, tr) if m]
    word.fit(tr_texts)
    char.fit(tr_texts)
    X = hstack([word.transform(texts), char.transform(texts)])
    R = policy_rule_matrix(rows)
    groups = np.array([r.group for r in rows])
    # short honest validation posts: threshold constraint only (scored with and without their category)
    shv = ds.short_honest_val
    X_sh = hstack([word.transform([clean_text(post_text(d["title"], d["description"])) for d in shv]),
                   char.transform([clean_text(post_text(d["title"], d["description"])) for d in shv])]) if shv else None
    R_sh = policy_rule_matrix([PostRow(d["id"], d["title"], d["description"], "seed", "", 0, d["category"]) for d in shv]) if shv else None
    prog.step("features")
    bundles: dict[str, dict] = {"post_text": {"word": pack_vectorizer(word), "char": pack_vectorizer(char)}}
    metrics: dict[str, dict] = {"post_text": {"n_word_features": len(word.vocabulary_), "n_char_features": len(char.vocabulary_)}}

    # ---- scam
    y = np.array([r.scam for r in rows])
    w = emscad_weights(rows)
    b = scam_mod.fit(X[tr], y[tr], groups[tr], w[tr])
    p_va_model = scam_mod.predict(b, X[va])
    # scam cues: precision floor per cue from VALIDATION rows (EMSCAD re-weighted + seed)
    F_va = scam_mod.cue_matrix([post_text(r.title, r.description) for r, m in zip(rows, va) if m])
    F_sh = scam_mod.cue_matrix([post_text(d["title"], d["description"]) for d in shv]) if shv else None
    cues = scam_mod.cue_floors(F_va, y[va], w[va], F_sh)
    b["cue_floor"] = {c: d["floor"] for c, d in cues.items()}
    p_va = scam_mod.apply_cues(p_va_model, F_va, b["cue_floor"])
    p_sh = scam_mod.apply_cues(scam_mod.predict(b, X_sh), F_sh, b["cue_floor"]) if shv else None
    thr, notes = threshold_rule(p_va, y[va], TARGET_PRECISION["scam"], w[va], honest_scores=p_sh)
    em_va = np.array([r.source == "emscad" for r in rows])[va]
    for d in cues.values():
        d["flags_alone"] = d["floor"] >= thr
    bundles["scam"] = b
    metrics["scam"] = {"threshold": thr, "target_precision": TARGET_PRECISION["scam"], "operating_point": notes,
                       "cues": cues,
                       "validation": _binary_summary(p_va, y[va], w[va], thr),
                       "validation_emscad": _binary_summary(p_va[em_va], y[va][em_va], w[va][em_va], thr),
                       "validation_model_only": _binary_summary(p_va_model, y[va], w[va], thr),
                       "validation_emscad_model_only": _binary_summary(p_va_model[em_va], y[va][em_va], w[va][em_va], thr),
                       "nb_alpha": scam_mod.NB_ALPHA, "C": scam_mod.C}
    prog.step("scam")

    # ---- category / miscategorised
    cat_rows = [i for i in np.flatnonzero(tr) if rows[i].true_category is not None]
    b = cat_mod.fit(X[cat_rows], [rows[i].true_category for i in cat_rows], groups[cat_rows])
    va_rows = [rows[i] for i in np.flatnonzero(va)]
    idx, posted, ym = miscat_pairs(va_rows)
    va_idx = np.flatnonzero(va)[idx]
    proba = cat_mod.predict_proba(b, X[va_idx])
    s = cat_mod.miscategorised_score(proba, posted)
    honest = None
    if shv:  # as the scorer flags: score >= t and (no category posted or the arg-max differs from it)
        p_sh = cat_mod.predict_proba(b, X_sh)
        pred_sh = [cat_mod.suggestion(r) for r in p_sh]
        honest = []
        for post_as in ([d["category"] for d in shv], [None] * len(shv)):
            s_sh = cat_mod.miscategorised_score(p_sh, post_as)
            honest += [v for v, c, pr in zip(s_sh, post_as, pred_sh) if c is None or pr != c]
        honest = np.array(honest)
    thr, notes = threshold_rule(s, ym, TARGET_PRECISION["miscategorised"], honest_scores=honest)
    true_lab = np.array([CATEGORY_LABELS.index(va_rows[i].true_category) for i in idx])
    # not_a_job: a confident not_a_job prediction flags whatever category was posted. Score =
    # P(not_a_job) when it is the arg-max (else 0); rows = every validation post (EMSCAD + seed),
    # positive = true category not_a_job; same threshold rule and target as miscategorised.
    p_all = cat_mod.predict_proba(b, X[va])
    s_naj = cat_mod.not_a_job_score(p_all)
    y_naj = np.array([int(r.true_category == NOT_A_JOB) for r in va_rows])
    thr_naj, notes_naj = threshold_rule(s_naj, y_naj, TARGET_PRECISION["miscategorised"],
                                        honest_scores=cat_mod.not_a_job_score(p_sh) if shv else None)
    bundles["miscategorised"] = b
    metrics["miscategorised"] = {"threshold": thr, "target_precision": TARGET_PRECISION["miscategorised"], "operating_point": notes,
                                 "validation": _binary_summary(s, ym, None, thr),
                                 "validation_category_accuracy": float(np.mean(proba.argmax(1) == true_lab)),
                                 "not_a_job_threshold": thr_naj, "not_a_job_operating_point": notes_naj,
                                 "not_a_job_validation": _binary_summary(s_naj, y_naj, None, thr_naj)}
    prog.step("miscategorised")

    # ---- policy
    Y = policy_labels(rows)
    m_tr = tr & policy_train_mask(rows, R)
    b = pol_mod.fit(X[m_tr], R[m_tr], Y[m_tr], groups[m_tr])
    n_silent_pos = b.pop("n_rule_silent_train_positives")
    seed_va = va & np.array([r.source == "seed" for r in rows])
    P_va, _ = pol_mod.predict_model(b, X[seed_va], R[seed_va])
    P_sh = pol_mod.predict_model(b, X_sh, R_sh)[0] if shv else None
    # the model-only decision is made on rule-silent rows: validation rows of the training
    # population (seed rows, and EMSCAD rows where no rule fires, as negatives) whose rule is silent
    pop_va = va & policy_train_mask(rows, R)
    P_pop, _ = pol_mod.predict_model(b, X[pop_va], R[pop_va])
    thresholds, rule_prec, per_type, op, calib = {}, {}, {}, {}, {}
    for j, t in enumerate(POLICY_TYPES):
        fired = R[seed_va][:, j] > 0
        rule_prec[t] = float(Y[seed_va][fired, j].mean()) if fired.any() else 0.0
    P_ship = pol_mod.combine(P_va, R[seed_va], rule_prec)
    for j, t in enumerate(POLICY_TYPES):
        yt = Y[seed_va][:, j]
        silent = R[pop_va][:, j] == 0
        ys, ps = Y[pop_va][silent, j], P_pop[silent, j]
        # model-only flags: calibrated P(violation | rules silent) >= t, t chosen on the rule-silent
        # validation rows by the threshold rule, at least POLICY_MODEL_MIN_THRESHOLD
        thresholds[t], op[t] = threshold_rule(ps, ys, TARGET_PRECISION["policy"], min_threshold=POLICY_MODEL_MIN_THRESHOLD,
                                              honest_scores=P_sh[:, j][R_sh[:, j] == 0] if shv else None)
        op[t]["short_honest_validation_rule_hits"] = int(R_sh[:, j].sum()) if shv else 0
        fired = R[seed_va][:, j] > 0
        flag = fired | (P_va[:, j] >= thresholds[t])
        per_type[t] = _binary_summary(P_ship[:, j], yt, None, thresholds[t])  # PR/ROC-AUC of the shipped type score
        tp, fp = float((flag & (yt > 0)).sum()), float((flag & (yt == 0)).sum())
        per_type[t]["precision"] = tp / (tp + fp) if tp + fp else None  # of the shipped flags (rule or model)
        per_type[t]["recall"] = tp / float((yt > 0).sum()) if (yt > 0).any() else None
        per_type[t]["rule_precision"] = rule_prec[t]
        per_type[t]["rule_recall"] = float(fired[yt > 0].mean()) if (yt > 0).any() else None
        calib[t] = {"platt": b["platt"][t], "n_rule_silent_train_positives": n_silent_pos[t],
                    "validation_rule_silent_n": int(len(ys)), "validation_rule_silent_pos": int(ys.sum()),
                    "validation_rule_silent_max_p": float(ps.max()) if len(ps) else None,
                    "validation_rule_silent_n_p_ge_0.9": int((ps >= 0.9).sum()),
                    "validation_rule_silent_pos_p_ge_0.9": int(ys[ps >= 0.9].sum()),
                    "validation_rule_silent_brier": float(np.mean((ps - ys) ** 2)) if len(ps) else None}
    b["rule_precision"] = rule_prec
    bundles["policy"] = b
    metrics["policy"] = {"thresholds": thresholds, "target_precision": TARGET_PRECISION["policy"], "validation": per_type,
                         "operating_point": op, "model_only_calibration": calib}
    prog.step("policy")

    # ---- feedback (classifiers/feedback_cv.py: selection by leave-one-source-out, repeated grouped
    # CV on every labelled row, threshold on out-of-fold scores, refit on all rows)
    bundles["feedback"], metrics["feedback"] = fb_cv.train(ds.feedback)
    prog.step("feedback")
    prog.close()
    for k in metrics:
        metrics[k]["seed"] = ds.seed
        metrics[k]["n_train"] = int(tr.sum()) if k != "feedback" else len(ds.feedback)
    return bundles, metrics


def _binary_summary(p: np.ndarray, y: np.ndarray, w: np.ndarray | None, thr: float) -> dict:
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


def train_all(out_dir: Path | None = None, seed: int = DEFAULT_SEED, progress: bool = True, limit: int | None = None,
              activate: bool = True) -> dict:
    """Train all detectors, save ``<out_dir>/<detector>/<version>/``, update active.json.

    Returns {"version": ..., "versions": {detector: version}, "metrics": {...}, "seconds": ...}.
    """
    t0 = time.perf_counter()
    root = Path(out_dir) if out_dir is not None else ARTIFACTS_DIR
    ds = build_datasets(seed, limit=limit)
    bundles, metrics = fit_all(ds, progress=progress)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    version = f"{stamp}-{_data_hash(ds)}"
    versions = {}
    for det, bundle in bundles.items():
        metrics[det]["version"] = f"{det}-{version}"
        save_bundle(bundle, root, det, version, metrics[det])
        versions[det] = version
    if activate:
        write_active(root, versions)
    return {"version": version, "versions": versions, "metrics": json.loads(json.dumps(metrics)),
            "seconds": round(time.perf_counter() - t0, 2), "out_dir": str(root)}
