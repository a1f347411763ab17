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

from models.taxonomy import CATEGORY_LABELS, NOT_A_JOB

from . import feedback as fb_mod
from . import miscategorised as cat_mod
from . import scam as scam_mod
from .data import load_short_honest, post_text
from .policy_rules import POLICY_TYPES
from .registry import ARTIFACTS_DIR
from .scorer import load_scorer
from .training import build_datasets, emscad_weights, miscat_pairs, policy_labels, policy_rule_matrix, policy_train_mask
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
    root = Path(model_dir) if model_dir is not None else ARTIFACTS_DIR
    scorer = load_scorer(root)
    seed = int(scorer.metrics["scam"]["seed"])
    ds = build_datasets(seed)
    rows, sp = ds.posts, ds.post_split
    tr, te = sp == 0, sp == 2
    say = (lambda m: print(m, file=sys.stderr)) if progress else (lambda m: None)
    inputs = [PostInput(id=r.id, title=r.title, description=r.description) for r in rows]
    X = scorer.vectorise(inputs)
    texts = [post_text(r.title, r.description) for r in rows]
    report: dict = {"seed": seed, "versions": scorer.versions, "thresholds": scorer.thresholds, "n_bootstrap": n_boot}

    # ---------------- scam
    say("evaluate: scam")
    y = np.array([r.scam for r in rows])
    w = emscad_weights(rows)
    em = np.array([r.source == "emscad" for r in rows])
    p_model_only = scam_mod.predict(scorer._b["scam"], X)
    p = scam_mod.apply_cues(p_model_only, scam_mod.cue_matrix(texts), scorer._b["scam"].get("cue_floor", {}))  # shipped score
    _, _, pb = _plain_lr([t for t, m in zip(texts, tr) if m], y[tr], [t for t, m in zip(texts, te) if m])
    pb = pb[:, 1]
    em_te = em[te]
    thr = scorer.thresholds["scam"]
    report["scam"] = {
        "emscad_test_weighted": {"model": _metrics(p[te][em_te], y[te][em_te], w[te][em_te], thr, n_boot),
                                 "tfidf_lr": _metrics(pb[em_te], y[te][em_te], w[te][em_te], 0.5, n_boot),
                                 "majority": _majority(y[te][em_te], w[te][em_te]),
                                 "model_only": _metrics(p_model_only[te][em_te], y[te][em_te], w[te][em_te], thr, 0)},
        "emscad_test_unweighted": {"model": _metrics(p[te][em_te], y[te][em_te], None, thr, 0),
                                   "tfidf_lr": _metrics(pb[em_te], y[te][em_te], None, 0.5, 0)},
        "seed_test": {"model": _metrics(p[te][~em_te], y[te][~em_te], None, thr, n_boot),
                      "tfidf_lr": _metrics(pb[~em_te], y[te][~em_te], None, 0.5, 0),
                      "majority": _majority(y[te][~em_te]),
                      "model_only": _metrics(p_model_only[te][~em_te], y[te][~em_te], None, thr, 0)},
    }
    d = report["scam"]["emscad_test_weighted"]
    report["scam"]["pr_auc_gain_vs_tfidf_lr"] = d["model"]["pr_auc"] - d["tfidf_lr"]["pr_auc"]
    report["scam"]["pr_auc_gain_paired"] = _paired_gain(p[te][em_te], pb[em_te], y[te][em_te], w[te][em_te], n_boot)

    # ---------------- miscategorised
    say("evaluate: miscategorised")
    te_rows = [rows[i] for i in np.flatnonzero(te)]
    idx, posted, ym = miscat_pairs(te_rows)
    te_idx = np.flatnonzero(te)[idx]
    proba = cat_mod.predict_proba(scorer._b["miscategorised"], X[te_idx])
    s = cat_mod.miscategorised_score(proba, posted)
    cat_tr = [i for i in np.flatnonzero(tr) if rows[i].true_category is not None]
    lr_b, v_b, _ = _plain_lr([texts[i] for i in cat_tr], [rows[i].true_category for i in cat_tr], texts[:1])
    pb_full = np.zeros((len(te_idx), len(CATEGORY_LABELS)))
    pb_raw = lr_b.predict_proba(v_b.transform([texts[i] for i in te_idx]))
    for j, c in enumerate(lr_b.classes_):
        pb_full[:, CATEGORY_LABELS.index(c)] = pb_raw[:, j]
    sb = np.array([1 - pb_full[i, CATEGORY_LABELS.index(c)] if c else pb_full[i, CATEGORY_LABELS.index(NOT_A_JOB)]
                   for i, c in enumerate(posted)])
    true_lab = np.array([CATEGORY_LABELS.index(te_rows[i].true_category) for i in idx])
    report["miscategorised"] = {
        "test_pairs": {"model": _metrics(s, ym, None, scorer.thresholds["miscategorised"], n_boot),
                       "tfidf_lr": _metrics(sb, ym, None, 0.5, n_boot), "majority": _majority(ym)},
        "category_accuracy": {"model": float(np.mean(proba.argmax(1) == true_lab)),
                              "tfidf_lr": float(np.mean(pb_full.argmax(1) == true_lab))},
        "not_a_job_rule": _metrics(cat_mod.not_a_job_score(cat_mod.predict_proba(scorer._b["miscategorised"], X[te])),
                                   np.array([int(r.true_category == NOT_A_JOB) for r in te_rows]), None,
                                   scorer.thresholds["not_a_job"], 0),
        "note": "pairs: each test post posted under its true category (label 0, or 1 for not_a_job), with no category, "
                "and under one deterministic wrong category (label 1)",
    }

    # ---------------- policy (seed test rows; EMSCAD has no policy labels)
    say("evaluate: policy")
    seed_te = te & ~em
    R = policy_rule_matrix(rows)
    Y = policy_labels(rows)
    inputs_te = [inputs[i] for i in np.flatnonzero(seed_te)]
    res = scorer.score_posts(inputs_te)
    P = np.array([[r.policy_scores[t] for t in POLICY_TYPES] for r in res])
    flagged = np.array([[t in r.policy_types for t in POLICY_TYPES] for r in res])
    Yt = Y[seed_te]
    m_tr = tr & policy_train_mask(rows, R)
    base = np.zeros_like(P)
    for j, t in enumerate(POLICY_TYPES):
        _, _, pbj = _plain_lr([t_ for t_, m in zip(texts, m_tr) if m], Y[m_tr][:, j], [texts[i] for i in np.flatnonzero(seed_te)])
        base[:, j] = pbj[:, 1]
    any_y = Yt.max(1)
    report["policy"] = {"any": {"model": _metrics(P.max(1), any_y, None, None, n_boot),
                                "tfidf_lr": _metrics(base.max(1), any_y, None, 0.5, n_boot), "majority": _majority(any_y)}}
    fl_any = flagged.any(1)
    tp = float((fl_any & (any_y == 1)).sum())
    report["policy"]["any"]["model"]["precision"] = tp / max(float(fl_any.sum()), 1)
    report["policy"]["any"]["model"]["recall"] = tp / max(float(any_y.sum()), 1)
    for j, t in enumerate(POLICY_TYPES):
        yt = Yt[:, j]
        fj = flagged[:, j]
        tpj = float((fj & (yt == 1)).sum())
        report["policy"][t] = {"n_pos": int(yt.sum()),
                               "model_pr_auc": float(average_precision_score(yt, P[:, j])) if yt.any() else None,
                               "tfidf_lr_pr_auc": float(average_precision_score(yt, base[:, j])) if yt.any() else None,
                               "precision": tpj / max(float(fj.sum()), 1), "recall": tpj / max(float(yt.sum()), 1),
                               "rule_recall": float(R[seed_te][yt == 1, j].mean()) if yt.any() else None}

    # ---------------- feedback
    say("evaluate: feedback")
    fm = scorer.metrics["feedback"]
    if "cv" in fm or "leave_one_source_out" in fm:
        # trained on ALL labelled rows (classifiers/feedback_cv.py): a split of them would be scored
        # by a model that saw it, so the report is the training run's out-of-fold measurement
        report["feedback"] = {k: fm[k] for k in ("cv", "leave_one_source_out", "settings", "operating_point", "realphrasing",
                                                 "rows_by_source", "selection") if k in fm}
    else:  # a model trained before per-sentence scoring: the old held-out split
        fbs, fsp = ds.feedback, ds.fb_split
        ftr, fte = fsp == 0, fsp == 2
        yf = np.array([r.negative for r in fbs])
        pf = fb_mod.predict(scorer._b["feedback"], [r.text for r, m in zip(fbs, fte) if m], [r.rating for r, m in zip(fbs, fte) if m])
        _, _, pfb = _plain_lr([r.text for r, m in zip(fbs, ftr) if m], yf[ftr], [r.text for r, m in zip(fbs, fte) if m])
        report["feedback"] = {"test": {"model": _metrics(pf, yf[fte], None, scorer.thresholds["feedback"], n_boot),
                                       "tfidf_lr": _metrics(pfb[:, 1], yf[fte], None, 0.5, n_boot), "majority": _majority(yf[fte])}}

    # ---------------- short vs long honest posts (false-positive rates)
    say("evaluate: honest posts")
    short = load_short_honest()
    res_s = scorer.score_posts([PostInput(id=d["id"], title=d["title"], description=d["description"], category=d["category"])
                                for d in short])
    honest_idx = [i for i in np.flatnonzero(te) if rows[i].scam == 0 and not rows[i].policy_types
                  and rows[i].true_category != NOT_A_JOB]
    long_idx = [i for i in honest_idx if len(texts[i]) > SHORT_MAX]
    short_test_idx = [i for i in honest_idx if len(texts[i]) <= SHORT_MAX]
    res_l = scorer.score_posts([PostInput(id=rows[i].id, title=rows[i].title, description=rows[i].description,
                                          category=rows[i].true_category) for i in long_idx])
    res_st = scorer.score_posts([PostInput(id=rows[i].id, title=rows[i].title, description=rows[i].description,
                                           category=rows[i].true_category) for i in short_test_idx])

    def fp_rates(res):
        n = max(len(res), 1)
        d = {det: sum(det in r.flags for r in res) / n for det in ("scam", "miscategorised", "policy")}
        d["any"] = sum(bool(r.flags) for r in res) / n
        d["n"] = len(res)
        return d

    report["honest_false_positive_rate"] = {
        "short_honest_set (<=250 chars, hand-written, never trained on)": fp_rates(res_s),
        "short_honest_test_split (<=250 chars)": fp_rates(res_st),
        "long_honest_test_split (>250 chars)": fp_rates(res_l),
        "flagged_short_ids": [r.id for r in res_s if r.flags],
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


def format_report(rep: dict) -> str:
    L = [f"TrustDesk classifiers - held-out grouped TEST split (seed {rep['seed']}, {rep['n_bootstrap']} bootstrap resamples)",
         f"versions: {rep['versions']['scam']}", ""]
    s = rep["scam"]
    L.append(f"SCAM - EMSCAD test, precision/PR-AUC re-weighted to the real 4.84% fraud rate (threshold {rep['thresholds']['scam']:.3f})")
    for k in ("model", "model_only", "tfidf_lr", "majority"):
        L.append(_fmt_m(k, s["emscad_test_weighted"][k]))
    L.append(f"  PR-AUC gain vs TF-IDF+LR baseline: {s['pr_auc_gain_vs_tfidf_lr']:+.3f}")
    g = s.get("pr_auc_gain_paired", {})
    if "ci95" in g:
        L.append(f"  paired bootstrap of the gain: 95% CI [{g['ci95'][0]:+.3f}, {g['ci95'][1]:+.3f}]; "
                 f"gain > 0 in {g['share_above_0']:.0%} of resamples, >= 0.05 in {g['share_at_least_0.05']:.0%}")
    L.append("SCAM - EMSCAD test, unweighted (40% fraud)")
    for k in ("model", "tfidf_lr"):
        L.append(_fmt_m(k, s["emscad_test_unweighted"][k]))
    L.append("SCAM - marketplace seed test")
    for k in ("model", "model_only", "tfidf_lr", "majority"):
        L.append(_fmt_m(k, s["seed_test"][k]))
    L.append("")
    m = rep["miscategorised"]
    L.append(f"MISCATEGORISED - test pairs (threshold {rep['thresholds']['miscategorised']:.3f})")
    for k in ("model", "tfidf_lr", "majority"):
        L.append(_fmt_m(k, m["test_pairs"][k]))
    L.append(f"  category accuracy: model {m['category_accuracy']['model']:.3f}, tfidf_lr {m['category_accuracy']['tfidf_lr']:.3f}")
    if "not_a_job_rule" in m:
        d = m["not_a_job_rule"]
        L.append(f"  not_a_job rule (threshold {rep['thresholds']['not_a_job']:.3f}) on all test posts: n_pos {d['n_pos']}  "
                 f"P {d['precision']:.3f}  R {d['recall']:.3f}  PR-AUC {d['pr_auc']:.3f}")
    L.append("")
    p = rep["policy"]
    L.append("POLICY - seed test rows, any policy type (model = rules + calibrated model; P/R of the shipped flags)")
    for k in ("model", "tfidf_lr", "majority"):
        L.append(_fmt_m(k, p["any"][k]))
    for t in POLICY_TYPES:
        d = p[t]
        L.append(f"  {t:<20} n_pos {d['n_pos']:>3}  PR-AUC {d['model_pr_auc'] or 0:.3f} (tfidf_lr {d['tfidf_lr_pr_auc'] or 0:.3f})  "
                 f"P {d['precision']:.3f} R {d['recall']:.3f}  rule recall {d['rule_recall'] or 0:.3f}")
    L.append("")
    L += format_feedback(rep["feedback"], rep["thresholds"]["feedback"])
    L.append("")
    L.append("HONEST POSTS - false-positive rate per detector")
    for k, d in rep["honest_false_positive_rate"].items():
        if isinstance(d, dict):
            L.append(f"  {k:<62} n={d['n']:<4} scam {d['scam']:.3f}  miscategorised {d['miscategorised']:.3f}  "
                     f"policy {d['policy']:.3f}  any {d['any']:.3f}")
    L.append(f"  flagged short honest posts: {rep['honest_false_positive_rate']['flagged_short_ids']}")
    return "\n".join(L)


def format_feedback(f: dict, threshold: float) -> list[str]:
    """The feedback section of the report: repeated grouped CV with intervals and the
    leave-one-source-out figures (or, for an old model, the held-out split)."""
    L = [f"FEEDBACK NEGATIVITY (threshold {threshold:.3f})"]
    if "test" in f:
        L.append("  test split (model trained before per-sentence scoring)")
        for k in ("model", "tfidf_lr", "majority"):
            L.append(_fmt_m(k, f["test"][k]))
        return L

    def auc(d: dict) -> str:
        if "roc_auc" not in d:
            return "-"
        ci = d.get("ci95")
        return f"{d['roc_auc']:.3f}" + (f" [{ci[0]:.3f},{ci[1]:.3f}]" if ci else "")

    cv = f.get("cv")
    if cv:
        L.append(f"  repeated grouped CV ({cv['n_splits']}-fold x {cv['n_repeats']}, every labelled row, out-of-fold):")
        L.append(f"    fold ROC-AUC mean {cv['fold_roc_auc_mean']:.3f} (sd {cv['fold_roc_auc_sd']:.3f}, 95% of folds in "
                 f"[{cv['fold_roc_auc_range95'][0]:.3f},{cv['fold_roc_auc_range95'][1]:.3f}]); pooled OOF ROC-AUC "
                 f"{auc(cv['pooled_oof'])} (bootstrap 95% CI)")
        for src, d in cv["by_source"].items():
            L.append(f"    {src:<5} n={d['n']:<5} OOF ROC-AUC {auc(d)}")
    lo = f.get("leave_one_source_out")
    if lo:
        L.append("  leave-one-source-out (trained without the source, scored on it; predicts unseen writers):")
        for src, d in lo["by_source"].items():
            base = d.get("tfidf_lr_roc_auc")
            L.append(f"    {src:<5} n={d['n']:<5} ROC-AUC {auc(d):<24} tfidf_lr {base:.3f}" if base is not None
                     else f"    {src:<5} n={d['n']:<5} ROC-AUC {auc(d)}")
        L.append(f"    mean {lo['mean_roc_auc']:.3f}")
    if "operating_point" in f and isinstance(f["operating_point"], dict):
        op = f["operating_point"]
        L.append(f"  threshold on out-of-fold scores: precision {op.get('oof_precision', float('nan')):.3f}, "
                 f"recall {op.get('oof_recall', float('nan')):.3f}")
    if "realphrasing" in f:
        L.append(f"  real freelancer feedback: {f['realphrasing']}")
    return L
