"""The general sentiment model (classifiers/feedback_general.py) and how the feedback model uses it."""
from __future__ import annotations

import gzip

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from classifiers import feedback as fb
from classifiers import feedback_general as fg


def test_corpus_keeps_only_rated_snippets_with_a_direction(tmp_path):
    lines = {"movieReviewSnippets": "1\t2.5\tA wonderful film\n2\t-0.2\tIt is a film\n3\t-3.1\tAwful, a waste\n",
             "amazonReviewSnippets": "1\t0.49\tok\n2\t-0.5\tbroke in a week\r\n",
             "tweets": "1\t1.0\tlove it\n\n", "nytEditorialSnippets": "1\t-1.2\t   \n"}
    for name, text in lines.items():
        with gzip.open(tmp_path / f"{name}_GroundTruth.txt.gz", "wt", encoding="utf-8") as f:
            f.write(text)
    texts, y, src = fg.load_corpus(tmp_path)
    assert texts == ["A wonderful film", "Awful, a waste", "broke in a week", "love it"]
    assert y.tolist() == [0, 1, 1, 0]
    assert src == ["vmov", "vmov", "vamz", "vtwt"]
    few, _, _ = fg.load_corpus(tmp_path, limit=2)
    assert few == ["A wonderful film", "broke in a week"]
    # a snippet that is also a feedback training row (normalised) is left out
    kept, _, _ = fg.load_corpus(tmp_path, exclude=["AWFUL -- a waste!", "unrelated"])
    assert kept == ["A wonderful film", "broke in a week", "love it"]


def test_shipped_corpus_is_whole():
    texts, y, src = fg.load_corpus()
    counts = {s: src.count(s) for s in set(src)}
    assert set(counts) == {"vmov", "vamz", "vtwt", "vnyt"}
    assert len(texts) > 15_000 and 0.3 < y.mean() < 0.7
    assert all(n > 1_000 for n in counts.values())


@pytest.fixture(scope="module")
def general() -> dict:
    return fg.fit(limit=3000)


def test_general_model_ranks_unseen_sentences(general):
    m = fg.General(general)
    neg = ["The client never paid me and stopped answering.", "Terrible experience, rude and dishonest.",
           "Worst project I have ever worked on.", "He kept changing the scope and refused to pay."]
    pos = ["Great client, clear brief and paid on time.", "A pleasure to work with, highly recommended.",
           "Friendly, fast feedback, would gladly work again.", "Excellent communication and a fair budget."]
    z = m.decision(neg + pos)
    assert roc_auc_score([1] * 4 + [0] * 4, z) >= 0.9


def test_features_are_per_text_over_its_sentences(general):
    m = fg.General(general)
    prep = fb.prepare(["Lovely. Awful and rude.", "Great."], lexicon=False, general=m)
    z_sent = m.decision(["Lovely.", "Awful and rude.", "Great."])
    F = prep.general
    assert F.shape == (2, len(fg.FEATURES))
    assert F[0, 1] == pytest.approx(z_sent[:2].min()) and F[0, 3] == pytest.approx(z_sent[:2].max())
    assert F[0, 2] == pytest.approx(z_sent[:2].mean()) and F[1, 1] == pytest.approx(z_sent[2])
    assert F[0, 0] == pytest.approx(m.decision(["Lovely. Awful and rude."])[0])
    sub = prep.subset([1])
    assert sub.general.tolist() == [F[1].tolist()]


def _rows():
    texts = ["Paid on time, great client.", "Never paid, avoid.", "Clear brief and kind.", "Rude and late with payment.",
             "Would work again.", "Scope creep and no payment."] * 6
    y = np.array([0, 1, 0, 1, 0, 1] * 6)
    return texts, y, [None] * len(texts), [f"g{i}" for i in range(len(texts))]


def test_bundle_carries_the_general_model_and_scores(general):
    texts, y, ratings, groups = _rows()
    bundle = fb.fit(texts, y, ratings, groups, settings=fb.Settings(), general=general)
    assert bundle["general"] is general
    assert "g_sent_min" in bundle["feature_names"]
    p = fb.predict(bundle, ["Never paid and rude.", "Great client, paid on time."], [None, None])
    assert p[0] > p[1]


def test_a_bundle_without_the_general_model_still_scores(general):
    """Bundles trained before the general model (no ``general`` in their settings) score as before."""
    texts, y, ratings, groups = _rows()
    bundle = fb.fit(texts, y, ratings, groups, settings=fb.Settings(general=False))
    assert bundle["general"] is None
    bundle["settings"].pop("general")
    bundle.pop("general")
    p = fb.predict(bundle, ["Never paid and rude.", "Great client, paid on time."], [None, None])
    assert p[0] > p[1]


def test_report_lists_each_candidate_and_the_general_corpus():
    from dataclasses import asdict

    from classifiers.evaluation import format_feedback

    default, plain = asdict(fb.Settings()), asdict(fb.Settings(general=False))
    f = {"selection": {"candidates": [
        {"settings": default, "mean_roc_auc": 0.91, "by_source": {"amaz": 0.95, "imdb": 0.9}},
        {"settings": plain, "mean_roc_auc": 0.89, "by_source": {"amaz": 0.93, "imdb": None}}]},
        "general_model": {"n_rows": 19000, "rows_by_source": {"vamz": 3000, "vmov": 9000}, "margin": 0.5}}
    text = "\n".join(format_feedback(f, 0.6))
    assert "default                mean 0.910   amaz 0.950 imdb 0.900" in text
    assert "general=False          mean 0.890   amaz 0.930\n" in text + "\n"
    assert "19000 public rated snippets (vamz 3000, vmov 9000; |mean rating| >= 0.5), never a feedback row" in text
