import numpy as np
import pytest

from classifiers import PostInput
from classifiers.data import load_short_honest

SCAMS = [
    ("Data entry clerk - work from home", "We are hiring data entry clerks to work from home. No experience needed, earn $500 per week. "
     "Contact the hiring manager on Telegram @hr_amelia7 for an interview."),
    ("Personal assistant needed", "I am travelling and need a personal assistant. I will send you a check to deposit, keep $300 "
     "for your time and send the remaining balance to my vendor by Zelle."),
    ("Remote customer support, paid training", "Hiring now! Remote customer support agents. You will need to pay for your "
     "training and starter kit ($150) which covers the software licence. Earn $1,200 per week."),
]
HONEST = [
    ("React developer for dashboard", "I'm looking for a React developer to build an admin dashboard that reads from our "
     "existing REST API. Please include links to similar work. Budget $1,500.", "web_mobile_software"),
    ("Logo for a coffee roastery", "We are opening a small coffee roastery and need a logo that works on bags, cups and signage. "
     "Two rounds of revisions. Please share your portfolio.", "design_creative"),
]


def _score(scorer, title, desc, cat=None):
    return scorer.score_posts([PostInput(id="x", title=title, description=desc, category=cat)])[0]


@pytest.mark.parametrize("title,desc", SCAMS)
def test_scams_are_caught(scorer, title, desc):
    r = _score(scorer, title, desc, "admin_support")
    assert "scam" in r.flags
    assert r.scores["scam"] >= scorer.thresholds["scam"]
    ev = [e for e in r.evidence if e.detector == "scam"]
    assert ev and all(0 <= e.start < e.end for e in ev)


@pytest.mark.parametrize("title,desc,cat", HONEST)
def test_honest_posts_pass(scorer, title, desc, cat):
    r = _score(scorer, title, desc, cat)
    assert r.flags == []
    assert 0.0 <= r.scores["scam"] < scorer.thresholds["scam"]


def test_wrong_category_flagged_with_suggestion(scorer):
    r = _score(scorer, "React developer for dashboard", "I'm looking for a React developer to build an admin dashboard "
               "that reads from our existing REST API, with charts, JWT auth and tests.", "translation")
    assert "miscategorised" in r.flags
    assert r.suggested_category == "web_mobile_software"
    assert any(e.detector == "miscategorised" for e in r.evidence)


def test_self_ad_is_not_a_job(scorer):
    r = _score(scorer, "Hire me", "I am a professional graphic designer with 5 years experience in logos and branding, hire me "
               "for your next project!", "design_creative")
    assert "miscategorised" in r.flags
    assert r.suggested_category == "not_a_job"


def test_looking_for_work_without_posted_category(scorer):
    r = _score(scorer, "Looking for work", "Looking for work as a VA. I am organised, reliable and available 40 hours a week.")
    assert r.predicted_category == "not_a_job"
    assert "miscategorised" in r.flags


POLICY_CASES = [
    ("off_platform", "Need a logo. Email me at maria [at] gmail [dot] com to discuss.", "maria [at] gmail [dot] com"),
    ("off_platform", "Small website fix. WhatsApp me on +44 7700 900123 and we continue there.", "WhatsApp me on +44 7700 900123"),
    ("off_platform", "Data entry helper needed. Reply with your WhatsApp number to get the task list.", "Reply with your WhatsApp number"),
    ("unpaid_work", "Before hiring, please write a free sample article of 800 words on our topic.", "free sample"),
    ("academic_dishonesty", "I need someone to take my online statistics exam this Saturday.", "take my online statistics exam"),
    ("fake_reviews", "We need 50 five-star reviews on our Amazon listing from different accounts.", "need 50 five-star reviews"),
    ("account_rental", "I want to rent your Upwork account; I will do the work and pay you 20%.", "rent your Upwork account"),
    ("account_rental", "Need someone to attend technical interviews on my behalf, camera off.", "attend technical interviews on my behalf"),
]


@pytest.mark.parametrize("ptype,desc,span", POLICY_CASES)
def test_each_policy_type_with_span(scorer, ptype, desc, span):
    r = _score(scorer, "Project", desc, "writing")
    assert "policy" in r.flags
    assert ptype in r.policy_types
    ev = [e for e in r.evidence if e.label == ptype]
    assert any(e.text == span for e in ev), [e.text for e in ev]
    for e in ev:
        assert e.field == "description" and desc[e.start:e.end] == e.text


def test_title_offsets_index_the_title(scorer):
    title = "Call 555-123-4567 for details"
    r = _score(scorer, title, "Simple logo job for my shop.", "design_creative")
    ev = [e for e in r.evidence if e.label == "off_platform"]
    assert ev and ev[0].field == "title" and title[ev[0].start:ev[0].end] == "555-123-4567"


def test_short_honest_set_is_never_flagged(scorer):
    short = load_short_honest()
    assert len(short) >= 60
    assert all(len(d["title"]) + 2 + len(d["description"]) <= 250 for d in short)
    res = scorer.score_posts([PostInput(id=d["id"], title=d["title"], description=d["description"], category=d["category"])
                              for d in short])
    flagged = [(r.id, r.flags) for r in res if r.flags]
    assert flagged == []
    # and without a posted category either
    res = scorer.score_posts([PostInput(id=d["id"], title=d["title"], description=d["description"]) for d in short])
    assert [(r.id, r.flags) for r in res if r.flags] == []


def test_length_alone_does_not_raise_scam_score(scorer):
    """Repeating an honest post (longer, same content) must not matter much; a 1-line post is not suspicious."""
    base = "Need a logo for my bakery. Budget $50."
    s1 = _score(scorer, "Logo", base).scores["scam"]
    s2 = _score(scorer, "Logo", " ".join([base] * 6)).scores["scam"]
    assert s1 < scorer.thresholds["scam"] and s2 < scorer.thresholds["scam"]
    assert abs(s1 - s2) < 0.05


def test_scores_in_unit_interval_and_versions(scorer):
    r = _score(scorer, None, "")
    assert all(0.0 <= v <= 1.0 for v in r.scores.values())
    assert set(r.model_versions) >= {"scam", "miscategorised", "policy"}
    j = r.to_json()
    assert set(j) >= {"id", "scores", "flags", "policy_types", "suggested_category", "evidence"}


def test_feedback_negativity(scorer):
    from classifiers import FeedbackInput

    p = scorer.score_feedback([FeedbackInput("a", "Great client, clear brief and paid promptly.", 5),
                               FeedbackInput("b", "Rude, changed scope constantly and refused to pay.", 1),
                               FeedbackInput("c", "Rude, changed scope constantly and refused to pay.", None)])
    assert p[0] < 0.2 and p[1] > 0.8 and p[2] > 0.5
    assert all(0 <= x <= 1 for x in p)


def test_short_honest_validation_set_is_not_flagged(scorer):
    """Holds by construction of the thresholds (and no rule fires on these posts)."""
    from classifiers.data import load_short_honest_validation

    val = load_short_honest_validation()
    for with_cat in (True, False):
        res = scorer.score_posts([PostInput(id=d["id"], title=d["title"], description=d["description"],
                                            category=d["category"] if with_cat else None) for d in val])
        assert [(r.id, r.flags) for r in res if r.flags] == []


def test_fast_paths_give_identical_scores_and_evidence(scorer, monkeypatch):
    """FastTfidf + keyword-gated rules vs the reference path (sklearn vectorisers, every regex run)."""
    import functools
    import json

    from classifiers import scorer as scorer_mod
    from classifiers.data import DATA_DIR
    from classifiers.rules import find_scam_cues
    from classifiers.rules import find_policy_hits
    from classifiers.scorer import Scorer

    rows = [json.loads(x) for x in (DATA_DIR / "seed" / "marketplace_posts.jsonl").read_text().splitlines()][::3]
    posts = [PostInput(id=r["id"], title=r["title"], description=r["description"], category=r["category"]) for r in rows]
    fast = [r.to_json() for r in scorer.score_posts(posts)]
    ref = Scorer(scorer._b, scorer.metrics)
    ref._fast = [ref._word, ref._char]
    monkeypatch.setattr(scorer_mod, "find_policy_hits", functools.partial(find_policy_hits, gates=False))
    monkeypatch.setattr(scorer_mod, "find_scam_cues", functools.partial(find_scam_cues, gates=False))
    slow = [r.to_json() for r in ref.score_posts(posts)]
    assert any(f["flags"] for f in fast) and any(not f["flags"] for f in fast)
    for a, b in zip(fast, slow):
        assert a["flags"] == b["flags"] and a["evidence"] == b["evidence"] and a["policy_types"] == b["policy_types"]
        assert all(abs(a["scores"][k] - b["scores"][k]) < 1e-6 for k in a["scores"])


def test_confident_not_a_job_flags_whatever_the_posted_category(scorer):
    title = "Experienced graphic designer available"
    desc = ("I am a professional graphic designer with 8 years of experience. Hire me for logos, flyers and branding. "
            "Check my portfolio and send me an offer.")
    for cat in ("design_creative", "writing", None):
        r = _score(scorer, title, desc, cat)
        assert r.predicted_category == "not_a_job"
        assert "miscategorised" in r.flags and r.suggested_category == "not_a_job"
        assert r.scores["miscategorised"] >= scorer.thresholds["not_a_job"]
        assert any(e.detector == "miscategorised" for e in r.evidence)


def test_scam_cues_are_model_columns_not_floors(scorer):
    """A fired cue moves the score only by its learned weight: the shipped score is the calibrated
    model probability over [tf-idf, signals, cues], with no per-cue floor."""
    from classifiers import scam as scam_mod
    from classifiers.modelling import hstack
    from classifiers.rules import find_scam_cues
    from classifiers.rules import signal_matrix

    assert "cue_floor" not in scorer._b["scam"]
    title, desc = "Typing from home", "Home-based typing work for motivated people, start this week."
    text = f"{title}\n\n{desc}"
    assert {h.kind for h in find_scam_cues(text)} == {"home_data_entry"}
    r = _score(scorer, title, desc, "admin_support")
    X = scorer.vectorise([PostInput(id="x", title=title, description=desc)])
    S, _ = signal_matrix([text])
    F = scam_mod.cue_matrix([text])
    p = scam_mod.score(scorer._b["scam"], scorer._b["scam"]["lr"].decision_function(hstack([X, S, F])))
    assert np.isclose(p[0], r.scores["scam"], atol=1e-6)
    # the cue's column has a learned weight (positive: the cue is evidence of fraud)
    coef = scorer._b["scam"]["lr"].coef_[0]
    assert coef[-len(scam_mod.CUE_NAMES) + scam_mod.CUE_NAMES.index("home_data_entry")] > 0


def test_scam_cues_do_not_fire_on_short_honest_posts(scorer):
    from classifiers.data import load_short_honest_validation
    from classifiers.rules import find_scam_cues

    for d in load_short_honest() + load_short_honest_validation():
        assert find_scam_cues(f"{d['title']}\n\n{d['description']}") == [], d["id"]


def test_low_stars_count_as_negative_with_mild_text(scorer):
    from classifiers import FeedbackInput

    p = scorer.score_feedback([FeedbackInput(id=str(r), text="Project finished, contract closed.", rating=r) for r in (1, 2, 3, 4, 5)])
    assert p[0] >= 0.5 and p[4] < 0.5
    # fewer stars never look less negative (equal when a star column's weight is 0: up to rounding)
    assert all(a >= b - 1e-12 for a, b in zip(p, p[1:]))


def _row_top_terms(row, coef, k):
    """The row-by-row reference: argsort of one sparse row's contributions (stable)."""
    import numpy as np

    contrib = row.data * coef[row.indices]
    order = np.argsort(-contrib, kind="stable")[:k]
    return [(int(row.indices[j]), float(contrib[j])) for j in order if contrib[j] > 0]


def test_batched_top_terms_equal_the_row_by_row_reference(scorer):
    import json

    import numpy as np

    from classifiers.data import DATA_DIR
    from classifiers.modelling import top_terms

    rows = [json.loads(x) for x in (DATA_DIR / "seed" / "marketplace_posts.jsonl").read_text().splitlines()][:400]
    X = scorer.vectorise([PostInput(id=r["id"], title=r["title"], description=r["description"]) for r in rows])
    W = scorer._cat_coef
    rng = np.random.default_rng(3)
    rr, cc = rng.integers(0, X.shape[0], 300), rng.integers(0, W.shape[0], 300)
    rr[:5] = rr[0]  # one row against several coefficient rows
    got = top_terms(X, rr, W, cc, scorer._n_word, k=3)
    assert top_terms(X, np.array([], dtype=int), W, np.array([], dtype=int), scorer._n_word) == []
    word = X[:, : scorer._n_word].tocsr()
    for r, c, terms in zip(rr, cc, got):
        ref = _row_top_terms(word[r], W[c], 3)
        assert [j for j, _ in terms] == [j for j, _ in ref]
        assert np.allclose([w for _, w in terms], [w for _, w in ref])
    assert sum(len(t) for t in got) > 600


def test_top_terms_on_the_word_block_and_with_names_are_the_same(scorer):
    """The scorer reads the word block alone and asks for vocabulary terms: exactly the same terms
    and weights as the columns < n_word of the whole row."""
    import numpy as np

    from classifiers.data import load_seed_posts
    from classifiers.modelling import top_terms
    from classifiers.scorer import _model_texts

    posts = [PostInput(id=r.id, title=r.title, description=r.description) for r in load_seed_posts()[:300]]
    word, char = scorer._vectorise_blocks(_model_texts(posts))
    X = scorer.vectorise(posts)
    rng = np.random.default_rng(8)
    rr, cc = rng.integers(0, X.shape[0], 400), rng.integers(0, len(scorer._policy_coef), 400)
    ref = top_terms(X, rr, scorer._policy_coef, cc, scorer._n_word)
    assert top_terms(word, rr, scorer._policy_coef, cc, scorer._n_word) == ref
    named = top_terms(word, rr, scorer._policy_coef, cc, scorer._n_word, names=scorer._vocab_inv)
    assert named == [[(scorer._vocab_inv[j], w) for j, w in row] for row in ref]


def test_the_request_order_equals_lexsort():
    import numpy as np

    from classifiers.modelling import by_request_then_descending

    rng = np.random.default_rng(4)
    for n_req in (1, 7, 300, 40000):  # the last one does not fit int16
        seg = np.sort(rng.integers(0, n_req, 5000))
        contrib = rng.choice(rng.random(400), 5000)  # many ties
        assert np.array_equal(by_request_then_descending(seg, contrib, n_req), np.lexsort((-contrib, seg)))


def test_weak_model_terms_are_not_shown_as_evidence():
    from classifiers.scorer import TERM_MIN_SHARE, strong_terms

    assert strong_terms([]) == []
    assert strong_terms([("wire transfer", 0.8), ("gift cards", 0.3), ("assistant", 0.05)]) == [
        ("wire transfer", 0.8), ("gift cards", 0.3)]
    edge = 0.8 * TERM_MIN_SHARE
    assert strong_terms([("a", 0.8), ("b", edge), ("c", edge - 1e-9)]) == [("a", 0.8), ("b", edge)]


def test_probe_posts_never_train_and_the_report_scores_them(scorer):
    """data/seed/probe_posts*.jsonl are evaluation sets only: none of its texts is a training row
    (normalised), and the report's figures are what the scorer gives them."""
    from classifiers.data import _norm
    from classifiers.evaluation import load_probe_posts, probe_figures
    from classifiers.training import build_datasets

    items = load_probe_posts()
    assert len({d["id"] for d in items}) == len(items)
    train = {_norm(r.description) for r in build_datasets(real_posts=False).posts}
    assert not train & {_norm(d["description"]) for d in items}
    fig = probe_figures(scorer)
    assert fig["n_bad"] + fig["n_honest"] == len(items) and fig["n_honest"] >= 10
    res = {r.id: r for r in scorer.score_posts([PostInput(id=d["id"], title=d["title"], description=d["description"])
                                                for d in items])}
    honest = [d["id"] for d in items if d["label"] == "legit"]
    assert fig["honest_flagged"] == sum(bool(res[i].flags) for i in honest) / len(honest)
    assert fig["by_label"]["legit"]["missed_ids"] == [i for i in honest if res[i].flags]
