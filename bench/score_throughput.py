"""Throughput of classifiers.Scorer.score_posts on one core (prints figures; no assertions).

    .venv/bin/python bench/score_throughput.py [--n 4096] [--repeats 5]

Compared, on the same posts in the same run, median of --repeats:
  A  full pipeline      scorer.score_posts(batch)  (vectorise + every model + regex rules +
                         evidence + result objects), batches of 512
  B  model maths only    predict_proba of the shipped LogisticRegressions (scam, category,
                         5 policy types) on PRE-COMPUTED sparse vectors
  C  vectorise + maths   scorer.vectorise(batch) followed by B
Ratios reported: A/B (our overhead on top of bare predict_proba, the requested figure) and
A/C (overhead on top of vectorising + predicting, i.e. the regex rules + evidence + objects).
Posts are the marketplace seed posts (data/seed/marketplace_posts.jsonl), cycled to --n.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers import PostInput, load_scorer  # noqa: E402
from classifiers.policy_rules import POLICY_TYPES  # noqa: E402

BATCH = 512


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    rows = [json.loads(x) for x in (ROOT / "data/seed/marketplace_posts.jsonl").read_text().splitlines()]
    posts = [PostInput(id=f"b{i}", title=r["title"], description=r["description"], category=r["category"])
             for i, r in enumerate(rows[j % len(rows)] for j in range(a.n))]
    batches = [posts[i:i + BATCH] for i in range(0, len(posts), BATCH)]
    s = load_scorer()
    b = s._b
    models = [b["scam"]["lr"], b["miscategorised"]["lr"], *(b["policy"]["lr"][t] for t in POLICY_TYPES)]
    with threadpool_limits(limits=1):
        s.score_posts(batches[0])  # warm-up
        Xs = [s.vectorise(bt) for bt in batches]
        R0 = np.zeros((BATCH, len(POLICY_TYPES)), dtype=np.float32)
        from classifiers import policy as pol_mod

        Xp = [pol_mod.design(X, R0[: X.shape[0]]) for X in Xs]

        def maths(X, XP):
            models[0].predict_proba(X)
            models[1].predict_proba(X)
            for m in models[2:]:
                m.predict_proba(XP)

        tA, tB, tC = [], [], []
        for _ in range(a.repeats):
            t = time.perf_counter()
            for bt in batches:
                s.score_posts(bt)
            tA.append(time.perf_counter() - t)
            t = time.perf_counter()
            for X, XP in zip(Xs, Xp):
                maths(X, XP)
            tB.append(time.perf_counter() - t)
            t = time.perf_counter()
            for bt in batches:
                X = s.vectorise(bt)
                maths(X, pol_mod.design(X, R0[: X.shape[0]]))
            tC.append(time.perf_counter() - t)
    A, B, C = (a.n / statistics.median(x) for x in (tA, tB, tC))
    mean_len = statistics.mean(len((p.title or "") + (p.description or "")) for p in posts)
    print(f"posts: {a.n} (mean {mean_len:.0f} chars), batch {BATCH}, 1 thread, median of {a.repeats}")
    print(f"A full pipeline score_posts          : {A:10.0f} posts/s")
    print(f"B bare predict_proba on pre-computed : {B:10.0f} posts/s")
    print(f"C vectorise + predict_proba          : {C:10.0f} posts/s")
    print(f"ratio A/B (pipeline vs bare maths)   : {A / B:10.3f}")
    print(f"ratio A/C (pipeline vs vectorise+maths): {A / C:8.3f}")


if __name__ == "__main__":
    main()
