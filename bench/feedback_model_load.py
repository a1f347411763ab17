"""What a process scoring feedback loads: the whole scorer (``classifiers.scorer.load_scorer``:
every bundle, the post vectorisers, the stacked post matrix, the rule prefilter), which the
feedback path loaded before, against the feedback model alone
(``classifiers.feedback_scorer.load_feedback_scorer``), which it loads now.

Each measurement is a fresh interpreter (as a ``flask import feedback`` command or a worker
starts): the wall time from before the first import of ``classifiers`` until the models are
loaded (imports included: numpy, scikit-learn, skops), and the process's resident memory
then (VmRSS) and at its peak (VmHWM). The two kinds alternate, ``--repeat`` times each;
prints min/median/max and the ratios of the medians.

    .venv/bin/python bench/feedback_model_load.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = {
    "whole scorer (before)": "from classifiers.scorer import load_scorer as load",
    "feedback model alone (now)": "from classifiers.feedback_scorer import load_feedback_scorer as load",
}
PROBE = """
import json, time
t0 = time.perf_counter()
{import_line}
model = load()
seconds = time.perf_counter() - t0
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
kb = lambda key: int(status[key].split()[0])
model.score_feedback([])
print(json.dumps({{"seconds": seconds, "rss_mb": kb("VmRSS") / 1024, "hwm_mb": kb("VmHWM") / 1024}}))
"""


def measure(import_line: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(import_line=import_line)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args()
    runs: dict[str, list[dict]] = {k: [] for k in KINDS}
    for _ in range(args.repeat):
        for kind, line in KINDS.items():
            runs[kind].append(measure(line))
    medians = {}
    for kind, rows in runs.items():
        print(kind)
        medians[kind] = {}
        for key, unit in (("seconds", "s"), ("rss_mb", "MB"), ("hwm_mb", "MB")):
            values = [r[key] for r in rows]
            medians[kind][key] = statistics.median(values)
            print(f"  {key:8} min {min(values):7.2f} median {statistics.median(values):7.2f} "
                  f"max {max(values):7.2f} {unit}  (n={len(values)})")
    before, now = (medians[k] for k in KINDS)
    print("now / before (medians): " + ", ".join(
        f"{key} {now[key] / before[key]:.2f}" for key in ("seconds", "rss_mb", "hwm_mb")))


if __name__ == "__main__":
    main()
