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
    """Bundles trained before the general model (no ``general``, ``negation`` or ``general_nb`` in
    their settings) score as before: text read unmarked."""
    texts, y, ratings, groups = _rows()
    bundle = fb.fit(texts, y, ratings, groups, settings=fb.Settings(general=False, negation=False, general_nb=False))
    assert bundle["general"] is None
    before = fb.predict(bundle, ["Never paid and rude.", "Great client, paid on time."], [None, None])
    for key in ("general", "negation", "general_nb"):
        bundle["settings"].pop(key)
    bundle.pop("general")
    bundle.pop("_tm")
    p = fb.predict(bundle, ["Never paid and rude.", "Great client, paid on time."], [None, None])
    assert p[0] > p[1]
    assert p.tolist() == before.tolist()


def test_nb_scaling_is_folded_into_the_coefficients():
    """The NB-scaled general model scores the unscaled tf-idf columns with w * r: the same
    decision as the regression fitted on the scaled columns."""
    import scipy.sparse as sp

    from classifiers import feedback_text as ft
    from classifiers.modelling import hstack

    texts, y, _ = fg.load_corpus(limit=1500)
    g = fg.fit(texts, y, negation=True, nb=True)
    assert g["nb"] and g["negation"]
    vecs = [fb.unpack_vectorizer(d, t) for d, t in zip(g["vectorizers"], ft.make_vectorizers(char=True))]
    X = hstack([v.transform(t) for v, t in zip(vecs, ft.vectoriser_inputs(texts[:50], True))])
    r = fg.nb_ratio(hstack([v.transform(t) for v, t in zip(vecs, ft.vectoriser_inputs(texts, True))]), y)
    refit = fg.fit(texts, y, negation=True, nb=False)  # same vocabulary (unsupervised)
    assert [d["terms"].tolist() for d in refit["vectorizers"]] == [d["terms"].tolist() for d in g["vectorizers"]]
    expected = (X @ sp.diags(r)) @ (g["lr"].coef_[0] / r) + g["lr"].intercept_[0]
    assert np.allclose(fg.General(g).decision(texts[:50]), expected, atol=1e-6)
    # positive r = more common in negative snippets
    word = {t: j for j, t in enumerate(g["vectorizers"][0]["terms"].tolist())}
    assert r[word["bad"]] > 0 > r[word["great"]]


def test_general_model_without_the_negation_key_reads_unmarked_text(general):
    """A general bundle fitted before negation marking has no ``negation`` key: not marked."""
    old = dict(general)
    old.pop("negation")
    assert fg.General(old).negation is False and fg.General(general).negation is True


def test_negation_marking_changes_what_the_text_model_reads(general):
    """With ``negation`` the word n-grams of a negated phrase are other columns than the
    plain phrase: "not worth it" no longer shares "worth it" with the praise."""
    from classifiers import feedback_text as ft

    word, char = ft.vectoriser_inputs(["Not worth the money.", "Worth every cent."], True)
    assert word == ["not neg_worth neg_the neg_money.", "worth every cent."]
    assert char == ["Not worth the money.", "Worth every cent."]
    assert ft.vectoriser_inputs(["Not worth it."], False) == [["Not worth it."], ["Not worth it."]]


def test_report_lists_each_candidate_and_the_general_corpus():
    from dataclasses import asdict

    from classifiers.evaluation import format_feedback

    default, plain = asdict(fb.Settings()), asdict(fb.Settings(general=False, negation=False))
    f = {"selection": {"candidates": [
        {"settings": default, "mean_roc_auc": 0.91, "by_source": {"amaz": 0.95, "imdb": 0.9}},
        {"settings": plain, "mean_roc_auc": 0.89, "by_source": {"amaz": 0.93, "imdb": None}}]},
        "general_model": {"n_rows": 19000, "rows_by_source": {"vamz": 3000, "vmov": 9000}, "margin": 0.5,
                          "negation": True, "nb": True}}
    text = "\n".join(format_feedback(f, 0.6))
    assert "first" + " " * 31 + " mean 0.910   amaz 0.950 imdb 0.900" in text
    assert "general=False, negation=False" + " " * 7 + " mean 0.890   amaz 0.930\n" in text + "\n"
    assert ("19000 public rated snippets (vamz 3000, vmov 9000; |mean rating| >= 0.5), never a feedback row; "
            "negation marked True, NB-scaled True") in text


def test_a_bundle_from_before_the_polarity_tokens_scores_as_before():
    """Bundles trained before the polarity tokens (negation marking without them; no ``polarity``
    or ``handwritten`` in their settings) keep reading the text without them."""
    texts, y, ratings, groups = _rows()
    s = fb.Settings(general=False, negation=True, polarity=False)
    bundle = fb.fit(texts, y, ratings, groups, settings=s)
    probe = ["Not bad at all.", "Not good at all.", "Never paid and rude."]
    before = fb.predict(bundle, probe, [None] * 3)
    for key in ("polarity", "handwritten"):
        bundle["settings"].pop(key)
    bundle.pop("_tm")
    assert fb.predict(bundle, probe, [None] * 3).tolist() == before.tolist()
    assert not fb._settings(bundle).polarity


def test_report_names_the_hand_written_rows_and_the_polarity_tokens():
    from classifiers.evaluation import format_feedback

    f = {"settings": {"handwritten": True}, "hand_written_rows": 65,
         "general_model": {"n_rows": 10, "rows_by_source": {"vmov": 10}, "margin": 0.5, "negation": True, "nb": True,
                           "polarity": True}}
    text = "\n".join(format_feedback(f, 0.6))
    assert "NB-scaled True, polarity tokens True" in text
    assert "hand-written negation rows (source hand, never held out): 65 (in training: True)" in text
