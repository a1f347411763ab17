"""Alembic against real databases: upgrade, round trip, and no drift from the models."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TABLES = {"moderator", "api_token", "client", "job_post", "feedback", "flag", "decision",
          "outreach", "outbox_event", "audit_event", "model_version", "post_similarity_key",
          "lease", "qa_review", "qa_scan", "metrics_rollup",
          "automation_tier", "post_hold", "appeal", "freelancer_contact", "freelancer_notice",
          "model_candidate", "shadow_score", "flag_search"}


def alembic(url: str, *args: str) -> subprocess.CompletedProcess:
    """Run the real `alembic` command from the repo root, as a user would."""
    env = {**os.environ, "DATABASE_URL": url}
    result = subprocess.run([sys.executable, "-m", "alembic", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def assert_audit_log_is_append_only(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO audit_event (actor, action, subject_type, subject_id, at)"
                                 " VALUES ('cli', 'probe', 'x', '1', CURRENT_TIMESTAMP)"))
        for sql in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(sa.text(sql))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT action FROM audit_event")).scalar_one() == "probe"
    finally:
        engine.dispose()


def assert_decisions_are_append_only(url: str, *, truncate: bool = False) -> None:
    """The undo's stamp (undone_at, once, from NULL) is the one change a decision takes."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO client (id, external_id, name, payment_verified, phone_verified,"
                " identity_verified, status, created_at, updated_at) VALUES (77, 'c77', 'Acme',"
                " false, false, false, 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(sa.text(
                "INSERT INTO decision (subject_type, subject_id, client_id, action, reason,"
                " created_at) VALUES ('client', 77, 77, 'note', 'judged', CURRENT_TIMESTAMP)"))
        refused = ["UPDATE decision SET reason = 'rewritten'",
                   "UPDATE decision SET reason = 'rewritten', undone_at = CURRENT_TIMESTAMP",
                   "DELETE FROM decision"]
        for sql in refused + (["TRUNCATE decision CASCADE"] if truncate else []):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(sa.text(sql))
        with engine.begin() as conn:  # the undo
            conn.execute(sa.text("UPDATE decision SET undone_at = CURRENT_TIMESTAMP"))
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):  # not twice
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE decision SET undone_at = NULL"))
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT reason, undone_at FROM decision")).one()
            assert row.reason == "judged" and row.undone_at is not None
    finally:
        engine.dispose()


def _insert_client(conn) -> None:
    """Client 1, as any revision since the first stores it (SQLite or PostgreSQL)."""
    conn.execute(sa.text("INSERT INTO client (id, external_id, name, payment_verified,"
                         " phone_verified, identity_verified, status, created_at, updated_at)"
                         " VALUES (1, 'c1', 'Acme', false, false, false, 'active',"
                         " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))


def assert_one_open_flag_per_subject_and_reason(url: str) -> None:
    engine = sa.create_engine(url)
    insert_flag = ("INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason, score,"
                   " status, priority, queue_key, version, created_at, updated_at) VALUES"
                   " ('client', 1, 1, NULL, 'negative_client', 0.9, :status, 0, 0, 1,"
                   " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    try:
        with engine.begin() as conn:
            _insert_client(conn)
            conn.execute(sa.text(insert_flag), {"status": "resolved"})
            conn.execute(sa.text(insert_flag), {"status": "open"})
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as conn:
                conn.execute(sa.text(insert_flag), {"status": "open"})
    finally:
        engine.dispose()


def test_upgrade_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    alembic(url, "upgrade", "head")
    assert tables(url) == TABLES
    assert_audit_log_is_append_only(url)
    assert_decisions_are_append_only(url)
    assert_one_open_flag_per_subject_and_reason(url)
    assert "No new upgrade operations detected" in alembic(url, "check").stdout + \
        alembic(url, "check").stderr


def test_upgrade_on_postgresql(pg_url):
    alembic(pg_url, "upgrade", "head")
    assert tables(pg_url) == TABLES
    assert_audit_log_is_append_only(pg_url)
    assert_decisions_are_append_only(pg_url, truncate=True)
    assert_one_open_flag_per_subject_and_reason(pg_url)


def test_downgrade_then_upgrade_round_trip_on_postgresql(pg_url):
    alembic(pg_url, "upgrade", "head")
    alembic(pg_url, "downgrade", "base")
    assert tables(pg_url) == set()
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:  # the trigger function went with the schema
        assert conn.execute(sa.text(
            "SELECT count(*) FROM pg_proc WHERE proname IN ('audit_event_append_only',"
            " 'decision_append_only')")).scalar() == 0
    engine.dispose()
    alembic(pg_url, "upgrade", "head")
    assert tables(pg_url) == TABLES
    assert_audit_log_is_append_only(pg_url)
    assert_decisions_are_append_only(pg_url, truncate=True)


def test_no_drift_between_models_and_migrations_on_postgresql(pg_url):
    alembic(pg_url, "upgrade", "head")
    result = alembic(pg_url, "check")
    assert "No new upgrade operations detected" in result.stdout + result.stderr


def test_queue_key_backfill_matches_the_model_on_postgresql(pg_url):
    """Flags that exist before revision 0003 get the same key the model computes."""
    from datetime import datetime, timezone

    from models.moderation import queue_key

    alembic(pg_url, "upgrade", "0002")
    created = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        _insert_client(conn)
        conn.execute(sa.text("INSERT INTO flag (subject_type, subject_id, client_id, reason, score,"
                             " status, priority, version, created_at, updated_at) VALUES"
                             " ('client', 1, 1, 'negative_client', 0.9, 'open', 42, 1, :c, :c)"),
                     {"c": created})
    alembic(pg_url, "upgrade", "head")
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT queue_key FROM flag")).scalar_one()
    engine.dispose()
    assert stored == pytest.approx(queue_key(42, created))


def test_scoring_documents_keep_their_content_through_0010_and_back(pg_url):
    """Revision 0010 turns flag.evidence and job_post.scores from jsonb into json: documents
    stored before it read back the same after it, and after a downgrade."""
    evidence = [{"label": "scam", "text": "<b>\"fee\"</b> ünïcode", "start": 0, "end": 3,
                 "weight": 1e-12, "nested": {"terms": ["a", "b"]}}]
    scores = {"scam": 0.9187, "policy": 0.0, "policy_types": ["off_platform"],
              "predicted_category": None}
    alembic(pg_url, "upgrade", "0009")
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        _insert_client(conn)
        conn.execute(sa.text(
            "INSERT INTO job_post (id, external_id, client_id, title, description, status,"
            " content_hash, scores, posted_at, created_at, updated_at) VALUES (1, 'p1', 1, 'T',"
            " 'D', 'live', 'h', CAST(:scores AS jsonb), now(), now(), now())"),
            {"scores": json.dumps(scores)})
        conn.execute(sa.text(
            "INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason, score, status,"
            " priority, queue_key, version, evidence, created_at, updated_at) VALUES ('post', 1,"
            " 1, 1, 'scam', 0.9, 'open', 50, 0, 1, CAST(:evidence AS jsonb), now(), now())"),
            {"evidence": json.dumps(evidence)})

    def stored() -> tuple:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT pg_typeof(f.evidence)::text, f.evidence, pg_typeof(p.scores)::text,"
                " p.scores FROM flag f JOIN job_post p ON p.id = f.post_id")).one()

    try:
        assert stored() == ("jsonb", evidence, "jsonb", scores)
        alembic(pg_url, "upgrade", "0010")
        assert stored() == ("json", evidence, "json", scores)
        alembic(pg_url, "downgrade", "0009")
        assert stored() == ("jsonb", evidence, "jsonb", scores)
    finally:
        engine.dispose()


def _flags_before_0021(url: str) -> None:
    """At 0020: posts 1 (writing) and 2 (no category), a client flag, open and closed flags
    on post 1, an open flag on post 2."""
    engine = sa.create_engine(url)
    scores = "CAST(:scores AS jsonb)" if url.startswith("postgresql") else ":scores"
    with engine.begin() as conn:
        _insert_client(conn)
        for post, category in ((1, "writing"), (2, None)):
            conn.execute(sa.text(
                "INSERT INTO job_post (id, external_id, client_id, title, description, status,"
                " category, content_hash, scores, posted_at, created_at, updated_at) VALUES"
                f" (:id, :ext, 1, 'T', 'D', 'live', :category, 'h', {scores}, CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"id": post, "ext": f"p{post}", "category": category, "scores": "{}"})
        for subject_type, post, reason, status in (("post", 1, "scam", "open"),
                                                   ("post", 1, "policy", "dismissed"),
                                                   ("post", 2, "scam", "open"),
                                                   ("client", None, "negative_client", "open")):
            conn.execute(sa.text(
                "INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason, score,"
                " status, priority, queue_key, version, created_at, updated_at) VALUES"
                " (:type, :subject, 1, :post, :reason, 0.9, :status, 0, 0, 1,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"type": subject_type, "subject": post or 1, "post": post, "reason": reason,
                 "status": status})
    engine.dispose()


def assert_0021_backfills_and_keeps_flag_category(url: str) -> None:
    """Existing flags get their post's category (NULL for a client flag, or a post without
    one); afterwards the triggers keep it: a new flag, a post's category change."""
    alembic(url, "upgrade", "0020")
    _flags_before_0021(url)
    alembic(url, "upgrade", "0021")
    engine = sa.create_engine(url)
    try:
        def rows(conn) -> list:
            return conn.execute(sa.text(
                "SELECT post_id, reason, category FROM flag ORDER BY id")).all()

        with engine.begin() as conn:
            assert rows(conn) == [(1, "scam", "writing"), (1, "policy", "writing"),
                                  (2, "scam", None), (None, "negative_client", None)]
            conn.execute(sa.text("UPDATE job_post SET category = 'legal' WHERE id = 2"))
            conn.execute(sa.text(
                "INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason, score,"
                " status, priority, queue_key, version, created_at, updated_at, strike_boost)"
                " VALUES ('post', 1, 1, 1, 'miscategorised', 0.9, 'open', 0, 0, 1,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)"))
            assert rows(conn)[2:] == [(2, "scam", "legal"), (None, "negative_client", None),
                                      (1, "miscategorised", "writing")]
    finally:
        engine.dispose()
    alembic(url, "downgrade", "0020")
    alembic(url, "upgrade", "head")


def test_0021_backfills_flag_category_on_sqlite(tmp_path):
    assert_0021_backfills_and_keeps_flag_category(f"sqlite:///{tmp_path / 'rows.db'}")


def test_0021_backfills_flag_category_on_postgresql(pg_url):
    assert_0021_backfills_and_keeps_flag_category(pg_url)


def assert_0022_backfills_and_keeps_flag_search(url: str) -> None:
    """The open flags get their search text (post flags: title, description, client name;
    the client flag: the name), the closed one none; afterwards the triggers keep it."""
    alembic(url, "upgrade", "0020")
    _flags_before_0021(url)
    alembic(url, "upgrade", "0022")
    us = "\x1f"
    engine = sa.create_engine(url)
    try:
        def rows(conn) -> list:
            return conn.execute(sa.text(
                "SELECT flag.post_id, flag.reason, flag_search.text FROM flag LEFT JOIN "
                "flag_search ON flag_search.flag_id = flag.id ORDER BY flag.id")).all()

        with engine.begin() as conn:
            name = conn.execute(sa.text("SELECT lower(name) FROM client")).scalar()
            assert rows(conn) == [(1, "scam", f"t{us}d{us}{name}"), (1, "policy", None),
                                  (2, "scam", f"t{us}d{us}{name}"),
                                  (None, "negative_client", f"{us}{us}{name}")]
            conn.execute(sa.text("UPDATE job_post SET title = 'Telegram' WHERE id = 2"))
            conn.execute(sa.text("UPDATE flag SET status = 'resolved' WHERE id = 1"))
            assert [r[2] for r in rows(conn)] == [None, None, f"telegram{us}d{us}{name}",
                                                  f"{us}{us}{name}"]
    finally:
        engine.dispose()
    alembic(url, "downgrade", "0021")
    alembic(url, "upgrade", "head")


def test_0022_backfills_flag_search_on_sqlite(tmp_path):
    assert_0022_backfills_and_keeps_flag_search(f"sqlite:///{tmp_path / 'rows.db'}")


def test_0022_backfills_flag_search_on_postgresql(pg_url):
    assert_0022_backfills_and_keeps_flag_search(pg_url)


def _columns(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


INSERT_FLAG = ("INSERT INTO flag (subject_type, subject_id, client_id, post_id, reason, score,"
               " status, priority, queue_key, version, created_at, updated_at, strike_boost)"
               " VALUES ('post', :post, 1, :post, 'scam', 0.9, 'open', 0, 0, 1,"
               " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)")


def assert_0023_drops_flagged_and_its_downgrade_restores_it(url: str) -> None:
    """0023 drops job_post.flagged and its triggers, and the triggers of 0021/0022 on job_post
    still work (no rebuild dropped them); the downgrade brings the column back, backfilled,
    and its triggers mark a post whose flag opens."""
    alembic(url, "upgrade", "0020")
    _flags_before_0021(url)
    alembic(url, "upgrade", "0023")
    us = "\x1f"
    assert "flagged" not in _columns(url, "job_post")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            names = conn.execute(sa.text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                if url.startswith("postgresql") else
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
            assert not [n for n in names if n.startswith("flag_marks_post")]
            assert {"post_category_to_flags", "post_text_to_flag_search",
                    "client_name_to_flag_search"} <= set(names)
            conn.execute(sa.text("UPDATE job_post SET title = 'Telegram', category = 'legal' "
                                 "WHERE id = 2"))
            name = conn.execute(sa.text("SELECT lower(name) FROM client")).scalar()
            assert conn.execute(sa.text(
                "SELECT flag.category, flag_search.text FROM flag JOIN flag_search ON "
                "flag_search.flag_id = flag.id WHERE flag.post_id = 2")).one() == \
                ("legal", f"telegram{us}d{us}{name}")
            for post in (3, 4):
                conn.execute(sa.text(
                    "INSERT INTO job_post (id, external_id, client_id, title, description,"
                    " status, category, content_hash, posted_at, created_at, updated_at) VALUES"
                    f" ({post}, 'p{post}', 1, 'T{post}', 'D', 'live', 'legal', 'h',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(sa.text(INSERT_FLAG), {"post": 3})
            assert conn.execute(sa.text(
                "SELECT flag.category, flag_search.text FROM flag JOIN flag_search ON "
                "flag_search.flag_id = flag.id WHERE flag.post_id = 3")).one() == \
                ("legal", f"t3{us}d{us}{name}")
    finally:
        engine.dispose()
    alembic(url, "downgrade", "0022")
    assert "flagged" in _columns(url, "job_post")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            def flagged() -> list:
                return conn.execute(sa.text(
                    "SELECT id, flagged FROM job_post ORDER BY id")).all()

            assert flagged() == [(1, True), (2, True), (3, True), (4, False)]  # backfilled
            conn.execute(sa.text(INSERT_FLAG), {"post": 4})
            assert flagged()[3] == (4, True)  # the trigger is back
    finally:
        engine.dispose()
    alembic(url, "upgrade", "head")
    assert "flagged" not in _columns(url, "job_post")


def test_0023_drops_flagged_on_sqlite(tmp_path):
    assert_0023_drops_flagged_and_its_downgrade_restores_it(f"sqlite:///{tmp_path / 'rows.db'}")


def test_0023_drops_flagged_on_postgresql(pg_url):
    assert_0023_drops_flagged_and_its_downgrade_restores_it(pg_url)


#: the trigger functions of flag.category and flag_search (models and migrations 0021-0023)
TRIGGER_FUNCTIONS = ("flag_takes_post_category", "post_category_to_flags", "flag_search_sync",
                     "flag_search_queue_key", "post_text_to_flag_search",
                     "client_name_to_flag_search")


def _function_sources(url: str) -> dict[str, str]:
    """Each trigger function's body, whitespace removed."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: "".join(src.split()) for name, src in conn.execute(sa.text(
                "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(:names)"),
                {"names": list(TRIGGER_FUNCTIONS)})}
    finally:
        engine.dispose()


def test_the_models_and_the_migrations_create_the_same_trigger_functions(pg_url, pg_admin):
    """create_all (the tests' databases, a fresh install's) and ``alembic upgrade head`` give
    the same function bodies (0023's locks included); and 0023's downgrade restores 0022's."""
    from sqlmodel import SQLModel

    import models  # noqa: F401 - every table

    alembic(pg_url, "upgrade", "0022")
    at_0022 = _function_sources(pg_url)
    alembic(pg_url, "upgrade", "head")
    migrated = _function_sources(pg_url)
    assert set(migrated) == set(TRIGGER_FUNCTIONS)
    assert "pg_advisory_xact_lock_shared" in migrated["flag_search_sync"]
    assert "FORSHARE" in migrated["flag_takes_post_category"]
    alembic(pg_url, "downgrade", "0022")
    assert _function_sources(pg_url) == at_0022
    other = pg_admin.url.set(database=f"{sa.make_url(pg_url).database}_all")
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{other.database}"'))
    url = other.render_as_string(hide_password=False)
    try:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        assert _function_sources(url) == migrated
    finally:
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{other.database}" WITH (FORCE)'))
