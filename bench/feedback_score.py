"""Feedback negativity: what a worker pays to load the model, and scoring throughput (prints
figures; no assertions).

    .venv/bin/python bench/feedback_score.py [--model-dir D] [--n 2000] [--repeats 5]

One process, BLAS/OpenMP threads limited to 1. Reported:
  load     loading the active feedback bundle (registry.load_bundle) and scoring one feedback
           (vectorisers unpacked, VADER lexicon read): wall seconds, and the process's peak
           resident memory before and after.
  short    feedbacks/s on --n short feedbacks (the generated seed comments, cycled; 1-3
           sentences), median of --repeats passes, wall and process CPU time.
  long     the same on --n/10 long feedbacks (seed comments joined 8 at a time).
With --cold the per-process text caches (VADER per sentence, negation marking) are emptied
before every pass (within one pass the 394 seed comments still repeat).
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers import feedback as fb  # noqa: E402
from classifiers import feedback_text as ft  # noqa: E402
from classifiers import registry  # noqa: E402


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _passes(texts: list[str], bundle: dict, repeats: int, cold: bool) -> tuple[float, float]:
    wall, cpu = [], []
    ratings = [None] * len(texts)
    for _ in range(repeats):
        if cold:
            ft._vader_one.cache_clear()
            getattr(ft, "mark_negation", None) and ft.mark_negation.cache_clear()
        t0, c0 = time.perf_counter(), time.process_time()
        fb.predict(bundle, texts, ratings)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return len(texts) / statistics.median(wall), len(texts) / statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", type=Path, default=ROOT / "classifiers" / "artifacts")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cold", action="store_true", help="empty the per-text caches before every pass")
    a = ap.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        seed = [json.loads(line)["text"] for line in open(ROOT / "data" / "seed" / "client_feedback.jsonl", encoding="utf-8")]
        version = registry.read_active(a.model_dir)["feedback"]
        before = _peak_mb()
        t0 = time.perf_counter()
        bundle, _ = registry.load_bundle(a.model_dir, "feedback", version)
        fb.predict(bundle, ["Great client, paid on time."], [None])
        load_s = time.perf_counter() - t0
        after = _peak_mb()
        short = (seed * (a.n // len(seed) + 1))[: a.n]
        long_ = [" ".join(seed[i:i + 8]) for i in range(0, len(seed) - 8)]
        long_ = (long_ * (a.n // 10 // len(long_) + 1))[: max(a.n // 10, 1)]
        s_wall, s_cpu = _passes(short, bundle, a.repeats, a.cold)
        l_wall, l_cpu = _passes(long_, bundle, a.repeats, a.cold)
    print(f"feedback model {version}")
    print(f"load + first feedback {load_s:.2f} s; peak RSS {before:.0f} -> {after:.0f} MB")
    print(f"short ({len(short)}{', cold' if a.cold else ''}): {s_wall:,.0f}/s wall, {s_cpu:,.0f}/s CPU (median of {a.repeats})")
    print(f"long  ({len(long_)}, ~8 comments each): {l_wall:,.0f}/s wall, {l_cpu:,.0f}/s CPU")


if __name__ == "__main__":
    main()
