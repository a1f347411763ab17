"""The queue's search on PostgreSQL: the same matches as on SQLite, and a query the
trigram index over the open flags' search text (``flag_search``, migration 0022) can
serve."""
from __future__ import annotations


import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.db import session_scope
from app.services import queue as q
from models import Client, Flag, FlagSearch, JobPost, utcnow

pytestmark = pytest.mark.integration
TRIGRAM_INDEXES = {"ix_flag_search_text_trgm"}


def _client(session, name: str) -> Client:
    client = Client(external_id=f"c-{name}", name=name)
    session.add(client)
    session.flush()
    return client


def _flag(session, client: Client, post: JobPost | None = None, reason: str = "scam") -> Flag:
    flag = Flag(subject_type="post" if post else "client",
                subject_id=post.id if post else client.id, client_id=client.id,
                post_id=post.id if post else None, reason=reason, score=0.9, priority=50.0)
    session.add(flag)
    session.flush()
    return flag


def test_search_on_postgresql_matches_like_sqlite_and_can_use_trigram_indexes(migrated_app):
    with migrated_app.app_context(), session_scope() as s:
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

        # the predicate the search uses is the trigram index's
        s.execute(sa.text("SET LOCAL enable_seqscan = off"))
        stmt = select(FlagSearch.flag_id).where(q._search_match())
        compiled = stmt.compile(dialect=s.get_bind().dialect)
        plan = "\n".join(r[0] for r in s.connection().exec_driver_sql(
            "EXPLAIN " + str(compiled), {"f_like": q._like("telegram")}))
        assert "ix_flag_search_text_trgm" in plan, plan


def test_search_text_follows_posts_clients_and_flags_on_postgresql(migrated_app):
    """The triggers of migration 0022 on PostgreSQL: a flag's text from its post and
    client, rewritten when either changes, gone when the flag closes, back when it
    reopens."""
    us = "\x1f"
    with migrated_app.app_context(), session_scope() as s:
        acme = _client(s, "Acme")
        post = JobPost(external_id="p1", client_id=acme.id, title="Old", description="Text",
                       content_hash="h1", posted_at=utcnow())
        s.add(post)
        s.flush()
        flag, client_flag = _flag(s, acme, post), _flag(s, acme, reason="negative_client")
        s.commit()

        def text(f: Flag) -> str | None:
            return s.execute(select(FlagSearch.text).where(FlagSearch.flag_id == f.id)) \
                .scalar_one_or_none()
        assert text(flag) == f"old{us}text{us}acme" and text(client_flag) == f"{us}{us}acme"
        post.title = "New TITLE"
        s.commit()
        assert text(flag) == f"new title{us}text{us}acme"
        acme.name = "Renamed"
        s.commit()
        assert text(flag) == f"new title{us}text{us}renamed"
        assert text(client_flag) == f"{us}{us}renamed"
        flag.status = "dismissed"
        s.commit()
        assert text(flag) is None
        flag.status = "open"
        s.commit()
        assert text(flag) == f"new title{us}text{us}renamed"


def test_keyset_pages_on_postgresql_visit_each_flag_once_with_and_without_search(migrated_app):
    """The cursor is a row comparison, (queue_key, id) < (k, id); ties on the key too."""
    from datetime import timedelta

    with migrated_app.app_context(), session_scope() as s:
        acme = _client(s, "Acme")
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


def _generic_plan(session, stmt, params: dict | None = None) -> str:
    """The plan PostgreSQL uses for ``stmt`` once it is a prepared statement on its generic
    plan (psycopg prepares a statement run 5 times; PostgreSQL then stops planning per
    execution if the generic plan is as cheap): PREPARE it with $n parameters and EXPLAIN
    EXECUTE it under ``plan_cache_mode = force_generic_plan``."""
    import re

    from psycopg import sql

    compiled = stmt.compile(dialect=session.get_bind().dialect)
    values = compiled.construct_params(params or {})
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"
    # the driver's format escapes a literal % as %%: PREPARE takes the SQL as it is
    text = re.sub(r"%\((\w+)\)s", number, str(compiled)).replace("%%", "%")
    raw = session.connection().connection.dbapi_connection
    with raw.cursor() as cur:
        cur.execute("DEALLOCATE ALL")
        cur.execute(f"PREPARE queue_stmt AS {text}")
        cur.execute("SET plan_cache_mode = force_generic_plan")
        args = sql.SQL(", ").join(sql.Literal(values[n]) for n in names)
        cur.execute(sql.SQL("EXPLAIN EXECUTE queue_stmt{}").format(
            sql.SQL("({})").format(args) if names else sql.SQL("")))
        plan = "\n".join(r[0] for r in cur.fetchall())
        cur.execute("RESET plan_cache_mode")
        cur.execute("DEALLOCATE queue_stmt")
    return plan


def test_queue_statements_use_the_partial_indexes_on_their_generic_plans(migrated_app):
    """``flag.status = 'open'`` is literal in the SQL (q.IS_OPEN) and so is the LIMIT:
    with either as a bound parameter, a generic plan cannot use the partial indexes and
    PostgreSQL planned every execution of the list query afresh (a custom plan). The same
    for the escalation check's ``action = 'escalate'``: bound, the generic plan scanned
    every decision ever taken, per request."""
    with migrated_app.app_context(), session_scope() as s:
        acme = _client(s, "Acme")
        _flag(s, acme, reason="negative_client")
        s.commit()
        s.execute(sa.text("SET enable_seqscan = off"))
        now = utcnow()
        for filters, index in ((q.Filters(reason="scam"), "ix_flag_open_reason_queue"),
                               (q.Filters(), "ix_flag_open_queue")):
            stmt = q._statement(q._Shape.of(filters, None), 51)
            plan = _generic_plan(s, stmt, q._params(filters, moderator_id=None, now=now,
                                                    after=None))
            assert index in plan and "Sort" not in plan, plan
            # the escalation badge: the live escalations' partial index (migration 0006),
            # which needs the action literal in the SQL too (moderation.live_escalation)
            assert "ix_decision_live_escalation" in plan, plan
        counts = select(Flag.reason, sa.func.count()).where(q.IS_OPEN).group_by(Flag.reason)
        assert "ix_flag_open_reason_queue" in _generic_plan(s, counts)
        # and the queue's own statement does get generic plans once psycopg prepares it
        for _ in range(12):
            q.page(s, filters=q.Filters(reason="scam"), moderator_id=None, limit=50,
                   with_counts=False)
        generic = s.execute(sa.text(
            "SELECT generic_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT flag.id, flag.subject_type%'")).scalars().all()
        assert generic and max(generic) > 0


def _logged_in_with_a_flag(migrated_app, client_name: str):
    """A moderator's test client, logged in, and one open negative_client flag on ``client_name``."""
    from app.services import users
    from app.services.audit import CLI
    from tests.helpers import PASSWORD, login

    with migrated_app.app_context(), session_scope() as s:
        users.create_moderator(s, email="m@example.com", password=PASSWORD, role="moderator",
                               actor=CLI)
        _flag(s, _client(s, client_name), reason="negative_client")
        s.commit()
    client = migrated_app.test_client()
    assert login(client, "m@example.com").status_code == 303
    return client


def test_the_queue_query_stays_prepared_across_read_only_requests(migrated_app):
    """A read-only request ends with a commit, not a rollback (app.db): psycopg forgets
    its prepared statements on rollback, and the queue's list query was then parsed and
    planned on every request. Here its plan is reused across requests."""
    client = _logged_in_with_a_flag(migrated_app, "Acme")
    for _ in range(12):
        assert client.get("/queue/?reason=negative_client").status_code == 200
    from app.db import get_engine
    with migrated_app.app_context(), get_engine().connect() as conn:  # the pool's one connection
        plans = conn.execute(sa.text(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT flag.id, flag.subject_type%'")).scalars().all()
    assert plans and max(plans) >= 5


def test_search_requests_plan_their_ids_per_term_and_prepare_their_rows(migrated_app):
    """A search reads its page's ids by statements never prepared (so each is planned for
    its own term), then the rows of those ids by one statement the same for every term,
    which psycopg prepares like the queue's own (no planning per request)."""
    from app.db import get_engine

    client = _logged_in_with_a_flag(migrated_app, "Acme Telegram Ltd")
    for term in ["telegram"] * 6 + ["acme"] * 6:
        r = client.get(f"/queue/?q={term}")
        assert r.status_code == 200 and "Acme Telegram Ltd" in r.text
    with migrated_app.app_context(), get_engine().connect() as conn:
        prepared = conn.execute(sa.text(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")).all()
    rows = [n for statement, n in prepared
            if statement.startswith("SELECT flag.id, flag.subject_type") and "ANY" in statement]
    assert rows and max(rows) >= 5
    assert not [statement for statement, _n in prepared if "flag_search.text LIKE" in statement]


def test_every_filter_and_search_lists_what_the_reference_lists_on_postgresql(
        migrated_app, monkeypatch):
    """The same reference as on SQLite (tests/unit/test_queue_flagged_posts.py), on a
    migrated database: the search text's triggers and trigram index (0022), the policy
    and claimed filters' indexes; each search planned for its term, served from the head
    of the queue (``SEARCH_WALK`` 2000) or from the matches (3: nearly every page)."""
    from tests.support import queue_reference

    with migrated_app.app_context(), session_scope() as s:
        moderators = queue_reference.build(s, posts=120)
        s.execute(sa.text("ANALYZE"))
        for walk in (2000, 3, 2000):  # the last time past psycopg's prepare threshold
            monkeypatch.setattr(q, "SEARCH_WALK", walk)
            queue_reference.check_all(s, moderators)


def test_the_counts_beside_a_policy_filter_read_each_reasons_flags_of_the_type(migrated_app):
    """Each reason's capped count under ``policy=<type>`` reads that reason's open flags of
    the type (``ix_flag_open_policy_<type>_reason``, migration 0022): the reasons that have
    none end at once instead of walking every open flag of the type."""
    from tests.support import queue_reference

    with migrated_app.app_context(), session_scope() as s:
        queue_reference.build(s, posts=120)
        s.execute(sa.text("ANALYZE flag"))
        s.execute(sa.text("SET enable_seqscan = off"))
        for policy in queue_reference.POLICY_TYPES:
            filters = q.Filters(policy=policy)
            plan = _generic_plan(s, q._filtered_sample(q._Shape.of(filters, None)),
                                 q._params(filters, moderator_id=None, now=utcnow(), after=None))
            assert plan.count(f"ix_flag_open_policy_{policy}_reason") == 4, plan
            page = q.page(s, filters=filters, moderator_id=None, limit=5)
            assert set(page.counts) == {"scam", "miscategorised", "policy", "negative_client"}
            assert page.counts["policy"] == len(queue_reference.expected(
                s, q.Filters(policy=policy, reason="policy"), moderator_id=None))
            assert page.counts["scam"] == page.counts["negative_client"] == 0
