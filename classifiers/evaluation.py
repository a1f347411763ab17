"""The report of the ACTIVE models.

    python -m classifiers evaluate       -> prints a report, writes <model_dir>/evaluation.json

Every detector trains on every labelled row, so there is no held-out split to score: the
figures are the training run's out-of-fold measurements (``post_training`` / ``post_fit`` for
the post detectors, ``feedback_cv`` for feedback), stored with each model and printed here with
their 95% bootstrap intervals, next to a plain TF-IDF baseline in the same folds: EMSCAD
ranking at the real 4.84% fraud rate, the real posts of ``realphrasing`` held out by source, the
per-type policy flags, the category pairs and the author-role (not_a_job) decision, feedback by
source. Then live checks of the shipped scorer on hand-written honest posts that never trained
(short posts, and one- to three-word titles of every category, with and without a category).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .data import DATA_DIR, load_short_honest, right_reason
from .registry import ARTIFACTS_DIR
from .scorer import load_scorer
from .types import PostInput

def evaluate(model_dir: Path | None = None, progress: bool = False, write: bool = True) -> dict:
    """The report of the ACTIVE models: the post detectors' cross-validated figures (computed when
    they were trained, see ``post_training``), their figures on real text held out by source,
    and live checks of the shipped scorer on hand-written honest posts that never trained."""
    root = Path(model_dir) if model_dir is not None else ARTIFACTS_DIR
    scorer = load_scorer(root)
    seed = int(scorer.metrics["scam"]["seed"])
    say = (lambda m: print(m, file=sys.stderr)) if progress else (lambda m: None)
    m = scorer.metrics
    report: dict = {"seed": seed, "versions": scorer.versions, "thresholds": scorer.thresholds}
    say("evaluate: post detectors (cross-validated at training)")
    report["scam"] = {k: m["scam"].get(k) for k in ("cv_emscad", "baseline_cv_emscad", "cv_all", "repeats", "operating_point")}
    report["real_by_source"] = m["scam"].get("real_by_source") or {}
    report["miscategorised"] = {k: m["miscategorised"].get(k) for k in ("cv_pairs", "cv_category_accuracy", "cv_not_a_job")}
    report["policy"] = m["policy"].get("cv", {})

    # ---------------- feedback
    say("evaluate: feedback")
    fm = scorer.metrics["feedback"]
    # trained on ALL labelled rows (classifiers/feedback_cv.py): the report is the training run's
    # out-of-fold measurement (a split of those rows would be scored by a model that saw it)
    report["feedback"] = {k: fm[k] for k in ("cv", "leave_one_source_out", "settings", "operating_point", "realphrasing",
                                             "rows_by_source", "selection", "general_model", "hand_written_rows") if k in fm}

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
    say("evaluate: probe posts")
    report["probe_posts"] = probe_figures(scorer)
    report = json.loads(json.dumps(report, default=float))
    if write:
        (root / "evaluation.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return report


#: hand-written marketplace posts (49 bad: scams, every policy type, self-ads; 18 honest) in two
#: sets, each written 2026-12-08 before it was scored, never trained on (``tests`` check)
PROBE_POSTS = (DATA_DIR / "seed" / "probe_posts.jsonl", DATA_DIR / "seed" / "probe_posts_2.jsonl")


def load_probe_posts() -> list[dict]:
    return [json.loads(line) for p in PROBE_POSTS for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def probe_figures(scorer) -> dict:
    """The shipped scorer on ``PROBE_POSTS`` (category null): bad posts flagged, flagged for the
    right reason (scam -> the scam flag, a policy type -> that type, wrong_section -> miscategorised),
    honest posts flagged; per label."""
    items = load_probe_posts()
    res = scorer.score_posts([PostInput(id=d["id"], title=d["title"], description=d["description"]) for d in items])
    by: dict[str, dict] = {}
    for d, r in zip(items, res):
        lab = d["label"]
        right = right_reason(lab, "scam" in r.flags, "miscategorised" in r.flags, r.policy_types)
        e = by.setdefault(lab, {"n": 0, "flagged": 0, "right_reason": 0, "missed_ids": []})
        e["n"] += 1
        e["flagged"] += bool(r.flags)
        e["right_reason"] += bool(right)
        if (lab == "legit") == bool(r.flags) or (lab != "legit" and not right):
            e["missed_ids"].append(d["id"])
    bad = [v for k, v in by.items() if k != "legit"]
    n_bad = sum(v["n"] for v in bad)
    hon = by.get("legit", {"n": 0, "flagged": 0})
    return {"n_bad": n_bad, "n_honest": hon["n"],
            "bad_flagged": sum(v["flagged"] for v in bad) / max(n_bad, 1),
            "bad_right_reason": sum(v["right_reason"] for v in bad) / max(n_bad, 1),
            "honest_flagged": hon["flagged"] / max(hon["n"], 1), "by_label": by}


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
            if d.get("model_only") is not None:
                rr += f"  (learned component alone {d['model_only']:.0%})"
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
    L += format_feedback(rep["feedback"], rep["thresholds"]["feedback"])
    L.append("")
    pp = rep.get("probe_posts")
    if pp:
        L.append(f"PROBE POSTS - {pp['n_bad']} bad and {pp['n_honest']} honest hand-written posts never trained on "
                 f"(data/seed/probe_posts*.jsonl; category null)")
        L.append(f"  bad posts flagged {pp['bad_flagged']:.0%}   for the right reason {pp['bad_right_reason']:.0%}   "
                 f"honest posts flagged {pp['honest_flagged']:.0%}")
        L.append("  " + "   ".join(f"{k} {v['right_reason'] if k != 'legit' else v['n'] - v['flagged']}/{v['n']}"
                                    for k, v in pp["by_label"].items()) + "   (right reason; legit: not flagged)")
        L.append("")
    L.append("HONEST POSTS - false-positive rate per detector")
    for k, d in rep["honest_false_positive_rate"].items():
        if isinstance(d, dict):
            L.append(f"  {k:<72} n={d['n']:<4} scam {d['scam']:.3f}  miscategorised {d['miscategorised']:.3f}  "
                     f"policy {d['policy']:.3f}  any {d['any']:.3f}")
    L.append(f"  flagged short honest posts: {rep['honest_false_positive_rate']['flagged_short_ids']}")
    return "\n".join(L)


def format_feedback(f: dict, threshold: float) -> list[str]:
    """The feedback section of the report: repeated grouped CV with intervals and the
    leave-one-source-out figures."""
    L = [f"FEEDBACK NEGATIVITY (threshold {threshold:.3f})"]
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
    sel = f.get("selection")
    if sel:
        L.append("  model selection (mean leave-one-source-out ROC-AUC of each candidate; the best is shipped;"
                 " settings as changes from the first):")
        base = sel["candidates"][0]["settings"]
        for c in sel["candidates"]:
            diff = ", ".join(f"{k}={v}" for k, v in c["settings"].items() if base.get(k, v) != v) or "first"
            per = " ".join(f"{k} {v:.3f}" for k, v in c["by_source"].items() if v is not None)
            L.append(f"    {diff:<36} mean {c['mean_roc_auc']:.3f}   {per}")
    g = f.get("general_model")
    if g:
        L.append(f"  general sentiment model: {g['n_rows']} public rated snippets "
                 f"({', '.join(f'{k} {v}' for k, v in g['rows_by_source'].items())}; |mean rating| >= {g['margin']}),"
                 " never a feedback row" + (f"; negation marked {g['negation']}, NB-scaled {g['nb']}" if "nb" in g else "")
                 + (f", polarity tokens {g['polarity']}" if "polarity" in g else ""))
    if "hand_written_rows" in f:
        L.append(f"  hand-written negation rows (source hand, never held out): {f['hand_written_rows']}"
                 f" (in training: {f.get('settings', {}).get('handwritten', False)})")
    if "realphrasing" in f:
        L.append(f"  real freelancer feedback: {f['realphrasing']}")
    return L
