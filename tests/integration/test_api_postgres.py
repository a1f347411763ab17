"""The marketplace API and bulk import on a real PostgreSQL database."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlmodel import SQLModel, func, select

from app.db import get_engine, session_scope
from app.services import tokens
from app.services.audit import CLI
from models import AuditEvent, Client, Feedback, JobPost
from tests.helpers import make_app

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_app(pg_url) -> Iterator[Flask]:
    app = make_app(pg_url)
    with app.app_context():
        SQLModel.metadata.create_all(get_engine())
    yield app
    with app.app_context():
        get_engine().dispose()


@pytest.fixture
def dispatched(monkeypatch) -> list:
    specs: list = []
    monkeypatch.setattr("app.jobs.enqueue.dispatch", lambda spec: specs.append(spec) or "recorded")
    return specs


@pytest.fixture
def headers(pg_app) -> dict[str, str]:
    with pg_app.app_context(), session_scope() as s:
        return {"Authorization": f"Bearer {tokens.create_token(s, name='mp', actor=CLI)[1]}"}


def count(app, model) -> int:
    with app.app_context(), session_scope() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_round_trip(pg_app, headers, dispatched):
    c = pg_app.test_client()
    r = c.put("/api/v1/clients/c1", headers=headers,
              json={"name": "Zoë Café", "country": "France", "joined_at": "2023-01-01T00:00:00+01:00"})
    assert r.status_code == 201 and r.json["joined_at"] == "2022-12-31T23:00:00Z"
    post = {"client_id": "c1", "title": "Menu design ☕", "description": "Two pages, A4.",
            "category": "design_creative", "skills": ["Canva"], "budget": 120.5,
            "posted_at": "2024-02-29T23:30:00-08:00"}
    r = c.put("/api/v1/posts/p1", headers=headers, json=post)
    assert r.status_code == 201 and r.json["posted_at"] == "2024-03-01T07:30:00Z"
    assert c.put("/api/v1/posts/p1", headers=headers, json=post).json["result"] == "unchanged"
    r = c.put("/api/v1/posts/p1", headers=headers, json={**post, "budget": 150})
    assert r.status_code == 200 and r.json["result"] == "updated"
    r = c.put("/api/v1/feedback/f1", headers=headers,
              json={"client_id": "c1", "rating": 2, "comment": "Paid late.",
                    "created_at": "2024-03-10T10:00:00Z"})
    assert r.status_code == 201
    r = c.get("/api/v1/posts/p1", headers=headers)
    assert r.status_code == 200 and r.json["budget"] == 150.0 and r.json["skills"] == ["Canva"]
    assert c.get("/api/v1/clients/c1", headers=headers).json["name"] == "Zoë Café"
    assert c.get("/api/v1/flags", headers=headers).json == {"items": [], "next_cursor": None}
    assert [s.func for s in dispatched] == ["app.jobs.tasks.score_posts", "app.jobs.tasks.score_posts",
                                            "app.jobs.tasks.score_client"]
    r = c.put("/api/v1/posts/p2", headers=headers, json={**post, "description": "bad\x00text"})
    assert r.status_code == 422 and count(pg_app, JobPost) == 1


def test_batch_is_all_or_nothing(pg_app, headers, dispatched):
    c = pg_app.test_client()
    body = {
        "clients": [{"external_id": f"c{i}", "name": f"Client {i}"} for i in range(3)],
        "posts": [{"external_id": f"p{i}", "client_id": f"c{i % 3}", "title": f"T{i}",
                   "description": "d", "posted_at": "2024-01-01T00:00:00Z"} for i in range(10)],
        "feedback": [{"external_id": "f1", "client_id": "c2", "rating": 4,
                      "created_at": "2024-01-02T00:00:00Z"}],
    }
    bad = json.loads(json.dumps(body))
    bad["feedback"][0]["client_id"] = "c404"
    r = c.post("/api/v1/batch", headers=headers, json=bad)
    assert r.status_code == 422
    assert r.json["fields"] == {"feedback[0].client_id": "unknown client 'c404'"}
    assert (count(pg_app, Client), count(pg_app, JobPost), count(pg_app, Feedback)) == (0, 0, 0)
    assert dispatched == []

    r = c.post("/api/v1/batch", headers=headers, json=body)
    assert r.status_code == 200 and r.json["posts"]["created"] == 10
    assert (count(pg_app, Client), count(pg_app, JobPost), count(pg_app, Feedback)) == (3, 10, 1)
    with pg_app.app_context(), session_scope() as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "api.batch")).one().actor == "api:mp"
    r = c.post("/api/v1/batch", headers=headers, json=body)
    assert r.json["posts"] == {"created": 0, "updated": 0, "unchanged": 10}


def test_bulk_import_on_postgresql(pg_app, tmp_path, dispatched):
    runner = pg_app.test_cli_runner()
    clients = tmp_path / "clients.jsonl"
    clients.write_text("".join(json.dumps({"external_id": f"c{i}", "name": f"C{i}"}) + "\n"
                               for i in range(50)))
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps({
        "external_id": f"p{i}", "client_id": f"c{i % 50}", "title": f"Post {i}",
        "description": "Short honest post.", "skills": ["a", "b"],
        "posted_at": "2024-01-01T00:00:00Z"}) + "\n" for i in range(1200)))
    assert runner.invoke(args=["import", "clients", str(clients), "--no-progress"]).exit_code == 0
    r = runner.invoke(args=["import", "posts", str(posts), "--no-progress"])
    assert r.exit_code == 0 and "imported 1200, updated 0, unchanged 0, rejected 0" in r.stdout
    r = runner.invoke(args=["import", "posts", str(posts), "--no-progress"])
    assert "imported 0, updated 0, unchanged 1200, rejected 0" in r.stdout
    assert count(pg_app, JobPost) == 1200
    assert [len(s.args[0]) for s in dispatched if s.func == "app.jobs.tasks.score_posts"] == [500, 500, 200]


def test_bulk_import_without_redis_scores_beside_the_import(pg_app, tmp_path, monkeypatch):
    """No Redis on PostgreSQL: each chunk's scoring job runs in one of the import's child
    processes while the next chunk is written; every post is scored when the command returns.
    A job that fails leaves its rows imported and unscored (for the sweep), and says so."""
    from app.jobs import enqueue, execute
    from app.services import scoring

    outcomes: list[str] = []
    run_inline = execute.run_inline
    monkeypatch.setattr(execute, "run_inline",
                        lambda spec: outcomes.append(run_inline(spec)) or outcomes[-1])
    real_score = scoring.score_posts

    def score_posts(session, post_ids, **kw):
        if min(post_ids) > 100 and max(post_ids) <= 150:  # the third chunk of 50
            raise RuntimeError("model exploded")
        return real_score(session, post_ids, **kw)

    monkeypatch.setattr(scoring, "score_posts", score_posts)
    monkeypatch.setitem(pg_app.config, "SCORING_COALESCE", 0)  # no job scores another's posts
    runner = pg_app.test_cli_runner()
    clients = tmp_path / "clients.jsonl"
    clients.write_text(json.dumps({"external_id": "c0", "name": "C0"}) + "\n")
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps({
        "external_id": f"p{i}", "client_id": "c0", "title": f"Logo for shop {i}",
        "description": "We need a simple logo for our bakery, budget $50.",
        "posted_at": "2024-01-01T00:00:00Z"}) + "\n" for i in range(170)))
    assert runner.invoke(args=["import", "clients", str(clients), "--no-progress"]).exit_code == 0
    r = runner.invoke(args=["import", "posts", str(posts), "--no-progress", "--chunk-size", "50"])
    assert r.exit_code == 0 and "imported 170, updated 0, unchanged 0, rejected 0" in r.stdout
    assert "1 scoring job(s) failed" in r.stderr and "flask sweep" in r.stderr
    assert outcomes == ["inline-background"] * 4
    with pg_app.app_context(), session_scope() as s:
        unscored = s.exec(select(JobPost.id).where(JobPost.scored_at.is_(None))).all()
        assert count(pg_app, JobPost) == 170 and sorted(unscored) == list(range(101, 151))


def test_an_interrupted_import_stops_its_scoring_processes(pg_app, monkeypatch, caplog,
                                                          tmp_path):
    """Ctrl-C during a bulk import without Redis (PostgreSQL): the block ends at once, the
    jobs in progress stopped and the waiting ones dropped with a warning (their rows are
    committed and left for the sweep), and the interrupt goes on up."""
    from app.jobs import enqueue, execute, inline
    from tests.support.waiting import GatedJob

    job = GatedJob(tmp_path / "ran.txt")
    monkeypatch.setattr(execute, "resolve", lambda name: job)
    monkeypatch.setitem(pg_app.config, "INLINE_JOB_PROCESSES", 1)  # one job in progress
    with pg_app.app_context(), pytest.raises(KeyboardInterrupt):
        with inline.inline_in_background() as runner:
            assert runner is not None
            for n in range(3):
                assert enqueue.dispatch(enqueue.score_client_spec(n, "x")) == "inline-background"
            assert job.started.wait(60)  # a forked child under load can take seconds to start
            raise KeyboardInterrupt
    assert job.ran == []
    assert "interrupted: 3 scoring job(s) stopped or dropped" in caplog.text
    assert "flask sweep --delay 0" in caplog.text
    ran = []  # (a stopped child's gate is not used again: it died waiting on it)
    monkeypatch.setattr(execute, "resolve", lambda name: ran.append)
    with pg_app.app_context():  # the block is over: jobs run in line again
        assert enqueue.dispatch(enqueue.score_client_spec(9, "x")) == "inline" and ran == [9]
