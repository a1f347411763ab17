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


def test_five_of_last_six_negative_after_four_older_positives_is_flagged():
    # 10 feedbacks in the window: 4 older positives, then 5 of the last 6 negative (5 of 10 overall)
    r = client_negativity(pts([False] * 4 + [True, True, False, True, True, True]), NOW)
    assert r.flagged and r.n_considered == 6 and r.n_negative == 5
    assert "5 of the last 6" in r.why and "5 of the last 10 in all" in r.why
    assert {e.ref for e in r.evidence} == {"fb4", "fb5", "fb7", "fb8", "fb9"}


@pytest.mark.parametrize("pos", range(11))
def test_one_bad_review_among_ten_good_is_never_flagged(pos):
    flags = [False] * 11
    flags[pos] = True
    r = client_negativity(pts(flags), NOW)
    assert not r.flagged and r.n_negative <= 1 and r.score < 0.1


def test_short_window_needs_recent_feedback():
    # 5 of the last 6 negative, but only 3 of them within 180 days: too few for a pattern
    old = [FeedbackPoint(NOW - timedelta(days=300 + i), 0.95, 1, f"old{i}") for i in range(3)]
    r = client_negativity(old + pts([False, True, True], start_days_ago=30), NOW)
    assert not r.flagged and r.n_considered == 3
