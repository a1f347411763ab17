"""The queue's search on PostgreSQL: the same matches as on SQLite, and a query the
trigram indexes of migration 0004 can serve."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.db import session_scope
from app.services import queue as q
from models import Client, Flag, JobPost, utcnow
from tests.helpers import make_app

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TRIGRAM_INDEXES = {"ix_job_post_title_trgm", "ix_job_post_description_trgm",
                   "ix_client_name_trgm"}


def _upgrade(url: str) -> None:
    result = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": url}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _flag(session, client: Client, post: JobPost | None = None, reason: str = "scam") -> Flag:
    flag = Flag(subject_type="post" if post else "client",
                subject_id=post.id if post else client.id, client_id=client.id,
                post_id=post.id if post else None, reason=reason, score=0.9, priority=50.0)
    session.add(flag)
    session.flush()
    return flag


def test_search_on_postgresql_matches_like_sqlite_and_can_use_trigram_indexes(pg_url):
    _upgrade(pg_url)
    app = make_app(pg_url)
    with app.app_context(), session_scope() as s:
        names = {r[0] for r in s.execute(sa.text(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm'"))}
        assert names == TRIGRAM_INDEXES
        acme = Client(external_id="c1", name="ACME Widgets Ltd")
        plain = Client(external_id="c2", name="Plain Client")
        s.add_all([acme, plain])
        s.flush()

        def post(client, n, title="Logo", description="A logo, please."):
            p = JobPost(external_id=f"p{n}", client_id=client.id, title=title,
                        description=description, category="design_creative",
                        content_hash=f"h{n}", posted_at=utcnow())
            s.add(p)
            s.flush()
            return p
        by_title = _flag(s, plain, post(plain, 1, title="Telegram-only Crypto job"))
        by_text = _flag(s, plain, post(plain, 2, description="Write to me on TeleGram"))
        by_client = _flag(s, acme, post(acme, 3))
        client_flag = _flag(s, acme, reason="negative_client")
        _flag(s, plain, post(plain, 4, title="Nothing here"))
        s.commit()

        def ids(**f):
            return {r.flag.id for r in q.page(s, filters=q.Filters(**f), moderator_id=None,
                                              limit=50).rows}
        for _ in range(7):  # past psycopg's prepare threshold: still each term's own plan
            assert ids(q="TELEGRAM") == {by_title.id, by_text.id}
            assert ids(q="acme widgets") == {by_client.id, client_flag.id}
            assert ids(q="zzqx") == set()
        assert ids(q="Acme", reason="negative_client") == {client_flag.id}
        assert ids(q="100%") == set()

        # the predicates the search uses are the trigram indexes' expressions
        s.execute(sa.text("SET LOCAL enable_seqscan = off"))
        pattern = q._like("telegram")
        for stmt, wanted in (
                (select(JobPost.id).where(q.post_matches(pattern)),
                 {"ix_job_post_title_trgm", "ix_job_post_description_trgm"}),
                (select(Client.id).where(q.client_matches(pattern)), {"ix_client_name_trgm"})):
            compiled = stmt.compile(dialect=s.get_bind().dialect)
            plan = "\n".join(r[0] for r in s.connection().exec_driver_sql(
                "EXPLAIN " + str(compiled), compiled.params))
            assert all(name in plan for name in wanted), plan
    from app.db import get_engine
    with app.app_context():
        get_engine().dispose()


def test_keyset_pages_on_postgresql_visit_each_flag_once_with_and_without_search(pg_url):
    """The cursor is a row comparison, (queue_key, id) < (k, id); ties on the key too."""
    from datetime import timedelta

    _upgrade(pg_url)
    app = make_app(pg_url)
    with app.app_context(), session_scope() as s:
        acme = Client(external_id="c1", name="Acme")
        s.add(acme)
        s.flush()
        now = utcnow()
        made = []
        for i in range(23):
            p = JobPost(external_id=f"p{i}", client_id=acme.id, title=f"Post {i}",
                        description="telegram" if i % 2 else "plain", content_hash=f"h{i}",
                        posted_at=now)
            s.add(p)
            s.flush()
            flag = _flag(s, acme, p)
            flag.priority = float(i % 2)  # pairs with equal keys: 0 and 2, 1 and 3, ...
            flag.created_at = now - timedelta(minutes=i // 4)
            made.append(flag)
        s.commit()
        made = sorted(made, key=lambda f: (f.queue_key, f.id), reverse=True)
        assert len({f.queue_key for f in made}) < len(made)  # there are ties

        def walk(**f):
            seen, cursor = [], None
            while True:
                p = q.page(s, filters=q.Filters(**f), moderator_id=None, limit=5, cursor=cursor)
                seen += [r.flag.id for r in p.rows]
                cursor = p.next_cursor
                if not cursor:
                    return seen
        assert walk() == [f.id for f in made]
        assert walk(q="TELEGRAM") == [f.id for f in made if f.post_id and
                                      s.get(JobPost, f.post_id).description == "telegram"]
        assert walk(q="acme") == [f.id for f in made]
    from app.db import get_engine
    with app.app_context():
        get_engine().dispose()
