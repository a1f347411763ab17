"""Scorer.score_posts output is pinned: speed work on the scorer must not change a single score,
flag or evidence span. The reference digests in data/scorer_golden.json come from the shipped
models; the scorer as it was before the throughput work (main d7284dc) and every version since
give the same digests. They cover every seed post, the demo marketplace (seed 11), the first
EMSCAD rows and the rule-test texts.

Each post's result is digested from its fields (evidence in order), 16 posts per digest, with
every float to 7 significant digits: NumPy and OpenBLAS pick their SIMD kernels by CPU (AVX-512
or not), and the last bits of a probability differ between them (seen on an AVX-512
machine, NumPy's AVX-512 kernels on against off: 352 of 4,899 posts, all equal to 12 digits).
Any real change to the scorer moves a score far more than that; a change of flags, categories
or evidence shows exactly. After retraining the shipped models the outputs legitimately change:
regenerate with ``.venv/bin/python -m tests.unit.classifiers.test_scorer_golden --write``
(the test skips while the active model versions differ from the recorded ones).
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).resolve().parent / "data" / "scorer_golden.json"
BLOCK = 16
BATCH = 256  # not a divisor of the corpus: the last batch is short


def _posts():
    from classifiers import PostInput
    from classifiers.data import load_emscad, load_seed_posts

    from .test_features import NEGATIVE, NOT_NUMBER_REQUESTS, NUMBER_REQUESTS, POSITIVE

    sys.path.insert(0, str(ROOT / "scripts"))
    from generate_demo_data import generate

    posts = [PostInput(id=r.id, title=r.title, description=r.description, category=r.posted_category)
             for r in load_seed_posts() + load_emscad()[:400]]
    posts += [PostInput(id=f"demo{i}", title=d["title"], description=d["description"], category=d["category"])
              for i, d in enumerate(generate(seed=11)["posts"])]
    texts = [t for t, _ in POSITIVE] + NEGATIVE + [t for t, _ in NUMBER_REQUESTS] + NOT_NUMBER_REQUESTS
    texts += ["", "İstanbul ßtraße ſkype", "I WİLL PAY YOU DİRECTLY", "Ünïcödé ÇAFÉ naïve résumé WhatsApp:+44 7700 900123"]
    # each rule text as the description, as the title, and split across both fields
    for i, t in enumerate(texts):
        posts.append(PostInput(id=f"d{i}", title=None, description=t))
        posts.append(PostInput(id=f"t{i}", title=t, description="Details in the title.", category="writing_translation"))
        posts.append(PostInput(id=f"s{i}", title=t[: len(t) // 2], description=t[len(t) // 2:]))
    return posts


FLOAT_DIGITS = 7


def _canonical(value):  # noqa: ANN001, ANN202
    """``value`` (a PostScore and what it holds) as plain tuples, floats to FLOAT_DIGITS."""
    import dataclasses

    import numpy as np

    if isinstance(value, (float, np.floating)):
        return format(float(value), f".{FLOAT_DIGITS}g")
    if dataclasses.is_dataclass(value):
        return (type(value).__name__,
                tuple((f.name, _canonical(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, dict):
        return tuple((k, _canonical(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(v) for v in value)
    return value


def _digests(scorer) -> list[str]:
    posts = _posts()
    reprs = [repr(_canonical(r)) for i in range(0, len(posts), BATCH)
             for r in scorer.score_posts(posts[i:i + BATCH])]
    return [hashlib.sha256("\n".join(reprs[i:i + BLOCK]).encode()).hexdigest()[:16] for i in range(0, len(reprs), BLOCK)]


def test_score_posts_output_matches_the_recorded_reference(scorer):
    ref = json.loads(GOLDEN.read_text())
    if ref["model_versions"] != scorer.versions:
        pytest.skip("the active models are not the ones the reference was recorded with; regenerate it (see docstring)")
    got = _digests(scorer)
    assert len(got) == len(ref["digests"])
    bad = [k for k, (a, b) in enumerate(zip(got, ref["digests"])) if a != b]
    assert not bad, f"score_posts output changed in posts {[(k * BLOCK, k * BLOCK + BLOCK - 1) for k in bad[:5]]} (of _posts())"


def test_new_evidence_builds_the_same_frozen_evidence():
    import dataclasses

    from classifiers.types import Evidence, new_evidence

    args = ("policy", "free sample", 3, 14, "asks for free work", "description", "policy", "rule")
    for extra in ((), (0.25,)):
        e, ref = new_evidence(*args, *extra), Evidence(*args, *extra)
        assert type(e) is Evidence and e == ref and hash(e) == hash(ref) and repr(e) == repr(ref)
        with pytest.raises(dataclasses.FrozenInstanceError):
            e.text = "x"


if __name__ == "__main__":  # regenerate: python -m tests.unit.classifiers.test_scorer_golden --write
    sys.path.insert(0, str(ROOT))
    from classifiers import load_scorer

    s = load_scorer()
    if "--write" in sys.argv:
        GOLDEN.write_text(json.dumps({"model_versions": s.versions, "block": BLOCK, "digests": _digests(s)}, indent=0) + "\n")
