"""Strict leave-one-source-out for the review sentences (prints figures; no assertions).

    .venv/bin/python scripts/feedback_strict_loso.py

The report's LOSO holds a feedback source out of the feedback rows only; the general sentiment
model (``classifiers/feedback_general.py``) still reads the VADER snippets of the same domain
(movie-review snippets when imdb is held out, product-review snippets when amazon is). Here that
counterpart is left out of the general model too: held-out review sentences whose domain no part
of the model has seen, the nearest proxy we have for review sentences of another site. Compares
the feedback settings named below.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers import feedback as fb  # noqa: E402
from classifiers import feedback_cv as cv  # noqa: E402
from classifiers import feedback_general as fg  # noqa: E402
from classifiers.data import load_feedback  # noqa: E402

#: held-out feedback source -> its VADER counterpart
PAIRS = (("imdb", "vmov"), ("amaz", "vamz"))
SETTINGS = {"negation only (shipped 2026-12-07)": fb.Settings(text_C=1.0, general_nb=False, polarity=False, handwritten=False),
            "default (polarity + hand rows + NB)": cv.CANDIDATES[0]}


def main() -> None:
    rows = load_feedback()
    texts, y, src = fg.load_corpus(exclude=[r.text for r in rows])
    with threadpool_limits(1):
        for name, s in SETTINGS.items():
            out = []
            for held, drop in PAIRS:
                keep = [i for i in range(len(texts)) if src[i] != drop]
                g = fg.fit([texts[i] for i in keep], y[keep], negation=s.negation, nb=s.general_nb, polarity=s.polarity)
                d = cv.Data(rows, {s.general_key(): g})
                te, tr = np.flatnonzero(d.src == held), np.flatnonzero(d.src != held)
                auc = cv._auc_ci(d.y[te], d.predict(d.fit(tr, s), te))
                out.append(f"{held} (general without {drop}) {auc['roc_auc']:.3f} [{auc['ci95'][0]:.3f}, {auc['ci95'][1]:.3f}]")
            print(f"{name:<34} " + "   ".join(out), flush=True)


if __name__ == "__main__":
    main()
