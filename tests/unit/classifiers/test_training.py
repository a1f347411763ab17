import numpy as np

from classifiers import PostInput
from classifiers.registry import EXPECTED_TYPES


def test_training_is_deterministic_on_a_subset():
    from classifiers.scorer import Scorer
    from classifiers.training import build_datasets, fit_all

    def run():
        ds = build_datasets(seed=7, limit=120)
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
