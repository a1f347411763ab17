"""The dashboard's aggregates and reviewer QA on the real PostgreSQL: the same hand-computed
data set as the unit tests (PostgreSQL buckets the days with its own expression), and QA's
concurrent paths with two sessions at the same time."""
from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, SQLModel, select

from app.db import get_engine, make_engine
from app.services import Conflict, qa
from models import QaReview
from tests.helpers import make_app
from tests.unit.console_fixtures import db, staff  # noqa: F401
from tests.unit.test_metrics import (dataset, test_backlog_ages_sla_and_trend,  # noqa: F401
                                     test_decisions_per_moderator_and_automation,
                                     test_inbound_per_local_day_with_empty_days,
                                     test_outcomes_after_contact,
                                     test_precision_with_wilson_interval,
                                     test_time_to_decision_quantiles)
from tests.unit.test_qa import decided

pytestmark = pytest.mark.integration


@pytest.fixture
def app(pg_url):
    """The console fixtures' app, on a fresh PostgreSQL database."""
    app = make_app(pg_url, QA_SAMPLE_SHARE=1.0)
    with app.app_context():
        SQLModel.metadata.create_all(get_engine())
    yield app
    with app.app_context():
        get_engine().dispose()


def _together(app, work, n=2):
    """Run ``work(session)`` in ``n`` threads, each with its own session, released together."""
    engine = make_engine(app.config["DATABASE_URL"])
    barrier = threading.Barrier(n)
    results: list = []

    def run():
        with app.app_context(), Session(engine) as session:
            barrier.wait()
            try:
                results.append(work(session))
            except Conflict as exc:
                results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    return results


def test_two_samplers_at_once_sample_each_decision_once(app, db, staff):
    with app.app_context():
        qa.sample_new(db)  # the scan row exists: its insert no longer makes them queue up
    db.commit()
    decided(db, staff["moderator"], n=400)

    def sample(session):
        n = qa.sample_new(session)
        session.commit()
        return n

    counts = _together(app, sample)
    assert sorted(counts) == [0, 400]  # the second waited for the first, then found nothing
    assert len(db.exec(select(QaReview)).all()) == 400


def test_two_reviewers_of_one_case_at_once(app, db, staff):
    decided(db, staff["moderator"])
    with app.app_context():
        case = qa.next_case(db, actor=staff["moderator2"])
    reviewers = iter([staff["moderator2"], staff["admin"]])
    lock = threading.Lock()

    def review(session):
        with lock:
            who = next(reviewers)
        return qa.submit(session, review_id=case.review_id, label="remove", actor=who)

    results = _together(app, review)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "QaReview"]
    db.expire_all()
    assert db.get(QaReview, case.review_id).status == "agreed"
