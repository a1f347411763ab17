import numpy as np

from classifiers import PostInput
from classifiers.registry import EXPECTED_TYPES


def test_training_is_deterministic_on_a_subset(monkeypatch):
    from classifiers import post_training
    from classifiers.scorer import Scorer
    from classifiers.training import build_datasets, fit_all

    # same code path as a full training, on a small deterministic subset with smaller vocabularies
    monkeypatch.setattr(post_training, "WORD_MAX_FEATURES", 2000)
    monkeypatch.setattr(post_training, "CHAR_MAX_FEATURES", 2000)

    def run():
        # a small deterministic subset (every label kept): determinism does not need the full corpora
        ds = build_datasets(seed=7, limit=120, seed_every=3)
        bundles, metrics = fit_all(ds)
        for k in metrics:
            metrics[k]["version"] = f"{k}-test"
        return Scorer(bundles, metrics), metrics

    posts = [PostInput(id="a", title="Data entry", description="Earn $500 per week from home, contact us on Telegram @x_hr1"),
             PostInput(id="b", title="Logo", description="Need a logo for my bakery. Budget $50.", category="design_creative")]
    s1, m1 = run()
    s2, m2 = run()
    r1, r2 = s1.score_posts(posts), s2.score_posts(posts)
    assert [r.to_json() for r in r1] == [r.to_json() for r in r2]
    assert m1 == m2
    assert np.isclose(s1.score_feedback([]) or 0, 0)


class Smuggled:
    def __init__(self):
        self.payload = "not a model"


def test_registry_refuses_unexpected_types(tmp_path):
    import skops.io as sio
    import pytest

    from classifiers.registry import UntrustedModelError, load_bundle

    d = tmp_path / "scam" / "v1"
    d.mkdir(parents=True)
    sio.dump({"x": Smuggled()}, d / "model.skops")
    (d / "metrics.json").write_text("{}")
    assert set(sio.get_untrusted_types(file=d / "model.skops")) - EXPECTED_TYPES
    with pytest.raises(UntrustedModelError):
        load_bundle(tmp_path, "scam", "v1")


def test_threshold_rule_meets_precision_and_clears_every_short_honest_validation_post():
    from classifiers.modelling import threshold_rule

    p = np.array([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.55, 0.3])
    y = np.array([1, 1, 1, 0, 1, 0, 1, 0])
    t, notes = threshold_rule(p, y, 0.9)
    assert t == 0.85 and notes["binding"] == "validation_precision"
    t, notes = threshold_rule(p, y, 0.9, honest_scores=np.array([0.1, 0.88]))
    assert t == 0.9 and t > 0.88 and notes["binding"] == "short_honest_validation"
    t, _ = threshold_rule(p, y, 0.9, honest_scores=np.array([0.97]))  # above every validation score
    assert t > 0.97
    t, _ = threshold_rule(np.array([0.2, 0.1]), np.array([1, 0]), 0.9)
    assert t == 0.5  # never below "more likely than not"


def test_short_honest_validation_set_is_separate_from_the_test_set():
    from classifiers.data import load_short_honest, load_short_honest_validation

    val, test = load_short_honest_validation(), load_short_honest()
    assert len(val) >= 80
    assert all(len(d["title"]) + 2 + len(d["description"]) <= 250 for d in val)
    norm = lambda d: " ".join((d["title"] + " " + d["description"]).lower().split())  # noqa: E731
    assert not {norm(d) for d in val} & {norm(d) for d in test}
    assert not {d["id"] for d in val} & {d["id"] for d in test}


def test_shipped_thresholds_were_chosen_with_the_short_honest_constraint():
    import json

    from classifiers.registry import ARTIFACTS_DIR, read_active

    active = read_active(ARTIFACTS_DIR)
    for det in ("scam", "miscategorised"):
        m = json.loads((ARTIFACTS_DIR / det / active[det] / "metrics.json").read_text())
        op = m["operating_point"]
        assert op["max_short_honest_validation_score"] is not None and m["threshold"] > op["max_short_honest_validation_score"]
    m = json.loads((ARTIFACTS_DIR / "policy" / active["policy"] / "metrics.json").read_text())
    for t, op in m["operating_point"].items():
        assert m["thresholds"][t] > op["max_short_honest_validation_score"]


def test_smoothed_platt_is_finite_on_separable_scores_and_constant_without_positives():
    import numpy as np

    from classifiers.modelling import platt_apply
    from classifiers.policy import smoothed_platt_fit

    s = np.concatenate([np.linspace(-9, -3, 200), np.linspace(3, 9, 20)])
    y = np.concatenate([np.zeros(200), np.ones(20)])
    a, b = smoothed_platt_fit(s, y)
    assert 0 < a < 5 and platt_apply(np.array([9.0]), (a, b))[0] < 0.999  # hard 0/1 targets: slope runs away
    a, b = smoothed_platt_fit(s[:200], y[:200])
    assert a == 0.0 and np.allclose(platt_apply(s[:200], (a, b)), 1 / 202)


def test_policy_thresholds_are_chosen_out_of_fold():
    """Each type flags on a rule hit or on its calibrated model score >= a threshold chosen on the
    out-of-fold scores of every row, at the target precision; off_platform, the type with most
    rule-silent violations, has a model that flags on its own (a threshold below 0.99)."""
    import json

    from classifiers.registry import ARTIFACTS_DIR, read_active

    m = json.loads((ARTIFACTS_DIR / "policy" / read_active(ARTIFACTS_DIR)["policy"] / "metrics.json").read_text())
    for t, thr in m["thresholds"].items():
        assert m["model_min_threshold"] <= thr <= 1.0, (t, thr)
        cv = m["cv"][t]
        assert cv["n_pos"] > 0 and cv["cv_precision"] >= m["target_precision"], (t, cv)
    assert m["thresholds"]["off_platform"] < 0.99


def test_out_of_fold_groups_never_straddle_folds():
    from classifiers.data import PostRow
    from classifiers.post_training import N_SPLITS, strat_label
    from sklearn.model_selection import StratifiedGroupKFold

    rows = [PostRow(id=str(i), title="t", description="d", source="seed", group=f"g{i // 3}", scam=int(i % 7 == 0),
                    true_category=None) for i in range(120)]
    cv = StratifiedGroupKFold(n_splits=N_SPLITS, shuffle=True, random_state=3)
    fold = {}
    for k, (_, te) in enumerate(cv.split(np.zeros(len(rows)), [strat_label(r) for r in rows], [r.group for r in rows])):
        for i in te:
            assert fold.setdefault(rows[i].group, k) == k
