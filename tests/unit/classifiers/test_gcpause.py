"""score_posts holds the cyclic collector off (classifiers.gcpause): that is only safe while
scoring leaves no reference cycles behind, and the collector's state must come back as it was."""
from __future__ import annotations

import gc
import threading

from classifiers.gcpause import gc_paused


def _posts():
    from classifiers import PostInput
    from classifiers.data import load_seed_posts

    return [PostInput(id=r.id, title=r.title, description=r.description, category=r.posted_category)
            for r in load_seed_posts()[:600]]


def test_scoring_leaves_no_cycles_behind(scorer):
    posts = _posts()
    scorer.score_posts(posts)  # first use: regex and pattern caches fill (compiling may leave garbage)
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        results = scorer.score_posts(posts)
        assert any(r.evidence for r in results)
        del results
        assert gc.collect() == 0, "score_posts left reference cycles: pausing the collector would leak them"
    finally:
        if was:
            gc.enable()


def test_score_posts_restores_the_collector(scorer):
    posts = _posts()[:20]
    assert gc.isenabled()
    scorer.score_posts(posts)
    assert gc.isenabled()
    gc.disable()
    try:
        scorer.score_posts(posts)
        assert not gc.isenabled(), "a collector that was off must stay off"
    finally:
        gc.enable()


def test_nested_and_concurrent_pauses_switch_the_collector_back_on_once():
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()

    inside, release = threading.Event(), threading.Event()

    def other():
        with gc_paused():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    with gc_paused():
        t.start()
        inside.wait(5)
    assert not gc.isenabled(), "the other thread's pause is still running"
    release.set()
    t.join(5)
    assert gc.isenabled()


def test_the_collector_comes_back_on_after_an_error():
    try:
        with gc_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()
