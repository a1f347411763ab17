"""modelling.StackedLinear gives scikit-learn's decision_function values bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from classifiers.modelling import StackedLinear, hstack


def _random_csr(rng, n, m, density=0.05):
    return sp.random(n, m, density=density, format="csr", dtype=np.float32, random_state=rng)


def test_equals_sklearn_on_mixed_dtypes_classes_and_extra_columns():
    rng = np.random.default_rng(3)
    n_text, n_extra = 300, 4
    X_fit = _random_csr(rng, 400, n_text, 0.08)
    E_fit = (rng.random((400, n_extra)) < 0.3).astype(np.float32) * 0.5
    y2, y5 = rng.integers(0, 2, 400), rng.integers(0, 5, 400)
    binary64 = LogisticRegression(max_iter=500).fit(X_fit.astype(np.float64), y2)  # float64 coefficients
    multi32 = LogisticRegression(max_iter=500).fit(X_fit, y5)  # float32
    with_extras = [LogisticRegression(C=c, max_iter=500).fit(hstack([X_fit, E_fit]), y2) for c in (0.3, 1.0, 3.0)]
    assert binary64.coef_.dtype == np.float64 and multi32.coef_.dtype == np.float32
    models = [binary64, multi32, *with_extras]
    stacked = StackedLinear(models, n_text)

    X = _random_csr(rng, 257, n_text, 0.1)
    E = (rng.random((257, n_extra)) < 0.25).astype(np.float32) * 0.5
    got = stacked.decisions(X, [None, None, E, E, np.zeros_like(E)])
    ref = [binary64.decision_function(X), multi32.decision_function(X),
           *(m.decision_function(hstack([X, e])) for m, e in zip(with_extras, (E, E, np.zeros_like(E))))]
    for g, r in zip(got, ref):
        assert g.dtype == r.dtype and g.shape == r.shape and g.flags.c_contiguous
        assert np.array_equal(g, r)


def test_equals_sklearn_for_the_shipped_models(scorer):
    from classifiers import PostInput
    from classifiers import scam as scam_mod
    from classifiers.data import load_seed_posts
    from classifiers.policy_rules import POLICY_TYPES
    from classifiers.post_training import Dense, cat_extras, policy_extras, scam_extras

    rows = load_seed_posts()[:700]
    posts = [PostInput(id=r.id, title=r.title, description=r.description) for r in rows]
    X = scorer.vectorise(posts)
    rng = np.random.default_rng(5)
    D = Dense([f"{r.title}\n\n{r.description}" for r in rows])
    D.R = (rng.random((len(posts), len(POLICY_TYPES))) < 0.2).astype(np.float32)
    D.F = (rng.random((len(posts), len(scam_mod.CUE_NAMES))) < 0.1).astype(np.float32)
    b = scorer._b
    got = scorer._linear.decisions(X, scorer._extras(D.R, D.S, D.F))
    ref = [b["scam"]["lr"].decision_function(hstack([X, scam_extras(D)])),
           b["miscategorised"]["lr"].decision_function(hstack([X, cat_extras(D)])),
           b["miscategorised"]["role_lr"].decision_function(hstack([X, cat_extras(D)])),
           *(b["policy"]["lr"][t].decision_function(hstack([X, policy_extras(D)])) for t in POLICY_TYPES)]
    for g, r in zip(got, ref):
        assert g.dtype == r.dtype and np.array_equal(g, r)


def test_refuses_unsorted_rows():
    m = LogisticRegression().fit(np.eye(4), [0, 1, 0, 1])
    X = sp.csr_matrix((np.ones(2, dtype=np.float32), [3, 1], [0, 2]), shape=(1, 4))
    X.has_sorted_indices = False
    with pytest.raises(ValueError):
        StackedLinear([m], 4).decisions(X, [None])
