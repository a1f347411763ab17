"""Out-of-distribution check of the ACTIVE classifiers on the demo marketplace.

    .venv/bin/python scripts/evaluate_on_demo.py --seed 7      # validation (diagnose freely)
    .venv/bin/python scripts/evaluate_on_demo.py --seed 11     # held-out test (run once, report)

``scripts/generate_demo_data.py`` was written independently of the classifiers' seed corpus,
so its posts are a fair out-of-distribution check. The generator does not record what
kind of post it wrote, so this script derives the labels from its generation structure
WITHOUT editing it: the module is imported by path (as ``app/cli/ingest.load_demo_generator``
does) and its internal ``_Builder`` is replaced by a subclass whose ``scam`` / ``policy`` /
``self_ad`` / ``honest`` / ``short`` / ``hostile`` methods call the original and then note
the kind of the post just appended (no extra random draws: the output is byte-identical,
checked below). Policy types and scam kinds are read off the templates that were used;
client profiles come from the builder's own ``kind_of``; feedback labels from which
comment pool (``NEGATIVE`` / ``MILD`` / ``POSITIVE``) the comment was drawn.

Reported per detector: precision and recall against those labels (precision counts flags on
clean posts - honest, short honest, hostile-HTML honest - as false positives; flags on a
post of another abuse kind are listed as "cross" and are neither), the short-honest false
positive rate, per-feedback negativity on the generator's negative/positive comments, and
for clients which consistently negative clients are flagged and whether any
single-bad-review (or honest) client is flagged. Nothing here trains on demo data.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from classifiers import FeedbackInput, FeedbackPoint, PostInput, client_negativity, load_scorer  # noqa: E402
from classifiers.client_negativity import NEGATIVE_AT  # noqa: E402
from models.taxonomy import NOT_A_JOB  # noqa: E402

DEMO_SCRIPT = REPO / "scripts" / "generate_demo_data.py"
CLEAN = ("honest", "short", "hostile")


def load_generator():
    """``scripts/generate_demo_data.py`` as a module (same as app/cli/ingest.load_demo_generator)."""
    spec = importlib.util.spec_from_file_location("trustdesk_demo_data_eval", DEMO_SCRIPT)
    if spec is None or spec.loader is None:
        raise SystemExit(f"demo generator not found at {DEMO_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def _template_re(template: str) -> re.Pattern[str]:
    """A template like 'Write my essay on {topic}' -> regex matching any filled version."""
    parts = re.split(r"\{[^}]*\}", template)
    return re.compile("^" + ".+?".join(re.escape(p) for p in parts) + "$", re.S)


def generate_labelled(seed: int):
    """(data, post_kind {external_id: kind}, post_sub {external_id: subtype}, client_kind, builder)."""
    gen = load_generator()
    plain = gen.generate(seed=seed)
    base = gen._Builder
    kinds: dict[int, tuple[str, str | None]] = {}
    captured = {}

    def note(self, kind, sub=None):
        kinds[id(self.posts[-1])] = (kind, sub)

    class Recording(base):  # type: ignore[misc, valid-type]
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            captured["b"] = self

        def scam(self, client):
            super().scam(client)
            p = self.posts[-1]
            sub = next((k for k, temps in gen.SCAMS.items()
                        for t, _ in temps if _template_re(t).match(p["title"])), "?")
            note(self, "scam", sub)

        def policy(self, client):
            super().policy(client)
            p = self.posts[-1]
            sub = next((k for k, temps in gen.POLICY.items() if k != "off_platform"
                        for t, d in temps if _template_re(t).match(p["title"]) and _template_re(d).match(p["description"])),
                       "off_platform")
            note(self, "policy", sub)

        def self_ad(self, client):
            super().self_ad(client)
            note(self, "self_ad", NOT_A_JOB)

        def honest(self, client, category, filed_under=None):
            super().honest(client, category, filed_under)
            note(self, "miscat" if filed_under else "honest", category)

        def short(self, client):
            super().short(client)
            p = self.posts[-1]
            cat = next((c for t, d, c in gen.SHORT_POSTS if _template_re(t).match(p["title"])), None)
            note(self, "short", cat)

        def hostile(self, client, index):
            super().hostile(client, index)
            note(self, "hostile", "web_mobile_software")

    gen._Builder = Recording
    try:
        data = gen.generate(seed=seed)
    finally:
        gen._Builder = base
    if json.dumps(data, sort_keys=True) != json.dumps(plain, sort_keys=True):
        raise SystemExit("recording builder changed the generator's output")
    b = captured["b"]
    post_kind, post_sub = {}, {}
    for p in b.posts:
        k, s = kinds[id(p)]
        post_kind[p["external_id"]], post_sub[p["external_id"]] = k, s
    fb_label = {}
    for r in data["feedback"]:
        fb_label[r["external_id"]] = ("negative" if r["comment"] in gen.NEGATIVE else
                                      "mild" if r["comment"] in gen.MILD else "positive")
    return gen, data, post_kind, post_sub, dict(b.kind_of), fb_label


def _pr(tp: int, fp: int, fn: int) -> tuple[float | None, float | None]:
    return (tp / (tp + fp) if tp + fp else None, tp / (tp + fn) if tp + fn else None)


def _f(v: float | None) -> str:
    return "  -  " if v is None else f"{v:.3f}"


def evaluate_demo(seed: int, model_dir: Path | None = None) -> dict:
    gen, data, post_kind, post_sub, client_kind, fb_label = generate_labelled(seed)
    scorer = load_scorer(model_dir)
    anchor = gen.DEFAULT_ANCHOR
    clients = {c["external_id"]: c for c in data["clients"]}
    posts = data["posts"]
    inputs = []
    for p in posts:
        c = clients[p["client_id"]]
        age = (anchor - datetime.fromisoformat(c["joined_at"].replace("Z", "+00:00"))).total_seconds() / 86400
        inputs.append(PostInput(id=p["external_id"], title=p["title"], description=p["description"], category=p["category"],
                                skills=p["skills"], budget=p["budget"], client_payment_verified=c["payment_verified"],
                                client_account_age_days=age))
    t0 = time.perf_counter()
    scores = scorer.score_posts(inputs)
    secs = time.perf_counter() - t0
    kind = [post_kind[p["external_id"]] for p in posts]
    sub = [post_sub[p["external_id"]] for p in posts]
    report: dict = {"seed": seed, "versions": scorer.versions, "n_posts": len(posts),
                    "post_kinds": dict(Counter(kind)), "score_seconds": round(secs, 2), "detectors": {}}

    positive_kinds = {"scam": ("scam",), "policy": ("policy",), "miscategorised": ("miscat", "self_ad")}
    for det, pos in positive_kinds.items():
        tp = sum(1 for s, k in zip(scores, kind) if k in pos and det in s.flags)
        fn = sum(1 for s, k in zip(scores, kind) if k in pos and det not in s.flags)
        fp = sum(1 for s, k in zip(scores, kind) if k in CLEAN and det in s.flags)
        cross = Counter(k for s, k in zip(scores, kind) if k not in pos and k not in CLEAN and det in s.flags)
        prec, rec = _pr(tp, fp, fn)
        d = {"tp": tp, "fp": fp, "fn": fn, "precision": prec, "recall": rec, "cross": dict(cross),
             "fp_by_kind": dict(Counter(k for s, k in zip(scores, kind) if k in CLEAN and det in s.flags))}
        by_sub = defaultdict(lambda: [0, 0])
        for s, k, st in zip(scores, kind, sub):
            if k in pos:
                by_sub[f"{k}:{st}" if k != "miscat" else k][0] += det in s.flags
                by_sub[f"{k}:{st}" if k != "miscat" else k][1] += 1
        d["recall_by_subtype"] = {k: f"{a}/{n}" for k, (a, n) in sorted(by_sub.items())}
        report["detectors"][det] = d
    m = report["detectors"]["miscategorised"]
    m["self_ad_suggested_not_a_job"] = sum(1 for s, k in zip(scores, kind)
                                           if k == "self_ad" and s.suggested_category == NOT_A_JOB)
    m["miscat_suggestion_correct"] = sum(1 for s, k, st in zip(scores, kind, sub)
                                         if k == "miscat" and "miscategorised" in s.flags and s.suggested_category == st)
    # policy type accuracy on flagged policy posts
    pol = report["detectors"]["policy"]
    pol["type_correct"] = sum(1 for s, k, st in zip(scores, kind, sub) if k == "policy" and st in s.policy_types)

    short = [s for s, k in zip(scores, kind) if k == "short"]
    report["short_honest"] = {"n": len(short), **{d: sum(d in s.flags for s in short) for d in positive_kinds},
                              "any": sum(bool(s.flags) for s in short),
                              "flagged_ids": [s.id for s in short if s.flags]}
    clean = [s for s, k in zip(scores, kind) if k in CLEAN]
    report["clean_posts"] = {"n": len(clean), "any": sum(bool(s.flags) for s in clean),
                             **{d: sum(d in s.flags for s in clean) for d in positive_kinds}}

    # ---------------- feedback and clients
    fbs = data["feedback"]
    p_neg = scorer.score_feedback([FeedbackInput(id=r["external_id"], text=r["comment"], rating=r["rating"]) for r in fbs])
    neg_p = {r["external_id"]: p for r, p in zip(fbs, p_neg)}
    per = defaultdict(list)
    for r, p in zip(fbs, p_neg):
        per[fb_label[r["external_id"]]].append(p)
    report["feedback"] = {lab: {"n": len(v), "share_negative": sum(x >= NEGATIVE_AT for x in v) / len(v),
                                "min": min(v), "max": max(v)} for lab, v in sorted(per.items())}
    by_client = defaultdict(list)
    for r in fbs:
        by_client[r["client_id"]].append(FeedbackPoint(created_at=datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")),
                                                       negative=neg_p[r["external_id"]], rating=r["rating"], ref=r["external_id"]))
    res = {cid: client_negativity(by_client.get(cid, []), anchor) for cid in clients}
    neg = sorted(c for c, k in client_kind.items() if k == "negative")
    one_bad = sorted(c for c, k in client_kind.items() if k == "one_bad")
    others = sorted(c for c, k in client_kind.items() if k not in ("negative", "one_bad"))
    report["clients"] = {
        "negative": {"n": len(neg), "flagged": sum(res[c].flagged for c in neg),
                     "detail": {c: {"score": res[c].score, "flagged": res[c].flagged, "n": res[c].n_considered,
                                    "k": res[c].n_negative, "why": res[c].why} for c in neg}},
        "one_bad": {"n": len(one_bad), "flagged": sum(res[c].flagged for c in one_bad),
                    "max_score": max((res[c].score for c in one_bad), default=None),
                    "flagged_ids": [c for c in one_bad if res[c].flagged]},
        "other": {"n": len(others), "flagged": sum(res[c].flagged for c in others),
                  "flagged_ids": [c for c in others if res[c].flagged]},
    }
    return report


def print_report(r: dict, role: str) -> None:
    print(f"TrustDesk classifiers on the demo marketplace - seed {r['seed']} ({role})")
    print(f"versions: {r['versions']['scam']}   posts {r['n_posts']} {r['post_kinds']}   scored in {r['score_seconds']} s")
    for det, d in r["detectors"].items():
        print(f"  {det:15s} P {_f(d['precision'])}  R {_f(d['recall'])}  (tp {d['tp']}, fp {d['fp']}, fn {d['fn']})"
              f"  fp by kind {d['fp_by_kind']}  cross {d['cross']}")
        print(f"  {'':15s} recall by subtype {d['recall_by_subtype']}")
    m = r["detectors"]["miscategorised"]
    print(f"  self-ads with suggested not_a_job: {m['self_ad_suggested_not_a_job']}/{r['post_kinds'].get('self_ad', 0)};"
          f" flagged miscat posts with the right suggestion: {m['miscat_suggestion_correct']}/{m['recall_by_subtype'].get('miscat')}")
    print(f"  policy posts flagged with the right type: {r['detectors']['policy']['type_correct']}/{r['post_kinds'].get('policy', 0)}")
    s = r["short_honest"]
    print(f"  short honest posts n={s['n']}: scam {s['scam']}  miscategorised {s['miscategorised']}  policy {s['policy']}"
          f"  any {s['any']} (FP rate {s['any'] / max(s['n'], 1):.3f})  {s['flagged_ids'][:10]}")
    c = r["clean_posts"]
    print(f"  all clean posts n={c['n']}: any {c['any']} (FP rate {c['any'] / max(c['n'], 1):.3f})  scam {c['scam']}"
          f"  miscategorised {c['miscategorised']}  policy {c['policy']}")
    print("  feedback P(negative) >= 0.5 by comment pool: " + ", ".join(
        f"{k} {v['share_negative']:.2f} of {v['n']} (min {v['min']:.2f}, max {v['max']:.2f})" for k, v in r["feedback"].items()))
    cl = r["clients"]
    print(f"  consistently negative clients flagged: {cl['negative']['flagged']}/{cl['negative']['n']}")
    for cid, d in cl["negative"]["detail"].items():
        print(f"    {cid} {'FLAGGED' if d['flagged'] else 'not    '} score {d['score']:.3f}  {d['why']}")
    print(f"  single-bad-review clients flagged: {cl['one_bad']['flagged']}/{cl['one_bad']['n']}"
          f" (max score {cl['one_bad']['max_score']:.3f}) {cl['one_bad']['flagged_ids']}")
    print(f"  other clients flagged: {cl['other']['flagged']}/{cl['other']['n']} {cl['other']['flagged_ids']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=7, help="generator seed (7 = validation, 11 = held-out test)")
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    args = ap.parse_args(argv)
    role = {7: "VALIDATION", 11: "HELD-OUT TEST"}.get(args.seed, "other seed")
    r = evaluate_demo(args.seed, args.model_dir)
    print_report(r, role)
    if args.json:
        args.json.write_text(json.dumps(r, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
