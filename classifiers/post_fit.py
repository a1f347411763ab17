"""``fit_posts``: the post detectors trained on every labelled row, calibrated and thresholded on
their out-of-fold scores (see ``post_training`` for the folds, the features and the weights).

Returns the shipped bundles and metrics: the thresholds with the rule that chose them, the
cross-validated figures with 95% intervals (EMSCAD at the real fraud rate), and figures on the
real rows (realphrasing), each scored by models that never saw its source.
"""
from __future__ import annotations

import numpy as np

from models.taxonomy import CATEGORY_LABELS, NOT_A_JOB

from . import miscategorised as cat_mod
from . import policy as pol_mod
from .data import EMSCAD_REAL_FRAUD_RATE, PostRow, real_label, right_reason
from .modelling import binary_summary, platt_apply, platt_fit, threshold_rule
from .policy_rules import POLICY_TYPES
from .post_training import (REAL_WEIGHT, fit_weights, miscat_pairs, REPEATS, Dense, Fitted, _pool, base_weights, model_texts, out_of_fold,
                            pack, policy_mask, raw_texts, repeat_figures)

#: the lowest calibrated probability a policy type's model flags on its own (a rule hit always flags)
POLICY_MODEL_MIN_THRESHOLD = 0.5


def _short_rows(shv: list[dict]) -> list[PostRow]:
    return [PostRow(d["id"], d["title"], d["description"], "seed", "", 0, d["category"]) for d in shv]


def fit_posts(rows: list[PostRow], short_honest_val: list[dict], seed: int, target: dict[str, float], progress=None,
              repeats: int = REPEATS) -> tuple[dict, dict]:
    texts, raw = model_texts(rows), raw_texts(rows)
    D = Dense(raw)
    w = base_weights(rows, EMSCAD_REAL_FRAUD_RATE)
    w_prec = np.where(w == REAL_WEIGHT, 1.0, w)  # precision counts a real row once
    w_fit = fit_weights(rows)
    oof = out_of_fold(rows, texts, D, w_fit, seed, repeats, progress)
    final = Fitted(rows, texts, D, w_fit)
    if progress is not None:
        progress("refit on all rows")
    sh = _short_rows(short_honest_val)
    sh_texts, D_sh = model_texts(sh), Dense(raw_texts(sh))
    sh_scam, sh_cat, sh_role, sh_pol = final.decisions(sh_texts, D_sh) if sh else (
        np.zeros(0), np.zeros((0, len(CATEGORY_LABELS))), np.zeros(0), np.zeros((0, len(POLICY_TYPES))))
    src = np.array([r.source for r in rows])
    bundles: dict = {"post_text": pack(final)}
    metrics: dict = {"post_text": {"n_word_features": len(final.word.vocabulary_), "n_char_features": len(final.char.vocabulary_),
                                   "n_train": len(rows), "sources": {s: int((src == s).sum()) for s in sorted(set(src))}}}

    # ---- scam
    y = np.array([r.scam for r in rows])
    yy, ww = np.tile(y, repeats), np.tile(w, repeats)
    platt = platt_fit(_pool(oof["scam"]), yy, ww)
    p_oof = platt_apply(oof["scam"], platt)
    p_sh = platt_apply(sh_scam, platt)
    thr, notes = threshold_rule(_pool(p_oof), yy, target["scam"], np.tile(w_prec, repeats), honest_scores=p_sh)
    em = src == "emscad"
    bundles["scam"] = {"lr": final.scam, "platt": list(platt), "extras": "signals+cues"}
    metrics["scam"] = {"threshold": thr, "target_precision": target["scam"], "operating_point": notes,
                       "cv_emscad": repeat_figures(p_oof[:, em], y[em], w_prec[em], seed=seed),
                       "baseline_cv_emscad": repeat_figures(oof["baseline_scam"][:, em], y[em], w_prec[em], seed=seed),
                       "cv_all": binary_summary(_pool(p_oof), yy, np.tile(w_prec, repeats), thr),
                       "repeats": repeats, "n_train": len(rows)}

    # ---- category / miscategorised
    known = np.array([r.true_category is not None for r in rows])
    yc = np.array([CATEGORY_LABELS.index(r.true_category) if r.true_category else -1 for r in rows])
    temp = cat_mod.fit_temperature(_pool(oof["cat"][:, known]), np.tile(yc[known], repeats))
    b_cat = {"lr": final.cat, "temperature": temp, "labels": list(CATEGORY_LABELS), "extras": "signals"}
    proba = cat_mod._softmax(oof["cat"] / temp)  # (repeats, n, k)
    # the category path flags a post only under a posted category (pairs: each post under its true
    # category, label 0, and under one wrong category, label 1); self-ads are the role model's
    kn = [i for i in np.flatnonzero(known) if rows[i].true_category != NOT_A_JOB]
    idx, posted, ym = miscat_pairs([rows[i] for i in kn])
    keep = [k for k, c in enumerate(posted) if c is not None]
    kidx = np.array(kn)[np.array(idx)[keep]]
    posted, ym = [posted[k] for k in keep], ym[keep]
    s_pairs = np.concatenate([cat_mod.miscategorised_score(proba[r, kidx], posted) for r in range(repeats)])
    ym_all = np.tile(ym, repeats)
    honest = None
    if sh:
        p_sh_cat = cat_mod._softmax(sh_cat / temp)
        post_as = [d["category"] for d in short_honest_val]
        s_sh = cat_mod.miscategorised_score(p_sh_cat, post_as)
        honest = np.array([v for v, c, pr in zip(s_sh, post_as, p_sh_cat.argmax(1)) if CATEGORY_LABELS[pr] != c])
    thr_m, notes_m = threshold_rule(s_pairs, ym_all, target["miscategorised"], honest_scores=honest)
    # not_a_job (wrong section): the author-role model, Platt-calibrated on its out-of-fold decisions
    y_naj1 = np.array([int(r.true_category == NOT_A_JOB) for r in rows])
    y_naj = np.tile(y_naj1, repeats)
    role_platt = platt_fit(_pool(oof["role"]), y_naj, np.tile(w_fit, repeats))
    p_role = platt_apply(oof["role"], role_platt)
    s_naj = _pool(p_role)
    thr_naj, notes_naj = threshold_rule(s_naj, y_naj, target["miscategorised"],
                                        honest_scores=platt_apply(sh_role, role_platt) if sh else None)
    b_cat.update(role_lr=final.role, role_platt=list(role_platt))
    true_lab = np.tile(yc[known], repeats)
    bundles["miscategorised"] = b_cat
    metrics["miscategorised"] = {"threshold": thr_m, "target_precision": target["miscategorised"], "operating_point": notes_m,
                                 "cv_pairs": binary_summary(s_pairs, ym_all, None, thr_m),
                                 "cv_category_accuracy": float(np.mean(_pool(proba[:, known]).argmax(1) == true_lab)),
                                 "not_a_job_threshold": thr_naj, "not_a_job_operating_point": notes_naj,
                                 "cv_not_a_job": binary_summary(s_naj, y_naj, None, thr_naj), "n_train": int(known.sum())}

    # ---- policy
    m = policy_mask(rows, D.R)
    Y = np.array([[float(t in r.policy_types) for t in POLICY_TYPES] for r in rows], dtype=np.float32)
    platts, thresholds, op, per_type, rule_prec = {}, {}, {}, {}, {}
    P_oof = np.zeros_like(oof["policy"])
    for j, t in enumerate(POLICY_TYPES):
        d = oof["policy"][:, m, j]
        platts[t] = list(pol_mod.smoothed_platt_fit(_pool(d), np.tile(Y[m, j], repeats)))
        P_oof[:, :, j] = platt_apply(oof["policy"][:, :, j], platts[t])
        fired = D.R[m, j] > 0
        rule_prec[t] = float(Y[m][fired, j].mean()) if fired.any() else 0.0
        # the type flags where a rule fires or the model says p >= t: t is the lowest threshold at which
        # those flags reach the target precision out of fold (a rule hit counts as p = 1)
        p_eff = np.maximum(_pool(P_oof[:, m][:, :, j]), np.tile(fired, repeats).astype(float))
        sh_p = platt_apply(sh_pol[:, j], platts[t]) if sh else None
        honest_p = sh_p[D_sh.R[:, j] == 0] if sh else None
        thresholds[t], op[t] = threshold_rule(p_eff, np.tile(Y[m, j], repeats), target["policy"],
                                              min_threshold=POLICY_MODEL_MIN_THRESHOLD, honest_scores=honest_p)
        flag = np.tile(fired, repeats) | (_pool(P_oof[:, m][:, :, j]) >= thresholds[t])
        yt = np.tile(Y[m, j], repeats)
        tp, fp = float((flag & (yt > 0)).sum()), float((flag & (yt == 0)).sum())
        per_type[t] = {"cv_precision": tp / (tp + fp) if tp + fp else None,
                       "cv_recall": tp / float((yt > 0).sum()) if (yt > 0).any() else None,
                       "rule_precision": rule_prec[t], "n_pos": int(Y[m, j].sum())}
    bundles["policy"] = {"lr": final.policy, "platt": platts, "types": list(POLICY_TYPES), "rule_precision": rule_prec,
                         "extras": "rules+signals"}
    metrics["policy"] = {"thresholds": thresholds, "target_precision": target["policy"], "operating_point": op, "cv": per_type,
                         "model_min_threshold": POLICY_MODEL_MIN_THRESHOLD, "n_train": int(m.sum())}

    # ---- real rows, each scored out of fold (its source never in training)
    metrics["real_by_source"] = real_figures(rows, p_oof, proba, p_role, P_oof, D.R, thr, thr_m, thr_naj, thresholds)
    return bundles, metrics


def real_figures(rows, p_oof, proba, p_role, P_oof, R, thr, thr_m, thr_naj, thresholds) -> dict:
    """Flag rates on the real rows (category null), per repeat and label: flagged at all, flagged
    for the right reason (scam -> scam; a policy type -> that type; wrong_section ->
    miscategorised), honest posts flagged; for a policy type also ``model_only``, the share its
    learned component flags on its own (model probability >= the type's threshold, rules ignored)."""
    real = [i for i, r in enumerate(rows) if r.source == "real"]
    if not real:
        return {}
    naj = CATEGORY_LABELS.index(NOT_A_JOB)
    th = np.array([thresholds[t] for t in POLICY_TYPES])
    per_rep = []
    by_label: dict[str, list] = {}
    for rep in range(p_oof.shape[0]):
        flagged, right, honest_f, n_bad, n_honest = 0, 0, 0, 0, 0
        for i in real:
            lab = real_label(rows[i])
            pr = proba[rep, i]
            scam = p_oof[rep, i] >= thr
            mis = p_role[rep, i] >= thr_naj  # category null: only a self-ad is in the wrong place
            types = [t for j, t in enumerate(POLICY_TYPES) if R[i, j] > 0 or P_oof[rep, i, j] >= th[j]]
            any_flag = bool(scam or mis or types)
            ok = right_reason(lab, scam, mis, types)
            # a policy type's LEARNED component alone: the model at its threshold, whatever the rules say
            model_only = bool(P_oof[rep, i, POLICY_TYPES.index(lab)] >= th[POLICY_TYPES.index(lab)]) if lab in POLICY_TYPES else None
            if lab == "legit":
                n_honest += 1
                honest_f += any_flag
            else:
                n_bad += 1
                flagged += any_flag
                right += bool(ok)
            by_label.setdefault(lab, []).append((any_flag, bool(ok) if lab != "legit" else None, model_only))
        per_rep.append((flagged / max(n_bad, 1), right / max(n_bad, 1), honest_f / max(n_honest, 1)))
    arr = np.array(per_rep)
    labels = {lab: {"n": len(v) // p_oof.shape[0], "flagged": float(np.mean([a for a, _, _ in v])),
                    "right_reason": None if lab == "legit" else float(np.mean([b for _, b, _ in v])),
                    **({"model_only": float(np.mean([c for _, _, c in v]))} if lab in POLICY_TYPES else {})}
              for lab, v in by_label.items()}
    return {"bad_flagged": float(arr[:, 0].mean()), "bad_right_reason": float(arr[:, 1].mean()),
            "honest_flagged": float(arr[:, 2].mean()), "per_repeat": arr.tolist(), "by_label": labels}
