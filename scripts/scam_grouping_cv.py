"""The scam model's EMSCAD ranking under two groupings, against the plain baseline, on the same folds.

    .venv/bin/python scripts/scam_grouping_cv.py [--groupings strict,desc] [--emscad-weights 1,3] [--repeats 2]

Every labelled post row trains (as ``post_training``: EMSCAD, seed, family and messenger rows,
realphrasing when ../shared is there); only EMSCAD rows are scored, legitimate ones re-weighted to
the real 4.84 % fraud rate. Groupings of the EMSCAD rows:

* ``strict``: the training run's groups (union-find over normalised description AND company
  profile: a company's ads never straddle folds);
* ``desc``: normalised description only (the data README's rule; one company's different ads may
  fall on both sides, as ads of a known company would in a later hold-out of the same platform).

Prints PR-AUC, ROC-AUC and recall at precision 0.9 per repeat and their mean, for the baseline
(TfidfVectorizer() + LinearSVC()) and the shipped scam blend at each EMSCAD fit weight. Scam model
only (the category and policy models are not fitted), so a run takes minutes.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers import post_training as pt  # noqa: E402
from classifiers import scam as scam_mod  # noqa: E402
from classifiers.data import DATA_DIR, EMSCAD_REAL_FRAUD_RATE, _norm  # noqa: E402
from classifiers.modelling import hstack, make_char_vectorizer, make_word_vectorizer, recall_at_precision  # noqa: E402
from classifiers.training import build_datasets  # noqa: E402


def desc_groups(rows) -> np.ndarray:
    with open(DATA_DIR / "emscad" / "emscad_train.csv", encoding="utf-8", newline="") as f:
        raw = {f"emscad{r['job_id']}": r for r in csv.DictReader(f)}
    out = []
    for r in rows:
        if r.source != "emscad":
            out.append(r.group)
            continue
        k = _norm(raw[r.id]["description"])[:400]
        out.append("d:" + k if len(k) >= 40 else r.id)
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--groupings", default="strict,desc")
    ap.add_argument("--emscad-weights", default="1,3")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261)
    a = ap.parse_args()
    rows = build_datasets().posts
    texts = pt.model_texts(rows)
    D = pt.Dense(texts)
    y = np.array([r.scam for r in rows])
    strat = np.array([pt.strat_label(r) for r in rows])
    em = np.array([r.source == "emscad" for r in rows])
    w_eval = pt.base_weights(rows, EMSCAD_REAL_FRAUD_RATE)
    fw = pt.fit_weights(rows)
    groupings = {"strict": np.array([r.group for r in rows]), "desc": desc_groups(rows)}

    def blend(em_w: float):
        def fit(tr, te):
            wv, cv = make_word_vectorizer(pt.WORD_MAX_FEATURES), make_char_vectorizer(pt.CHAR_MAX_FEATURES)
            trt, tet = [texts[i] for i in tr], [texts[i] for i in te]
            Xw = wv.fit_transform(trt)
            m = scam_mod.fit_blend(Xw, hstack([Xw, cv.fit_transform(trt)]), pt.scam_extras(D.take(tr)), y[tr],
                                   fw[tr] * np.where(em[tr], em_w, 1.0))
            return m.decision_function(hstack([wv.transform(tet), cv.transform(tet), pt.scam_extras(D.take(te))]))
        return fit

    models = {"tfidf+LinearSVC": lambda tr, te: pt.baseline_scam([texts[i] for i in tr], y[tr], [texts[i] for i in te])}
    for ew in a.emscad_weights.split(","):
        models[f"blend, EMSCAD weight {ew}"] = blend(float(ew))
    for g in a.groupings.split(","):
        groups = groupings[g]
        print(f"grouping {g}: {len(set(groups[em]))} EMSCAD groups of {int(em.sum())} rows", flush=True)
        res: dict[str, list] = {m: [] for m in models}
        for rep in range(a.repeats):
            cv = StratifiedGroupKFold(n_splits=pt.N_SPLITS, shuffle=True, random_state=a.seed + rep)
            oof = {m: np.zeros(len(rows)) for m in models}
            for tr, te in cv.split(np.zeros(len(rows)), strat, groups):
                for m, f in models.items():
                    oof[m][te] = f(tr, te)
            for m in models:
                yy, pp, ww = y[em], oof[m][em], w_eval[em]
                r = (average_precision_score(yy, pp, sample_weight=ww), roc_auc_score(yy, pp, sample_weight=ww),
                     recall_at_precision(pp, yy, ww, 0.9))
                res[m].append(r)
                print(f"  repeat {rep}  {m:<28} PR-AUC {r[0]:.3f}  ROC-AUC {r[1]:.3f}  R@P0.9 {r[2]:.3f}", flush=True)
        for m, v in res.items():
            mu = np.mean(v, axis=0)
            print(f"  mean      {m:<28} PR-AUC {mu[0]:.3f}  ROC-AUC {mu[1]:.3f}  R@P0.9 {mu[2]:.3f}", flush=True)


if __name__ == "__main__":
    main()
