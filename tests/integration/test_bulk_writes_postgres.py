"""The scoring path's set-based writes on PostgreSQL (services.bulk: the rows as one JSON
parameter, one statement): the same rows as the executemany they replace, the same
guards, the same conflict handling."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import select

from app.db import session_scope
from app.services import bulk, ingest, scoring
from app.services import flags as flag_service
from app.services.flags import Detection
from models import Client, Feedback, Flag, JobPost, utcnow
from models.marketplace import JOB_POST_FILLFACTOR
from tests.support import factories as f

pytestmark = pytest.mark.integration


def _flags(s) -> list[dict]:
    return [{k: v for k, v in row._mapping.items() if k != "id"} for row in
            s.execute(sa.select(Flag.__table__).order_by(Flag.subject_id, Flag.reason))]


def _detections(posts, score: float) -> list:
    out = []
    for i, post in enumerate(posts):
        subject = {"subject_type": "post", "subject_id": post.id, "client_id": post.client_id,
                   "post_id": post.id}
        out.append((subject, Detection(
            reason="scam", score=score, model_version="scam-1", priority=80.0 * score,
            evidence=[{"text": f'"quoted" <b>{i}</b> ünïcode', "start": 0, "end": 3,
                       "nested": {"weights": [0.1, 1e-12, 3.0]}}])))
        if i % 2:
            out.append((subject, Detection(reason="policy", score=0.7, model_version="policy-1",
                                           policy_types=["off_platform", "fees"],
                                           suggested_category=None, priority=52.5)))
    return out


def test_flag_upsert_in_one_statement_writes_what_the_executemany_wrote(migrated_app, monkeypatch):
    with migrated_app.app_context(), session_scope() as s:
        client = f.client(s)
        posts = [f.post(s, client, f"p{i}", "Data entry", f"Post {i}") for i in range(6)]
        assert bulk.set_based(s)
        flag_service.upsert_open_flags(s, _detections(posts, 0.9))
        one_statement = _flags(s)
        s.rollback()
        monkeypatch.setattr(bulk, "set_based", lambda _s: False)
        flag_service.upsert_open_flags(s, _detections(posts, 0.9))
        executemany = _flags(s)
        s.rollback()
    assert len(one_statement) == 9
    created = {(r["created_at"], r["updated_at"]) for r in one_statement + executemany}
    strip = lambda rows: [{k: v for k, v in r.items()  # noqa: E731
                           if k not in ("created_at", "updated_at", "queue_key")} for r in rows]
    assert strip(one_statement) == strip(executemany)
    assert len(created) == 2  # one "now" per call


def test_flag_upsert_in_one_statement_refreshes_open_flags(migrated_app):
    with migrated_app.app_context(), session_scope() as s:
        client = f.client(s)
        posts = [f.post(s, client, f"p{i}", "Data entry", f"Post {i}") for i in range(3)]
        flag_service.upsert_open_flags(s, _detections(posts, 0.9))
        s.commit()
        top = s.exec(select(Flag).where(Flag.post_id == posts[0].id)).one()
        top.priority, top.queue_key = 1000.0, top.queue_key + 1000.0 - top.priority
        s.commit()
        ids = {(r.subject_id, r.reason): r.id for r in s.exec(select(Flag))}
        again = _detections(posts, 0.6)
        again.append(again[0])  # the same subject twice in one set: one update, not an error
        flag_service.upsert_open_flags(s, again)
        s.commit()
        s.expire_all()
        rows = s.exec(select(Flag)).all()
        assert {(r.subject_id, r.reason): r.id for r in rows} == ids
        scam = {r.post_id: r for r in rows if r.reason == "scam"}
        assert all(r.score == 0.6 and r.version == 2 for r in scam.values())
        assert scam[posts[0].id].priority == 1000.0  # suspend recommended stays on top
        assert scam[posts[1].id].priority == pytest.approx(48.0)


def test_scores_are_written_in_one_statement_and_stale_rows_are_left(migrated_app, monkeypatch):
    """Three posts scored in one job: one edited and one whose client lost its verification
    while the job scored them are left for their own jobs; the third is written."""
    with migrated_app.app_context(), session_scope() as s:
        steady, moving = f.client(s, "c1", payment_verified=True), f.client(s, "c2",
                                                                       payment_verified=True)
        kept = f.post(s, steady, "p1", *f.SCAM)
        edited = f.post(s, steady, "p2", *f.OFF_PLATFORM)
        refacted = f.post(s, moving, "p3", *f.HONEST)
        monkeypatch.setattr("app.jobs.enqueue.dispatch", lambda spec: "recorded")
        real = scoring.get_scorer()

        class Interrupted:
            versions = real.versions

            def score_posts(self, inputs):
                with session_scope() as other:
                    other.get(JobPost, edited.id).content_hash = "0" * 64
                    other.commit()
                    ingest.upsert_client(other, external_id="c2", fields={
                        "name": moving.name, "joined_at": moving.joined_at,
                        "payment_verified": False})
                return real.score_posts(inputs)

        monkeypatch.setattr(scoring, "get_scorer", lambda: Interrupted())
        stats = scoring.score_posts(s, [kept.id, edited.id, refacted.id])
        assert stats["scored"] == 1 and stats["skipped"] == 2
        s.expire_all()
        written = s.get(JobPost, kept.id)
        [expected] = real.score_posts([scoring.PostInput(
            id=str(kept.id), title=kept.title, description=kept.description,
            category=kept.category, client_payment_verified=True,
            client_account_age_days=(utcnow() - steady.joined_at).days)])
        assert written.scores == {**expected.scores, "policy_types": expected.policy_types,
                                  "predicted_category": expected.predicted_category}
        assert written.scored_at > utcnow() - timedelta(minutes=1) and written.model_version
        assert s.get(JobPost, edited.id).scored_at is None
        assert s.get(JobPost, refacted.id).scored_at is None
        assert {fl.post_id for fl in s.exec(select(Flag))} == {kept.id}


def test_scoring_updates_stay_on_their_page(migrated_app):
    """No index covers what scoring writes and job_post pages keep room (fillfactor): a
    post's score update is heap-only (HOT) where its page has room, with no new entry in
    any of the table's indexes (its trigram indexes over the text cost the most)."""
    from types import SimpleNamespace

    with migrated_app.app_context(), session_scope() as s:
        options = s.execute(sa.text(
            "SELECT reloptions FROM pg_class WHERE relname = 'job_post'")).scalar_one()
        assert options == [f"fillfactor={JOB_POST_FILLFACTOR}"]  # the migration's = the model's
        indexed = set(s.execute(sa.text(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'job_post'::regclass")).scalars())
        assert indexed and not indexed & {"scores", "scored_at", "model_version"}
        client = f.client(s)
        posts = [f.post(s, client, f"p{i}", *f.SCAM) for i in range(40)]
        read = s.execute(sa.select(JobPost.id, JobPost.content_hash, JobPost.updated_at)
                         .where(JobPost.id.in_([p.id for p in posts]))).all()
        result = SimpleNamespace(scores={"scam": 0.9, "miscategorised": 0.1, "policy": 0.2},
                                 policy_types=[], predicted_category="admin_support")
        written = scoring._store_scores(s, read, [result] * len(read), utcnow(), "v-1")
        assert written == {p.id for p in posts}
        updated, hot = s.execute(sa.text(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE relname = 'job_post'")).one()
        # the free 60% of a page holds the new versions of its rows
        assert updated == 40 and hot == 40, (updated, hot)


def _ingested(s) -> dict[str, list[dict]]:
    """Every ingested row, keyed by external id order, without ids and write times."""
    skip = {"id", "client_id", "created_at", "updated_at"}
    out = {}
    for table in (Client.__table__, JobPost.__table__, Feedback.__table__):
        out[table.name] = [{k: v for k, v in row._mapping.items() if k not in skip}
                           for row in s.execute(sa.select(table).order_by(table.c.external_id))]
    return out


def test_ingest_inserts_in_one_statement_write_what_the_executemany_wrote(migrated_app,
                                                                          monkeypatch):
    """New clients, posts and feedback go in as one JSON parameter on PostgreSQL: the same
    rows as the ORM's multi-row insert, hostile text, nulls and other time zones included,
    and each item gets its own new id back."""
    monkeypatch.setattr("app.jobs.enqueue.dispatch", lambda spec: "recorded")
    cet = timezone(timedelta(hours=1))
    clients = [(f"line {i}", {"external_id": f"c{i}", "name": f"Client \"{i}\" <b>é</b>",
                              "country": None if i else "DE", "payment_verified": bool(i % 2),
                              "joined_at": datetime(2024, 1, 2, 3, 4, 5, 6789, tzinfo=cet)})
               for i in range(3)]
    posts = [(f"line {i}", {"external_id": f"p{i}", "client_id": f"c{i % 3}",
                            "title": f"<script>alert({i})</script> ünïcode \\ \"quoted\"",
                            "description": "Line one\nline two\ttab \u2028 \x01",
                            "category": None if i == 1 else "writing",
                            "skills": None if i == 2 else ["a", "b\"c"],
                            "budget": None if i == 3 else 1e-7 * i + 0.1,
                            "posted_at": datetime(2026, 11, 1, 23, 30, tzinfo=cet)})
             for i in range(5)]
    feedback = [(f"line {i}", {"external_id": f"f{i}", "client_id": "c1", "rating": i + 1,
                               "comment": "" if i else "Awful <i>client</i>",
                               "created_at": datetime(2026, 10, 1, tzinfo=timezone.utc),
                               "freelancer_ref": None, "contract_ref": f"k{i}"})
                for i in range(2)]

    def ingest_all(s) -> dict[str, dict]:
        ids = {}
        for kind, records in (("clients", clients), ("posts", posts), ("feedback", feedback)):
            outcome = ingest.WRITERS[kind](s, records)
            assert not outcome.rejected
            ids[kind] = {key: w.id for key, w in outcome.written.items()}
        return ids

    with migrated_app.app_context(), session_scope() as s:
        assert bulk.set_based(s)
        ids = ingest_all(s)
        one_statement = _ingested(s)
        # the ids returned are the rows' own ids
        for kind, model, records in (("posts", JobPost, posts), ("clients", Client, clients)):
            for key, item in records:
                assert s.get(model, ids[kind][key]).external_id == item["external_id"]
        s.rollback()
        monkeypatch.setattr(bulk, "set_based", lambda _s: False)
        ingest_all(s)
        executemany = _ingested(s)
        s.rollback()
    assert [len(rows) for rows in one_statement.values()] == [3, 5, 2]
    assert one_statement == executemany
    assert one_statement["job_post"][0]["posted_at"] == datetime(2026, 11, 1, 22, 30,
                                                                 tzinfo=timezone.utc)


def test_among_finds_the_same_rows_as_in(migrated_app):
    """``bulk.among`` (``IN (SELECT unnest(array))`` on PostgreSQL) and ``bulk.among_ids``
    (``= ANY(array)``, bounded by the ids' range) select what ``IN`` selects, for text and
    integer keys, and for an empty list."""
    with migrated_app.app_context(), session_scope() as s:
        owners = [f.client(s, ext) for ext in ("a", "b'; --", "ü")]
        for values in (["a", "ü", "missing"], ["b'; --"], []):
            got = set(s.execute(sa.select(Client.id).where(
                bulk.among(Client.external_id, values, True))).scalars())
            assert got == {c.id for c in owners if c.external_id in values}
        for among in (bulk.among, bulk.among_ids):
            got = s.execute(sa.select(Client.external_id).where(
                among(Client.id, [owners[2].id, owners[0].id], True))).scalars()
            assert set(got) == {"a", "ü"}  # not "b'; --", inside the ids' range
            assert s.execute(sa.select(Client.id).where(among(Client.id, [], True))).all() == []


def _nodes(plan: dict) -> list[dict]:
    return [plan, *(node for child in plan.get("Plans", ()) for node in _nodes(child))]


def test_a_chunk_of_client_ids_is_looked_up_as_a_set(migrated_app):
    """An import resolves each chunk's client ids (up to 500) against the clients. On a
    table small enough to scan, ``= ANY(array)`` would compare every client with every id in
    turn (500 x 1,000 comparisons a chunk, ~6 ms); ``among`` gives the planner a set to join
    against instead, so no row is filtered by the array."""
    with migrated_app.app_context(), session_scope() as s:
        s.execute(sa.text(
            "INSERT INTO client (external_id, name, payment_verified, phone_verified, "
            "identity_verified, status, created_at, updated_at) SELECT 'c-' || n, 'C', false, "
            "false, false, 'active', now(), now() FROM generate_series(1, 1000) AS n"))
        s.execute(sa.text("ANALYZE client"))
        wanted = [f"c-{n}" for n in range(1, 1000, 2)] + ["missing"]
        plan = _plan(s, sa.select(Client.id).where(bulk.among(Client.external_id, wanted, True)))
        s.rollback()
    assert plan["Actual Rows"] == 500
    filters = [node.get("Filter", "") + node.get("Index Cond", "") for node in _nodes(plan)]
    assert not any("ANY" in text for text in filters), filters
    assert plan["Node Type"] in ("Hash Join", "Nested Loop", "Merge Join"), plan["Node Type"]


def _plan(s, statement) -> dict:
    """EXPLAIN (ANALYZE, FORMAT JSON) of a SQLAlchemy statement on this session."""
    compiled = statement.compile(dialect=s.get_bind().dialect)
    raw = s.connection().connection.driver_connection
    return raw.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(compiled),
                       compiled.params).fetchone()[0][0]["Plan"]


def test_chunk_lookups_stay_narrow_while_statistics_are_stale(migrated_app):
    """A bulk import grows the flag table faster than autovacuum analyses it. Looking up a
    chunk's open flags must read about that chunk's rows, not every open post flag: the ids'
    range bounds the index scan whatever the planner thinks of ``= ANY``."""
    with migrated_app.app_context(), session_scope() as s:
        client = f.client(s)
        s.execute(sa.text("ANALYZE flag"))  # statistics of an empty table, as after migrating
        s.execute(sa.text(
            "INSERT INTO job_post (id, external_id, client_id, title, description, status, "
            "content_hash, posted_at, created_at, updated_at) "
            "SELECT n, 'p' || n, :client, 'Post', 'Text', 'live', md5(n::text), now(), now(), "
            "now() FROM generate_series(1, 20000) AS n"), {"client": client.id})
        s.execute(sa.text(
            "INSERT INTO flag (subject_type, subject_id, post_id, client_id, reason, score, "
            "status, priority, version, created_at, updated_at, queue_key) "
            "SELECT 'post', n, n, :client, 'scam', 0.9, 'open', 50, 1, now(), now(), n "
            "FROM generate_series(1, 20000) AS n"), {"client": client.id})
        chunk = list(range(19_501, 20_001))

        def lookup(clause):
            return _plan(s, sa.select(Flag.id).where(
                Flag.subject_type == "post", clause, Flag.status == "open"))

        bounded = lookup(bulk.among_ids(Flag.subject_id, chunk, True))
        unbounded = lookup(Flag.subject_id == sa.any_(
            sa.bindparam(None, chunk, type_=postgresql.ARRAY(sa.Integer))))
        s.rollback()
    assert bounded["Actual Rows"] == unbounded["Actual Rows"] == 500
    assert bounded.get("Rows Removed by Filter", 0) == 0
    assert bounded["Shared Hit Blocks"] < 50
    # what the bound is for: PostgreSQL 15 reads the bare = ANY as a filter here (19,500 rows
    # read and dropped, 408 blocks against 12); a later planner may do better without it
    assert bounded["Shared Hit Blocks"] <= unbounded["Shared Hit Blocks"]


def test_a_scoring_chunk_reads_its_posts_by_their_ids_while_statistics_are_stale(migrated_app):
    """Right after migrating, PostgreSQL has no statistics: a bulk import's first chunks are
    scored while the planner takes the clients for a handful of rows and a chunk's posts for
    two. Reading a chunk must still be 500 post lookups with one client lookup each - not
    every client compared with every post of the chunk (a nested loop over a scan of the
    clients: 500,000 comparisons and ~50 ms a chunk, measured in the import benchmark)."""
    with migrated_app.app_context(), session_scope() as s:
        s.execute(sa.text(
            "INSERT INTO client (external_id, name, payment_verified, phone_verified, "
            "identity_verified, status, created_at, updated_at) SELECT 'c-' || n, 'C', false, "
            "false, false, 'active', now(), now() FROM generate_series(1, 1000) AS n"))
        s.execute(sa.text(
            "INSERT INTO job_post (id, external_id, client_id, title, description, status, "
            "content_hash, posted_at, created_at, updated_at) "
            "SELECT n, 'p' || n, (SELECT min(id) FROM client) + n % 1000, 'Post', "
            "repeat('Text ', 200), 'live', md5(n::text), now(), now(), now() "
            "FROM generate_series(1, 5000) AS n"))
        plan = _plan(s, scoring.chunk_read(list(range(4501, 5001)), True))
        s.rollback()
    nodes = _nodes(plan)
    assert plan["Actual Rows"] == 500
    assert sum(node.get("Rows Removed by Join Filter", 0) + node.get("Rows Removed by Filter", 0)
               for node in nodes) == 0
    reads = {(node["Node Type"], node.get("Index Name")) for node in nodes
             if node.get("Relation Name") == "client"}
    assert reads == {("Index Scan", "pk_client")}, reads


def _analyses(s) -> dict[str, tuple[int, float]]:
    """Per table: how many times ``ANALYZE`` ran on it by hand (autovacuum's count apart),
    and the row count the planner believes."""
    s.commit()  # a new snapshot of the statistics views
    return {row.relname: (row.analyze_count, row.reltuples) for row in s.execute(sa.text(
        "SELECT s.relname, s.analyze_count, c.reltuples FROM pg_stat_user_tables s "
        "JOIN pg_class c ON c.oid = s.relid "
        "WHERE s.relname IN ('client', 'job_post', 'flag', 'post_similarity_key')"))}


def test_an_import_refreshes_the_statistics_of_the_tables_it_wrote(migrated_app):
    """Right after a bulk import PostgreSQL plans from empty tables' statistics until
    autovacuum analyses them, about a minute later (services.statistics). An import that
    wrote ``AFTER_ROWS`` rows analyses the tables it and its scoring wrote, at once; a
    smaller one leaves them to autovacuum."""
    from app.services import similar, statistics

    with migrated_app.app_context(), session_scope() as s:
        client = f.client(s)
        posts = [f.post(s, client, f"p{i}", "Data entry", f"Post {i} about spreadsheets")
                 for i in range(30)]
        flag_service.upsert_open_flags(s, _detections(posts, 0.9))
        keys = similar.index_posts(s, [(p.id, p.title, p.description) for p in posts])
        s.commit()
        before = _analyses(s)
        assert not ingest.refresh_statistics(s, kind="posts", written=statistics.AFTER_ROWS - 1)
        assert _analyses(s) == before
        assert ingest.refresh_statistics(s, kind="posts", written=statistics.AFTER_ROWS)
        after = _analyses(s)
    assert {t: after[t][0] - before[t][0] for t in after} == {
        "client": 0, "job_post": 1, "flag": 1, "post_similarity_key": 1}
    assert {t: after[t][1] for t in ("job_post", "flag", "post_similarity_key")} == {
        "job_post": 30, "flag": 45, "post_similarity_key": keys}


def test_client_scoring_in_one_statement_writes_what_the_executemany_wrote(migrated_app,
                                                                           monkeypatch):
    """``score_clients`` writes the feedback scores and the clients' scores with
    ``bulk.update_rows``: on PostgreSQL one statement each, the same rows as SQLite's
    executemany, the float scores exactly."""
    def scored(s) -> tuple[list, list]:
        fb = s.execute(sa.select(Feedback.external_id, Feedback.negative, Feedback.scored_at)
                       .order_by(Feedback.external_id)).all()
        cl = s.execute(sa.select(Client.external_id, Client.negativity_score, Client.scored_at,
                                 Client.model_version).order_by(Client.external_id)).all()
        return [tuple(r) for r in fb], [tuple(r) for r in cl]

    now = utcnow()
    with migrated_app.app_context(), session_scope() as s:
        owners = [f.client(s, f"c{k}") for k in range(3)]
        for k, owner in enumerate(owners):
            for i in range(4 + k):
                f.feedback(s, owner, f"f{k}-{i}", 1 + (i + k) % 5,
                           ["Never paid, rude.", "Great client!", "Slow but fair. Paid late."][i % 3],
                           created_at=now - timedelta(days=i + 1))
        ids = [o.id for o in owners]
        assert bulk.set_based(s)
    results = {}
    for mode in ("one statement", "executemany"):
        if mode == "executemany":
            monkeypatch.setattr(bulk, "set_based", lambda _s: False)
        with migrated_app.app_context(), session_scope() as s:
            s.execute(sa.update(Feedback).values(negative=None, scored_at=None))
            s.execute(sa.update(Client).values(negativity_score=None, scored_at=None,
                                               model_version=None))
            s.commit()
            out = scoring.score_clients(s, ids, now=now)
            assert [r["client"] for r in out] == ids
            results[mode] = scored(s)
    assert results["one statement"] == results["executemany"]
    feedback_rows, client_rows = results["one statement"]
    assert all(neg is not None and at == now for _, neg, at in feedback_rows)
    assert all(score is not None and at == now and version for _, score, at, version in client_rows)
