from datetime import datetime, timedelta, timezone

import pytest

from classifiers.client_negativity import MIN_COUNT, FeedbackPoint, client_negativity

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


def pts(flags, start_days_ago=100):
    """flags oldest -> newest; True = negative."""
    return [FeedbackPoint(created_at=NOW - timedelta(days=start_days_ago - i), negative=0.95 if f else 0.05,
                          rating=1 if f else 5, ref=f"fb{i}") for i, f in enumerate(flags)]


def test_one_bad_review_in_eleven_is_not_flagged():
    r = client_negativity(pts([True] + [False] * 10), NOW)
    assert not r.flagged and r.n_negative <= 1


def test_one_bad_review_most_recent_is_not_flagged():
    r = client_negativity(pts([False] * 10 + [True]), NOW)
    assert not r.flagged


def test_five_of_last_six_negative_is_flagged():
    r = client_negativity(pts([False, True, True, True, True, True]), NOW)
    assert r.flagged and r.n_negative == 5 and r.n_considered == 6
    assert {e.ref for e in r.evidence} == {"fb1", "fb2", "fb3", "fb4", "fb5"}
    assert all(e.why for e in r.evidence)


def test_minimum_count():
    r = client_negativity(pts([True] * (MIN_COUNT - 1)), NOW)
    assert not r.flagged and "at least" in r.why


def test_old_feedback_outside_window_ignored():
    old = [FeedbackPoint(NOW - timedelta(days=400 + i), 0.99, 1, f"old{i}") for i in range(8)]
    r = client_negativity(old + pts([False] * 3), NOW)
    assert r.n_considered == 3 and not r.flagged


def test_naive_datetime_rejected():
    with pytest.raises(ValueError):
        client_negativity([FeedbackPoint(datetime(2024, 1, 1), 0.5)], NOW)
