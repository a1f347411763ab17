"""Held-out evaluation of the ACTIVE models on the grouped TEST split, with baselines.

    python -m classifiers evaluate       -> prints a report, writes <model_dir>/evaluation.json

Per detector: PR-AUC, ROC-AUC, precision/recall/F1 at the shipped threshold, recall at
precision 0.9, seeded bootstrap 95% intervals, and side by side a majority-class baseline
and a plain TfidfVectorizer() + LogisticRegression() baseline fitted on the same train rows.
Scam figures on EMSCAD are re-weighted to the real fraud rate (4.84%); "model" is the shipped
score (calibrated model raised by fired scam cues), "model_only" the calibrated model alone.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score


from . import feedback as fb_mod
from .data import DATA_DIR, load_short_honest
from .registry import ARTIFACTS_DIR
from .scorer import load_scorer
from .training import build_datasets
from .types import PostInput

BOOT_SEED = 20240501
SHORT_MAX = 250


def _prec_rec(p, y, w, thr):
    pred = p >= thr
    tp = float((w * (pred & (y == 1))).sum())
    fp = float((w * (pred & (y == 0))).sum())
    fn = float((w * (~pred & (y == 1))).sum())
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * prec * rec / (prec + rec) if prec == prec and rec == rec and prec + rec else float("nan")
    return prec, rec, f1


def _recall_at_precision(p, y, w, target=0.9):
    order = np.argsort(-p, kind="stable")
    ys, ws = y[order], w[order]
    tp = np.cumsum(ws * ys)
    fp = np.cumsum(ws * (1 - ys))
    prec = tp / np.maximum(tp + fp, 1e-12)
    rec = tp / max(float((w * y).sum()), 1e-12)
    ok = prec >= target
    return float(rec[ok].max()) if ok.any() else 0.0


def _metrics(p, y, w=None, thr=None, n_boot=1000):
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=int)
    w = np.ones_like(p) if w is None else np.asarray(w, dtype=float)
    out = {"n": int(len(y)), "n_pos": int(y.sum()), "pr_auc": float(average_precision_score(y, p, sample_weight=w)),
           "roc_auc": float(roc_auc_score(y, p, sample_weight=w)), "recall_at_p90": _recall_at_precision(p, y, w)}
    if thr is not None:
        out["threshold"] = float(thr)
        out["precision"], out["recall"], out["f1"] = _prec_rec(p, y, w, thr)
    if n_boot:
        rng = np.random.default_rng(BOOT_SEED)
        keys = ["pr_auc", "roc_auc"] + (["precision", "recall", "f1"] if thr is not None else [])
        samples = {k: [] for k in keys}
        for _ in range(n_boot):
            idx = rng.integers(0, len(y), len(y))
            yb, pb, wb = y[idx], p[idx], w[idx]
            if yb.min() == yb.max():
                continue
            samples["pr_auc"].append(average_precision_score(yb, pb, sample_weight=wb))
            samples["roc_auc"].append(roc_auc_score(yb, pb, sample_weight=wb))
            if thr is not None:
                pr, rc, f1 = _prec_rec(pb, yb, wb, thr)
                samples["precision"].append(pr)
                samples["recall"].append(rc)
                samples["f1"].append(f1)
        out["ci95"] = {k: [float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5))] for k, v in samples.items() if v}
    return out


def _paired_gain(p, p_base, y, w, n_boot=1000) -> dict:
    """PR-AUC(p) - PR-AUC(p_base) on the same rows, with a paired bootstrap: both scored on
    each resample, so the interval is that of the difference itself (much narrower than the
    two separate intervals suggest)."""
    p, p_base, y, w = (np.asarray(a, dtype=float) for a in (p, p_base, y, w))
    out = {"gain": float(average_precision_score(y, p, sample_weight=w) - average_precision_score(y, p_base, sample_weight=w))}
    if n_boot:
        rng = np.random.default_rng(BOOT_SEED + 1)
        gains = []
        for _ in range(n_boot):
            idx = rng.integers(0, len(y), len(y))
            if y[idx].min() == y[idx].max():
                continue
            gains.append(average_precision_score(y[idx], p[idx], sample_weight=w[idx])
                         - average_precision_score(y[idx], p_base[idx], sample_weight=w[idx]))
        g = np.array(gains)
        out.update({"ci95": [float(np.percentile(g, 2.5)), float(np.percentile(g, 97.5))],
                    "share_above_0": float((g > 0).mean()), "share_at_least_0.05": float((g >= 0.05).mean())})
    return out


def _majority(y, w=None):
    """Majority-class baseline: a constant score (PR-AUC = weighted positive share, ROC-AUC 0.5)."""
    p = np.zeros(len(y))
    return _metrics(p, y, w, thr=0.5, n_boot=0)


def _plain_lr(train_texts, y_train, test_texts):
    v = TfidfVectorizer()
    lr = LogisticRegression(max_iter=2000).fit(v.fit_transform(train_texts), y_train)
    return lr, v, lr.predict_proba(v.transform(test_texts))


def evaluate(model_dir: Path | None = None, n_boot: int = 1000, progress: bool = False, write: bool = True) -> dict:
    """The report of the ACTIVE models: the post detectors' cross-validated figures (computed when
    they were trained, see ``post_training``), their figures on real text held out by source,
    and live checks of the shipped scorer on hand-written honest posts that never trained."""
    root = Path(model_dir) if model_dir is not None else ARTIFACTS_DIR
    scorer = load_scorer(root)
    seed = int(scorer.metrics["scam"]["seed"])
    ds = build_datasets(seed, real_posts=False)
    say = (lambda m: print(m, file=sys.stderr)) if progress else (lambda m: None)
    m = scorer.metrics
    report: dict = {"seed": seed, "versions": scorer.versions, "thresholds": scorer.thresholds, "n_bootstrap": n_boot}
    say("evaluate: post detectors (cross-validated at training)")
    report["scam"] = {k: m["scam"].get(k) for k in ("cv_emscad", "baseline_cv_emscad", "cv_all", "repeats", "operating_point")}
    report["real_by_source"] = m["scam"].get("real_by_source") or {}
    report["miscategorised"] = {k: m["miscategorised"].get(k) for k in ("cv_pairs", "cv_category_accuracy", "cv_not_a_job")}
    report["policy"] = m["policy"].get("cv", {})

    # ---------------- feedback
    say("evaluate: feedback")
    fbs, fsp = ds.feedback, ds.fb_split
    ftr, fte = fsp == 0, fsp == 2
    yf = np.array([r.negative for r in fbs])
    pf = fb_mod.predict(scorer._b["feedback"], [r.text for r, m in zip(fbs, fte) if m], [r.rating for r, m in zip(fbs, fte) if m])
    _, _, pfb = _plain_lr([r.text for r, m in zip(fbs, ftr) if m], yf[ftr], [r.text for r, m in zip(fbs, fte) if m])
    seed_fb = np.array([r.source == "seed" for r in fbs])[fte]
    report["feedback"] = {"test": {"model": _metrics(pf, yf[fte], None, scorer.thresholds["feedback"], n_boot),
                                   "tfidf_lr": _metrics(pfb[:, 1], yf[fte], None, 0.5, n_boot), "majority": _majority(yf[fte])}}
    if seed_fb.any() and 0 < yf[fte][seed_fb].sum() < seed_fb.sum():
        report["feedback"]["seed_freelancer_feedback_test"] = {
            "model": _metrics(pf[seed_fb], yf[fte][seed_fb], None, scorer.thresholds["feedback"], 0),
            "tfidf_lr": _metrics(pfb[seed_fb, 1], yf[fte][seed_fb], None, 0.5, 0)}

    # ---------------- honest posts that never trained (false-positive rates)
    say("evaluate: honest posts")
    short = load_short_honest() + load_short_honest(DATA_DIR / "seed" / "short_honest_titles.jsonl")

    def fp_rates(res):
        n = max(len(res), 1)
        d = {det: sum(det in r.flags for r in res) / n for det in ("scam", "miscategorised", "policy")}
        d["any"] = sum(bool(r.flags) for r in res) / n
        d["n"] = len(res)
        return d

    res_c = scorer.score_posts([PostInput(id=d["id"], title=d["title"], description=d["description"], category=d["category"])
                                for d in short])
    res_n = scorer.score_posts([PostInput(id=d["id"], title=d["title"], description=d["description"]) for d in short])
    report["honest_false_positive_rate"] = {
        "short honest posts, with their category (hand-written, never trained on)": fp_rates(res_c),
        "short honest posts, category null": fp_rates(res_n),
        "flagged_short_ids": sorted({r.id for r in res_c + res_n if r.flags}),
    }
    report = json.loads(json.dumps(report, default=float))
    if write:
        (root / "evaluation.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return report


def _fmt_m(name: str, m: dict) -> str:
    ci = m.get("ci95", {})

    def f(k):
        v = m.get(k)
        if v is None or v != v:
            return "   -  "
        s = f"{v:.3f}"
        if k in ci:
            s += f" [{ci[k][0]:.3f},{ci[k][1]:.3f}]"
        return s

    return (f"  {name:<10} PR-AUC {f('pr_auc'):<22} ROC-AUC {f('roc_auc'):<22} P {f('precision'):<22} "
            f"R {f('recall'):<22} F1 {f('f1'):<22} R@P0.9 {m.get('recall_at_p90', float('nan')):.3f}")


def _fmt_cv(name: str, d: dict | None) -> str:
    if not d:
        return f"  {name:<16} -"
    parts = []
    for k, label in (("pr_auc", "PR-AUC"), ("roc_auc", "ROC-AUC"), ("recall_at_p90", "R@P0.9")):
        v = d[k]
        parts.append(f"{label} {v['mean']:.3f} [{v['ci95'][0]:.3f},{v['ci95'][1]:.3f}]")
    return f"  {name:<16} " + "   ".join(parts) + f"   (n {d['n']}, {d['n_pos']} positive)"


def format_report(rep: dict) -> str:
    L = [f"TrustDesk classifiers - versions: {rep['versions']['scam']} (seed {rep['seed']})", ""]
    s = rep["scam"]
    L.append(f"SCAM - EMSCAD rows, grouped {s.get('repeats')}x5-fold cross-validation on every labelled row, legitimate rows "
             f"re-weighted to the real 4.84% fraud rate; mean over repeats [95% bootstrap interval]")
    L.append(_fmt_cv("model", s.get("cv_emscad")))
    L.append(_fmt_cv("tfidf+LinearSVC", s.get("baseline_cv_emscad")))
    a = s.get("cv_all") or {}
    if a:
        L.append(f"  all rows (EMSCAD weighted + seed + real), threshold {rep['thresholds']['scam']:.3f}: "
                 f"P {a['precision']:.3f}  R {a['recall']:.3f}  PR-AUC {a.get('pr_auc', float('nan')):.3f}")
    L.append("")
    r = rep.get("real_by_source") or {}
    L.append("REAL POSTS HELD OUT BY SOURCE (realphrasing; each scored by models that never saw its source; category null)")
    if r:
        L.append(f"  bad posts flagged {r['bad_flagged']:.0%}   flagged for the right reason {r['bad_right_reason']:.0%}   "
                 f"honest posts flagged {r['honest_flagged']:.0%}   (per repeat: {r['per_repeat']})")
        for lab, d in r["by_label"].items():
            rr = "" if d["right_reason"] is None else f"  right reason {d['right_reason']:.0%}"
            L.append(f"    {lab:<20} n {d['n']:>3}  flagged {d['flagged']:.0%}{rr}")
    else:
        L.append("  - (trained without ../shared/data/realphrasing)")
    L.append("")
    m = rep["miscategorised"]
    L.append(f"MISCATEGORISED - cross-validated (threshold {rep['thresholds']['miscategorised']:.3f}; "
             f"not_a_job {rep['thresholds']['not_a_job']:.3f})")
    for k in ("cv_pairs", "cv_not_a_job"):
        d = m.get(k) or {}
        if d:
            L.append(f"  {k:<14} n {d['n']:>5}  P {d['precision'] or 0:.3f}  R {d['recall'] or 0:.3f}  "
                     f"PR-AUC {d.get('pr_auc', float('nan')):.3f}  ROC-AUC {d.get('roc_auc', float('nan')):.3f}")
    if m.get("cv_category_accuracy") is not None:
        L.append(f"  category accuracy {m['cv_category_accuracy']:.3f}")
    L.append("")
    L.append("POLICY - cross-validated flags per type (a rule hit, or the model at its threshold)")
    for t, d in rep["policy"].items():
        L.append(f"  {t:<20} n_pos {d['n_pos']:>3}  P {d['cv_precision'] or 0:.3f}  R {d['cv_recall'] or 0:.3f}  "
                 f"rule precision {d['rule_precision']:.3f}  threshold {rep['thresholds']['policy'][t]:.3f}")
    L.append("")
    f = rep["feedback"]
    L.append(f"FEEDBACK NEGATIVITY - test split (threshold {rep['thresholds']['feedback']:.3f})")
    for k in ("model", "tfidf_lr", "majority"):
        L.append(_fmt_m(k, f["test"][k]))
    if "seed_freelancer_feedback_test" in f:
        L.append("  freelancer-about-client seed feedback only:")
        for k in ("model", "tfidf_lr"):
            L.append("  " + _fmt_m(k, f["seed_freelancer_feedback_test"][k]))
    L.append("")
    L.append("HONEST POSTS - false-positive rate per detector")
    for k, d in rep["honest_false_positive_rate"].items():
        if isinstance(d, dict):
            L.append(f"  {k:<72} n={d['n']:<4} scam {d['scam']:.3f}  miscategorised {d['miscategorised']:.3f}  "
                     f"policy {d['policy']:.3f}  any {d['any']:.3f}")
    L.append(f"  flagged short honest posts: {rep['honest_false_positive_rate']['flagged_short_ids']}")
    return "\n".join(L)
