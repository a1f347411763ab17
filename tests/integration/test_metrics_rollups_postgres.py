"""The rollups on the real PostgreSQL: the same equality tests as on SQLite (PostgreSQL's
upsert, its REPEATABLE READ recount), and two moderators deciding at once: the increments
of both land (atomic ``INSERT ... ON CONFLICT DO UPDATE``), none is lost."""
from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, SQLModel, select

from app.db import get_engine, make_engine
from app.services import flags, moderation, rollups
from models import Flag
from tests.unit.console_fixtures import db, make_client, make_post, staff  # noqa: F401
from tests.unit.test_metrics import dataset  # noqa: F401
from tests.unit.test_metrics_rollups import (_detection, _subject, kept,  # noqa: F401
                                             test_backlog_ages_at_odd_times_equal_the_raw_ones,
                                             test_a_rolled_back_write_adds_nothing,
                                             test_rebuild_equals_a_recount_and_is_idempotent,
                                             test_rollup_figures_equal_the_raw_ones,
                                             test_the_services_keep_the_counts_in_their_transaction,
                                             test_the_sweep_heals_a_missed_update)
from tests.helpers import make_app

pytestmark = pytest.mark.integration


@pytest.fixture
def app(pg_url):
    """The console fixtures' app, on a fresh PostgreSQL database."""
    app = make_app(pg_url)
    with app.app_context():
        SQLModel.metadata.create_all(get_engine())
    yield app
    with app.app_context():
        get_engine().dispose()


def test_two_moderators_deciding_at_once_lose_no_increment(app, db, staff):
    """Two threads, each deciding its own flags of the same reason in the same quarter of
    an hour (so they update the same rollup rows), released together, many times."""
    client = make_client(db)
    posts = [make_post(db, client) for _ in range(24)]
    db.commit()
    flags.upsert_open_flags(db, [(_subject(p), _detection()) for p in posts])
    db.commit()
    ids = [f.id for f in db.exec(select(Flag).order_by(Flag.id))]
    engine = make_engine(app.config["DATABASE_URL"])
    barrier = threading.Barrier(2)
    errors: list = []

    def work(mine, actor, action):
        with app.app_context(), Session(engine) as session:
            for flag_id in mine:
                barrier.wait()
                try:
                    if action == "dismiss":
                        moderation.dismiss(session, flag_id=flag_id, version=1, actor=actor)
                    else:
                        moderation.remove(session, flag_id=flag_id, version=1,
                                          reason_code="scam", actor=actor)
                except Exception as exc:  # noqa: BLE001  (reported below)
                    errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids[0::2], staff["moderator"], "dismiss")),
               threading.Thread(target=work, args=(ids[1::2], staff["moderator2"], "remove"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert errors == []
    counts = rollups.stored(db)
    assert sum(n for k, n in counts.items() if k[0] == rollups.CLOSED) == 24
    assert sum(n for k, n in counts.items() if k[0] == rollups.VERDICT) == 24
    assert sum(n for k, n in counts.items() if k[0] == rollups.DECISION) == 24
    kept(db)


def test_two_writers_and_a_rebuild_at_once(app, db, staff):
    """A rebuild while moderators decide: it locks the table, the writers wait and add
    their increments after it; the counts equal a recount."""
    client = make_client(db)
    posts = [make_post(db, client) for _ in range(6)]
    db.commit()
    flags.upsert_open_flags(db, [(_subject(p), _detection()) for p in posts])
    db.commit()
    ids = [f.id for f in db.exec(select(Flag).order_by(Flag.id))]
    engine = make_engine(app.config["DATABASE_URL"])
    barrier = threading.Barrier(2)

    def decide():
        with app.app_context(), Session(engine) as session:
            barrier.wait()
            for flag_id in ids:
                moderation.dismiss(session, flag_id=flag_id, version=1, actor=staff["moderator"])

    def rebuild():
        with app.app_context(), Session(engine) as session:
            barrier.wait()
            rollups.rebuild(session)

    threads = [threading.Thread(target=decide), threading.Thread(target=rebuild)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    kept(db)


def test_a_zone_postgresql_does_not_know_is_put_in_days_by_python(app, dataset, monkeypatch):
    """Python's time zone data may be newer than the server's: such a zone is mapped to
    local days in Python, with the same figures."""
    from app.services import metrics
    from tests.unit.test_metrics import filters

    f = filters("Asia/Kolkata")
    want = metrics.inbound(dataset, f)
    monkeypatch.setitem(metrics._PG_ZONES, "Asia/Kolkata", False)
    assert metrics.inbound(dataset, f) == want
