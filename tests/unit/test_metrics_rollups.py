"""The rollups (app/services/rollups.py): the dashboard's figures read from metrics_rollup
equal those computed from the raw rows (tests/metrics_oracle.py, the queries the page ran
before) on the fixed data set, in several time zones, with empty days, per reason; the
services' writes (flags, decisions, undo, bulk, follow-ups) keep the counts equal to a
recount in the same transaction; the sweep heals a missed update; ``flask metrics``."""
from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from datetime import timedelta
import pytest
from sqlmodel import select

from app.services import flags, metrics, moderation, rollups, sweep
from models import Decision, Flag, MetricsRollup, utcnow
from tests import metrics_oracle as oracle
from tests.unit.console_fixtures import (db, make_client, make_post, not_improved_after_contact,  # noqa: F401
                                         staff)
from tests.unit.test_metrics import NOW, dataset, filters  # noqa: F401

WINDOWS = [
    {}, {"tz": "America/New_York"}, {"tz": "Asia/Kolkata"}, {"tz": "Pacific/Chatham"},
    {"reason": "scam"}, {"reason": "policy", "tz": "Europe/Berlin"},
    {"reason": "miscategorised"}, {"date_from": "2026-02-20", "date_to": "2026-03-10"},
    {"date_from": "2026-01-01", "date_to": "2026-01-31"},  # before everything: empty days
    {"date_from": "2026-03-02", "date_to": "2026-03-02", "tz": "Asia/Kathmandu"},
]


def same_figures(session, f, now=NOW) -> None:
    """Every rollup-based figure equals the raw-row one (percentiles: see ``same_ttd``)."""
    assert metrics.inbound(session, f) == oracle.inbound(session, f)
    got, want = metrics.backlog(session, f, now=now), oracle.backlog(session, f, now=now)
    assert (got.trend, got.ages, got.over_sla) == (want.trend, want.ages, want.over_sla)
    assert metrics.precision(session, f) == oracle.precision(session, f)
    assert metrics.decisions_by_moderator(session, f) == oracle.decisions_by_moderator(session, f)
    assert metrics.automation(session, f) == oracle.automation(session, f)
    same_ttd(session, f)


def same_ttd(session, f) -> None:
    """Time to decision: the counts are equal; p50/p90 are the histogram of the raw hours
    read by ``metrics.quantile``, and the exact percentile lies within the buckets of the
    two values it is interpolated between."""
    raw = oracle.ttd_hours(session, f)
    exact = {q.reason: q for q in oracle.time_to_decision(session, f)}
    for q in metrics.time_to_decision(session, f):
        hours = raw.get(q.reason, [])
        assert q.n == len(hours) == exact[q.reason].n
        histogram = Counter(rollups.ttd_bucket(h * 3600) for h in hours)
        assert q.p50_hours == metrics.quantile(histogram, .5)
        assert q.p90_hours == metrics.quantile(histogram, .9)
        for share, estimate, truth in ((.5, q.p50_hours, exact[q.reason].p50_hours),
                                       (.9, q.p90_hours, exact[q.reason].p90_hours)):
            if not hours:
                assert estimate is None and truth is None
                continue
            rank = share * (len(hours) - 1)
            low = _bucket(hours[int(rank)])[0]
            high = _bucket(hours[min(int(rank) + 1, len(hours) - 1)])[1]
            assert low <= estimate <= high and low <= truth <= high


def _bucket(hours: float) -> tuple[float, float]:
    i = bisect_right(rollups.TTD_EDGES, hours * 60)
    edges = (0, *rollups.TTD_EDGES, float("inf"))
    return edges[i] / 60, edges[i + 1] / 60


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: ",".join(f"{k}={v}" for k, v in w.items()) or "default")
def test_rollup_figures_equal_the_raw_ones(dataset, window):
    same_figures(dataset, filters(**window))


def test_backlog_ages_at_odd_times_equal_the_raw_ones(db):
    """Many open flags of every age, read at instants off the quarter-hours: the cutoffs'
    own quarters are counted from the flags, the rest from the rollup; same as raw."""
    import random

    rng = random.Random(7)
    client = make_client(db)
    for i in range(120):
        post = make_post(db, client)
        reason = ("scam", "policy", "miscategorised")[i % 3]
        db.add(Flag(subject_type="post", subject_id=post.id, client_id=client.id,
                    post_id=post.id, reason=reason, score=.9,
                    created_at=NOW - timedelta(minutes=rng.randint(0, 6 * 24 * 60),
                                               seconds=rng.randint(0, 59))))
    db.commit()
    rollups.rebuild(db)
    for minutes in (0, 1, 7, 29, 61, 333, 1441):
        now = NOW + timedelta(minutes=minutes, seconds=minutes % 11)
        for window in ({}, {"reason": "policy"}):
            f = filters(**window)
            got, want = metrics.backlog(db, f, now=now), oracle.backlog(db, f, now=now)
            assert (got.ages, got.over_sla) == (want.ages, want.over_sla)


def test_rebuild_equals_a_recount_and_is_idempotent(dataset):
    first = rollups.stored(dataset)
    assert first == +rollups.recount(dataset)
    assert rollups.rebuild(dataset) == len(first)
    assert rollups.stored(dataset) == first
    assert rollups.difference(dataset) == {}


def test_quantile_of_a_histogram():
    assert metrics.quantile(Counter(), .5) is None
    # one value in [60, 90) min: the middle of the bucket
    assert metrics.quantile(Counter({rollups.ttd_bucket(3600): 1}), .5) == 75 / 60
    # beyond the last edge: its lower edge
    assert metrics.quantile(Counter({len(rollups.TTD_EDGES): 3}), .9) == rollups.TTD_EDGES[-1] / 60


# --- the writes keep the counts --------------------------------------------------------------

def _subject(post):
    return {"subject_type": "post", "subject_id": post.id, "client_id": post.client_id,
            "post_id": post.id}


def _detection(reason="scam", types=()):
    return flags.Detection(reason=reason, score=.9, model_version="v1", priority=50,
                           policy_types=list(types))


def kept(session) -> None:
    """The stored counts equal a recount from the raw rows, and the page's figures for
    today (UTC and Kathmandu, +5:45) equal the raw ones."""
    session.expire_all()
    assert rollups.stored(session) == +rollups.recount(session)
    now = utcnow()
    for tz in ("UTC", "Asia/Kathmandu"):
        f = metrics.MetricsFilters.from_args({"tz": tz})
        same_figures(session, f, now=now)


def _open(session, post, reason="scam") -> Flag:
    return session.exec(select(Flag).where(Flag.post_id == post.id, Flag.reason == reason,
                                           Flag.status == "open")).one()


def test_the_services_keep_the_counts_in_their_transaction(db, staff):
    m1, m2 = staff["moderator"], staff["moderator2"]
    client = make_client(db)
    posts = [make_post(db, client) for _ in range(7)]
    db.commit()
    # the scorer's upserts: new flags, then a refresh that changes the policy types
    flags.upsert_open_flags(db, [(_subject(p), _detection()) for p in posts[:4]])
    flags.upsert_open_flag(db, **_subject(posts[4]), detection=_detection("policy", ["off_platform"]))
    db.commit()
    kept(db)
    flags.upsert_open_flags(db, [(_subject(posts[4]), _detection("policy", ["unpaid_work"])),
                                 (_subject(posts[5]), _detection())])
    db.commit()
    kept(db)
    # decisions, an undo, a bulk dismissal, a note, a system dismissal
    f0, f1 = _open(db, posts[0]), _open(db, posts[1])
    d = moderation.dismiss(db, flag_id=f0.id, version=f0.version, actor=m1)
    moderation.remove(db, flag_id=f1.id, version=f1.version, reason_code="scam", actor=m2)
    kept(db)
    moderation.undo(db, decision_id=d.id, actor=m1)
    kept(db)
    policy = _open(db, posts[4], "policy")
    moderation.add_note(db, text="looked at it", actor=m2, flag_id=policy.id)
    kept(db)
    f0, f2 = _open(db, posts[0]), _open(db, posts[2])
    moderation.bulk(db, action="dismiss", items=[(f0.id, f0.version), (f2.id, f2.version)],
                    actor=m2)
    kept(db)
    f3 = _open(db, posts[3])
    assert flags.clear_below_threshold(db, f3, score=.1, model_version="v2") == "dismissed"
    db.commit()
    kept(db)
    # a client contacted, not improved (the case reopens), then suspended
    bad = make_client(db)
    db.commit()
    not_improved_after_contact(db, bad, m1)
    kept(db)
    case = db.exec(select(Flag).where(Flag.client_id == bad.id, Flag.status == "open")).one()
    moderation.suspend(db, client_id=bad.id, client_version=moderation.client_token(bad),
                       reason="still late", actor=m1, flag_id=case.id, flag_version=case.version)
    kept(db)
    assert db.exec(select(Decision)).all()  # (the scenario did decide)


def test_a_rolled_back_write_adds_nothing(db, staff):
    client = make_client(db)
    post = make_post(db, client)
    db.commit()
    flags.upsert_open_flag(db, **_subject(post), detection=_detection())
    db.rollback()
    flags.upsert_open_flag(db, **_subject(post), detection=_detection())
    db.commit()
    assert sum(rollups.stored(db).values()) == 2  # one flag: inbound, and open
    kept(db)


def test_the_sweep_heals_a_missed_update(app, db, staff):
    client = make_client(db)
    post = make_post(db, client)
    db.commit()
    flag_id = flags.upsert_open_flag(db, **_subject(post), detection=_detection())
    db.commit()
    # a decision written behind the services' back, and a count gone wrong
    db.add(Decision(flag_id=flag_id, subject_type="post", subject_id=post.id,
                    client_id=client.id, post_id=post.id, moderator_id=staff["moderator"].moderator_id,
                    action="note"))
    key = next(iter(rollups.stored(db)))
    rollups.add(db, {key: 5})
    db.commit()
    assert len(rollups.difference(db)) == 2
    with app.app_context():
        report = sweep.run(db, force_reconcile=True)
        assert report["rollups_repaired"] == 2
        assert "rollups_repaired" not in sweep.run(db)  # not again within the hour
    assert rollups.difference(db) == {}
    kept(db)


def test_flask_metrics_check_and_rebuild(app, runner, db, staff):
    client = make_client(db)
    post = make_post(db, client)
    db.commit()
    flags.upsert_open_flag(db, **_subject(post), detection=_detection())
    db.commit()
    assert runner.invoke(args=["metrics", "check"]).exit_code == 0
    assert len(db.exec(select(MetricsRollup)).all()) == 2  # inbound, open
    db.execute(MetricsRollup.__table__.delete())
    db.commit()
    r = runner.invoke(args=["metrics", "check"])
    assert r.exit_code == 1 and "2 counts differ" in r.output
    r = runner.invoke(args=["metrics", "rebuild"])
    assert r.exit_code == 0 and "rebuilt 2 counts" in r.output
    assert runner.invoke(args=["metrics", "check"]).exit_code == 0


def test_empty_rollups_give_zeros(db):
    f = filters()
    assert all(v == [0, 0, 0, 0] for v in metrics.inbound(db, f).lines.values())
    assert metrics.backlog(db, f, now=NOW).trend.lines["open at end of day"] == [0, 0, 0, 0]
    assert [q.n for q in metrics.time_to_decision(db, f)] == [0] * len(metrics.REASONS)


def test_wilson_and_kappa_equal_scipy_and_sklearn():
    """The closed forms the page uses (no scipy/sklearn import in a request) give what the
    libraries give."""
    import random

    from scipy.stats import binomtest
    from sklearn.metrics import cohen_kappa_score

    from app.services import qa

    for n in (1, 2, 3, 10, 57, 1000):
        for k in sorted({0, 1, n // 2, n}):
            ci = binomtest(k, n).proportion_ci(confidence_level=.95, method="wilson")
            assert metrics.wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    labels = ["remove", "not_violation", "contact", "suspend"]
    rng = random.Random(25)
    for _ in range(200):
        m = rng.randint(2, 40)
        a = [rng.choice(labels[:rng.randint(1, 4)]) for _ in range(m)]
        b = [rng.choice(labels[:rng.randint(1, 4)]) for _ in range(m)]
        if len(set(a) | set(b)) > 1:
            assert qa.kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
