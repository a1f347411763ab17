"""Per-sentence feedback negativity (classifiers/feedback*.py). Every text here is invented for
these tests. The model is fitted once per module on the public sentiment sentences plus the
generated seed feedback and the hand-written negation rows (no drug reviews: faster), with the
first candidate of the model selection (``feedback_cv.CANDIDATES[0]``). The negated-praise phrases tested below are not among the hand-written rows
(``data/seed/feedback_negation_handwritten.jsonl``; a test checks it)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classifiers import feedback as fb
from classifiers import feedback_text as ft
from classifiers.feedback_cv import CANDIDATES

ROOT = Path(__file__).resolve().parents[3]

NON_PAYMENT_STORY = (
    "I started this project in March and the client seemed friendly at first. "
    "After I delivered the full website he kept asking for new pages that were never in the contract. "
    "When I asked to be paid for the finished milestone he stopped answering my messages. "
    "Two weeks later he opened a dispute and asked for a refund, although he was already using my code on his live site. "
    "I lost a month of work and was never paid a cent. Avoid this client."
)
SHORT_PRAISE = "Thanks, great client!"
GERMAN = "Der Auftraggeber hat nie bezahlt und antwortet nicht mehr auf meine Nachrichten. Sehr enttäuschend."
SPANISH = "El cliente nunca pagó el trabajo entregado y después desapareció sin decir nada."
RUSSIAN = "Заказчик так и не заплатил за выполненную работу и перестал отвечать."


@pytest.fixture(scope="module")
def bundle():
    from classifiers.data import load_feedback

    rows = [r for r in load_feedback(include_real=False) if r.source in ("amaz", "imdb", "seed", "hand")]
    return fb.fit([r.text for r in rows], np.array([r.negative for r in rows]), [r.rating for r in rows],
                  np.array([r.group for r in rows]), [r.source for r in rows], CANDIDATES[0])


# ------------------------------------------------------------------ sentences
@pytest.mark.parametrize("text,expected", [
    ("Great client. Paid on time!", ["Great client.", "Paid on time!"]),
    ("Paid late... twice.\nWould not work again", ["Paid late...", "twice.", "Would not work again"]),
    ("Clear brief; fast payment", ["Clear brief", "fast payment"]),
    ("He said \"done.\" Then vanished.", ["He said \"done.\"", "Then vanished."]),
    ("Great!!! :)", ["Great!!! :)"]),
    ("v1.2 was fine", ["v1.2 was fine"]),
    ("", [""]),
    ("  ", [""]),
    ("A+++", ["A+++"]),
])
def test_split_sentences(text, expected):
    assert ft.split_sentences(text) == expected


def test_long_text_sentence_count_is_capped():
    s = ft.split_sentences(" ".join(f"Sentence {i} here." for i in range(100)))
    assert len(s) == ft.MAX_SENTENCES and s[-1].startswith(f"Sentence {ft.MAX_SENTENCES - 1} here.")


def test_prepared_subset_keeps_each_texts_sentences():
    prep = fb.prepare(["One. Two.", "Three.", "Four. Five. Six."], lexicon=False)
    sub = prep.subset([2, 0])
    assert sub.texts == ["Four. Five. Six.", "One. Two."]
    assert sub.sentences == ["Four.", "Five.", "Six.", "One.", "Two."]
    assert sub.owner.tolist() == [0, 0, 0, 1, 1] and sub.n_sent.tolist() == [3, 2]


# ------------------------------------------------------------------ scores
def test_long_non_payment_story_is_clearly_negative_and_short_praise_clearly_positive(bundle):
    p = fb.predict(bundle, [NON_PAYMENT_STORY, SHORT_PRAISE, "Great client, clear instructions, paid promptly."], [None] * 3)
    assert p[0] > 0.8, p
    assert p[1] < 0.2 and p[2] < 0.2, p


def test_one_negative_sentence_in_a_polite_story_raises_the_score(bundle):
    polite = "The client was friendly and answered quickly. The brief was clear. We had weekly calls. The project ended in June."
    p = fb.predict(bundle, [polite, polite + " In the end he refused to pay the last invoice."], [None, None])
    assert p[1] > p[0] + 0.2, p


@pytest.mark.parametrize("text", ["Project finished, contract closed.", NON_PAYMENT_STORY, SHORT_PRAISE, GERMAN, ""])
def test_fewer_stars_never_less_negative(bundle, text):
    p = fb.predict(bundle, [text] * 5, [1, 2, 3, 4, 5])
    assert all(a >= b - 1e-12 for a, b in zip(p, p[1:])), p
    assert p[0] > p[4], p


def test_star_weights_are_non_negative(bundle):
    for model, cols in ((bundle["combiner"], bundle["combiner_cols"]), (bundle["rating_lr"], bundle["rating_cols"])):
        names = bundle["feature_names"] if model is bundle["combiner"] else list(fb.RATING_FEATURES)
        for c, w in zip(cols, model.coef_[0]):
            if names[c] in fb.MONOTONE:
                assert w >= 0


def test_monotone_fit_drops_a_star_column_that_would_go_negative():
    rng = np.random.default_rng(0)
    ratings = rng.integers(1, 6, 400).tolist()
    y = np.array([int(r == 5 or (r == 1 and rng.random() < 0.5)) for r in ratings])  # 5 stars "negative": a perverse label
    m = fb.fit_monotone_lr(fb.rating_block(ratings), y, None, list(fb.RATING_FEATURES), 1.0)
    kept = [fb.RATING_FEATURES[c] for c in m["cols"]]
    assert "stars_le_4" not in kept  # the unconstrained weight is negative
    assert all(w >= 0 for c, w in zip(m["cols"], m["lr"].coef_[0]) if fb.RATING_FEATURES[c] in fb.MONOTONE)


# ------------------------------------------------------------------ language
@pytest.mark.parametrize("text", [GERMAN, SPANISH, RUSSIAN, "非常好的客户，付款及时，沟通顺畅。"])
def test_non_english_text_gets_no_text_score(bundle, text):
    d = fb.score(bundle, [text, text, NON_PAYMENT_STORY], [None, 1, None])
    assert d["text_scored"].tolist() == [False, False, True]
    assert d["language"][0] != "en" and d["language"][2] == "en"
    prior = fb.predict(bundle, [RUSSIAN], [None])[0]
    assert d["negative"][0] == pytest.approx(prior)  # the same non-confident prior whatever the words
    assert 0.2 < d["negative"][0] < 0.8
    assert d["negative"][1] > d["negative"][0]  # the rating still counts


@pytest.mark.parametrize("text", ["Muy buen cliente, pago rapido", "Ottimo cliente, pagamento veloce",
                                  "Cliente excelente, recomendo", "Très bon client, paiement rapide"])
def test_short_foreign_praise_is_not_scored_as_english_even_when_langid_is_unsure(bundle, text):
    """langid gives these 0.4-0.8, under its threshold; almost none of their words is English."""
    d = fb.score(bundle, [text], [None])
    assert d["text_scored"].tolist() == [False] and d["language"][0] != "en"


@pytest.mark.parametrize("text", ["ok", "OK", "A+++", "10/10", "Great client!", "thx", "Paid on time", "Would hire again",
                                  "Excellent", "Gr8 client, fast pay", "Not good", "Never paid.", "meh", "Smooth project",
                                  "Perfecto! Great work with Jose, paid fast.", "Cliente ok, recommended"])
def test_short_english_is_not_mistaken_for_foreign(bundle, text):
    assert fb.score(bundle, [text], [None])["text_scored"].tolist() == [True]


def test_empty_and_whitespace_text_are_scored(bundle):
    d = fb.score(bundle, ["", "   "], [None, 5])
    assert d["text_scored"].all() and np.all((d["negative"] >= 0) & (d["negative"] <= 1))


# ------------------------------------------------------------------ CLI contract
@pytest.fixture(scope="module")
def model_dir(bundle, tmp_path_factory):
    """The active models with this module's feedback bundle saved through the registry (which
    also checks the bundle holds only the types a model file may hold)."""
    from classifiers.registry import ARTIFACTS_DIR, read_active, save_bundle, write_active

    root = tmp_path_factory.mktemp("models")
    active = read_active(ARTIFACTS_DIR)
    for det, version in active.items():
        if det != "feedback":
            (root / det).mkdir()
            (root / det / version).symlink_to(ARTIFACTS_DIR / det / version, target_is_directory=True)
    b = {k: v for k, v in bundle.items() if not k.startswith("_")}
    save_bundle(b, root, "feedback", "test", {"threshold": 0.7, "version": "feedback-test"})
    write_active(root, {**active, "feedback": "test"})
    return root


def test_saved_bundle_loads_and_scores_the_same(bundle, model_dir):
    from classifiers.registry import load_bundle

    loaded, _ = load_bundle(model_dir, "feedback", "test")
    texts = [NON_PAYMENT_STORY, SHORT_PRAISE, GERMAN]
    assert np.allclose(fb.predict(loaded, texts, [None, 4, 2]), fb.predict(bundle, texts, [None, 4, 2]))


def test_cli_score_feedback_keeps_id_and_negative_and_adds_language(tmp_path, model_dir):
    lines = [json.dumps({"id": "a", "text": SHORT_PRAISE, "rating": None}),
             json.dumps({"id": "b", "text": NON_PAYMENT_STORY, "rating": None}),
             json.dumps({"id": "c", "text": GERMAN, "rating": None})]
    f = tmp_path / "fb.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "classifiers", "score-feedback", str(f), "--model-dir", str(model_dir)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert all(isinstance(o["negative"], float) and 0 <= o["negative"] <= 1 for o in out)
    assert [(o["text_scored"], o["language"]) for o in out] == [(True, "en"), (True, "en"), (False, "de")]
    assert out[0]["negative"] < 0.2 and out[1]["negative"] > 0.8 and 0.2 < out[2]["negative"] < 0.8


@pytest.mark.parametrize("text, expected", [
    ("It was not very good, but ok.", "it was not neg_very neg_good, but ok."),
    ("Wasn\u2019t worth the money!", "wasn't neg_worth neg_the neg_money!"),
    ("Never paid me. Great otherwise", "never neg_paid neg_me. great otherwise"),
    ("I dont like it; fine", "i dont neg_like neg_it; fine"),
    ("No. Good", "no. good"),
    ("not bad, not never good. ok", "not neg_bad, not neg_never neg_good. ok"),
    # words that merely contain a cue or end in "nt" are no cues, nor is "cant"
    ("Excellent client, want to hire again, payment sent", "excellent client, want to hire again, payment sent"),
    ("I cant wait; knot notes", "i cant wait; knot notes"),
    ("without any delay (really)", "without neg_any neg_delay (really)"),
    ("", ""),
])
def test_negation_scope_is_marked_up_to_the_next_punctuation(text, expected):
    from classifiers.feedback_text import mark_negation

    assert mark_negation(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Not bad at all", "not neg_bad negx_negative neg_at neg_all"),
    ("No complaints, paid on time.", "no neg_complaints negx_negative, paid on time."),
    ("Never late with payment", "never neg_late negx_negative neg_with neg_payment"),
    ("Not good at all.", "not neg_good negx_positive neg_at neg_all."),
    # weak lexicon words ("pay", -0.4) get no polarity token
    ("He did not pay", "he did not neg_pay"),
    # only the first words of a scope, up to a clause word, get one
    ("not in the contract and threatened a bad rating", "not neg_in neg_the neg_contract neg_and neg_threatened neg_a neg_bad neg_rating"),
    # a warning is no praise; "couldn't be" + comparative is a superlative, left unmarked
    ("Don't waste your time.", "don't neg_waste neg_your neg_time."),
    ("Great work. Do not be fooled!", "great work. do not neg_be neg_fooled!"),
    ("Couldn't be happier", "couldn't be happier"),
    # "can't <praise> ... enough" is a superlative: rewritten, not negated
    ("I can't recommend him enough!", "i highly recommend him!"),
    ("Cannot thank her enough for the brief.", "highly thank her for the brief."),
    ("I can't recommend him.", "i can't neg_recommend negx_positive neg_him."),
    ("It could not be worse", "it could not be worse"),
    ("He couldn't be bothered", "he couldn't neg_be neg_bothered"),
])
def test_polarity_tokens_follow_negated_lexicon_words(text, expected):
    from classifiers.feedback_text import mark_negation

    assert mark_negation(text, polarity=True) == expected


#: praise phrased as a negated negative, and complaints phrased with a negation; none is a training row
NEGATED_PRAISE = ["Not bad at all, would work again!", "No complaints, paid on time.", "Nothing to complain about.",
                  "Never late with payment.", "No issues whatsoever, great to work with.",
                  "Couldn't be happier with this client.", "Never had a problem with him."]
NEGATED_COMPLAINTS = ["Not good at all.", "Never paid.", "He never paid me.", "Not happy with this client.",
                      "Not once did he pay on time.", "No payment, no reply.", "Couldn't be worse."]


def test_negated_praise_phrases_are_not_training_rows():
    from classifiers.data import _norm, load_feedback

    train = {_norm(r.text) for r in load_feedback(include_real=False)}
    assert not train & {_norm(t) for t in NEGATED_PRAISE + NEGATED_COMPLAINTS}


def test_negated_negatives_read_as_praise_and_their_twins_as_complaints(bundle):
    p = fb.predict(bundle, NEGATED_PRAISE + NEGATED_COMPLAINTS, [None] * (len(NEGATED_PRAISE) + len(NEGATED_COMPLAINTS)))
    praise, complaints = p[:len(NEGATED_PRAISE)], p[len(NEGATED_PRAISE):]
    assert (praise < 0.5).all(), dict(zip(NEGATED_PRAISE, praise.round(3)))
    assert (complaints > 0.5).all(), dict(zip(NEGATED_COMPLAINTS, complaints.round(3)))
    assert praise.max() < complaints.min(), (praise.round(3), complaints.round(3))
    # a known weak spot (docs/classifiers.md): the negated praise still scores high, but below its twin
    late, on_time = fb.predict(bundle, ["Not once did he pay late.", "Not once did he pay on time."], [None, None])
    assert late < on_time


def test_domain_words_carry_valence_in_the_lexicon():
    """VADER alone reads "no" before a word it lacks as negative and "late" as neutral."""
    assert ft._vader_one("No issues whatsoever.")[0] > 0
    assert ft._vader_one("Never late.")[0] > 0
    assert ft._vader_one("Paid late twice.")[0] < 0
    assert ft._vader_one("He ghosted me after delivery.")[0] < 0
    assert ft._vader_one("I can't recommend him enough!")[0] > 0
    assert ft._vader_one("I can't recommend him.")[0] < 0


def test_a_superlative_with_a_negation_reads_as_praise(bundle):
    p = fb.predict(bundle, ["I can't recommend him enough!", "Cannot thank this client enough.", "I can't recommend him."],
                   [None, None, None])
    assert p[0] < 0.5 and p[1] < 0.5 and p[2] > 0.5, p.round(3)


@pytest.mark.parametrize("text", ["thanks, great client", "Great client!", "Thank you, pleasure to work with."])
def test_short_praise_scores_clearly_low(bundle, text):
    assert fb.predict(bundle, [text], [None])[0] < 0.1


def test_a_batch_scores_each_feedback_as_it_would_alone(scorer):
    """The import scores a chunk of feedback with one vectorised call (its sentences, the
    general model's sentence logits and the text model batched across all its rows): on the
    shipped model every row's score equals the row scored alone, to 1e-9, in any order and
    with foreign, empty, unrated and long multi-sentence rows among them."""
    import random

    from classifiers import FeedbackInput

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
    from generate_demo_data import generate

    data = generate(seed=5, clients=60, posts=40)
    items = [FeedbackInput(id=str(i), text=f.get("comment") or "", rating=f.get("rating"))
             for i, f in enumerate(data["feedback"])]
    items += [FeedbackInput(id="empty", text="", rating=None),
              FeedbackInput(id="blank", text="   \n ", rating=3),
              FeedbackInput(id="foreign", text="Sehr unzuverlässiger Kunde, hat nie bezahlt und "
                                                "war unhöflich.", rating=1),
              FeedbackInput(id="long", text=" ".join(
                  f"Sentence {k} of a long story; the client never paid." for k in range(60)),
                  rating=2)]
    batch = scorer.score_feedback(items)
    alone = [scorer.score_feedback([it])[0] for it in items]
    np.testing.assert_allclose(batch, alone, rtol=0, atol=1e-9)
    shuffled = list(range(len(items)))
    random.Random(3).shuffle(shuffled)
    again = scorer.score_feedback([items[i] for i in shuffled])
    np.testing.assert_allclose([batch[i] for i in shuffled], again, rtol=0, atol=1e-9)
