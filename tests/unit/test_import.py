"""`flask import clients|posts|feedback FILE`: JSONL, CSV, stdin, resumable, rejections."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.db import session_scope
from app.jobs.spec import JobSpec
from models import AuditEvent, Client, Feedback, Flag, JobPost


@pytest.fixture
def dispatched(monkeypatch) -> list[JobSpec]:
    specs: list[JobSpec] = []
    monkeypatch.setattr("app.jobs.enqueue.dispatch", lambda spec: specs.append(spec) or "recorded")
    return specs


def rows(app, model):
    with app.app_context(), session_scope() as s:
        return list(s.exec(select(model).order_by(model.id)))


def jsonl(path, items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return str(path)


def client_row(i):
    return {"external_id": f"c{i}", "name": f"Client {i}", "joined_at": "2023-01-01T00:00:00Z",
            "payment_verified": i % 2 == 0}


def post_row(i, client="c1", **changes):
    return {"external_id": f"p{i}", "client_id": client, "title": f"Post {i}",
            "description": f"Need help with task {i}.", "category": "writing",
            "skills": ["Editing"], "budget": 100 + i, "posted_at": "2024-03-01T10:00:00Z",
            **changes}


def run(runner, *args, input=None):
    return runner.invoke(args=["import", *args, "--no-progress"], input=input)


def test_jsonl_import_then_rerun_is_unchanged_and_never_duplicates(runner, app, tmp_path,
                                                                     dispatched):
    r = run(runner, "clients", jsonl(tmp_path / "c.jsonl", [client_row(i) for i in range(1, 4)]))
    assert r.exit_code == 0, r.output
    assert "imported 3, updated 0, unchanged 0, rejected 0" in r.stdout
    posts = jsonl(tmp_path / "p.jsonl", [post_row(i) for i in range(7)])
    r = run(runner, "posts", posts, "--chunk-size", "3")
    assert r.exit_code == 0 and "imported 7, updated 0, unchanged 0, rejected 0" in r.stdout
    # one scoring job per committed chunk: 3 + 3 + 1
    assert [len(s.args[0]) for s in dispatched] == [3, 3, 1]
    dispatched.clear()

    r = run(runner, "posts", posts)
    assert r.exit_code == 0 and "imported 0, updated 0, unchanged 7, rejected 0" in r.stdout
    assert dispatched == [] and len(rows(app, JobPost)) == 7

    # resume after an edit: one row changed, the rest skipped
    edited = [post_row(i) for i in range(7)] + [post_row(7)]
    edited[2]["description"] = "A new description."
    r = run(runner, "posts", jsonl(tmp_path / "p2.jsonl", edited))
    assert "imported 1, updated 1, unchanged 6, rejected 0" in r.stdout
    assert len(rows(app, JobPost)) == 8
    assert sorted(len(s.args[0]) for s in dispatched) == [2]
    assert [e.action for e in rows(app, AuditEvent)].count("import.posts") == 3


def test_rejected_rows_are_reported_with_line_numbers_and_good_rows_imported(
        runner, app, tmp_path, dispatched):
    run(runner, "clients", jsonl(tmp_path / "c.jsonl", [client_row(1)]))
    path = tmp_path / "p.jsonl"
    lines = [json.dumps(post_row(1)), "{broken json", "", json.dumps(post_row(2, rating=5)),
             json.dumps(post_row(3, client="ghost")), "[1, 2]",
             json.dumps(post_row(4, posted_at="2024-03-01 10:00")), json.dumps(post_row(5))]
    path.write_text("\n".join(lines) + "\n")
    r = run(runner, "posts", str(path))
    assert r.exit_code == 1
    assert "imported 2, updated 0, unchanged 0, rejected 5" in r.stdout
    err = r.stderr
    assert "line 2: invalid JSON" in err
    assert "line 4: rating: is not a known field" in err
    assert "line 5: client_id: unknown client 'ghost'" in err
    assert "line 6: must be a JSON object" in err
    assert "line 7: posted_at: must include a timezone" in err
    assert "line 3" not in err  # blank lines are skipped, not rejected
    assert [p.external_id for p in rows(app, JobPost)] == ["p1", "p5"]


def test_csv_import_with_skills_booleans_and_empty_cells(runner, app, tmp_path, dispatched):
    (tmp_path / "c.csv").write_text(
        "external_id,name,country,joined_at,payment_verified,phone_verified\n"
        "c1,Acme,Ireland,2023-01-01T00:00:00Z,true,0\n"
        "c2,\"Bloggs, Joe\",,2023-02-01T00:00:00+01:00,1,false\n"
        "c3,Bad Bool,,,maybe,\n", encoding="utf-8")
    r = run(runner, "clients", str(tmp_path / "c.csv"))
    assert r.exit_code == 1, r.output
    assert "imported 2, updated 0, unchanged 0, rejected 1" in r.stdout
    assert "line 4: payment_verified: must be true or false" in r.stderr
    c1, c2 = rows(app, Client)
    assert (c1.payment_verified, c1.phone_verified, c1.country) == (True, False, "Ireland")
    assert (c2.name, c2.country, c2.payment_verified) == ("Bloggs, Joe", None, True)

    (tmp_path / "p.csv").write_text(
        "external_id,client_id,title,description,category,skills,budget,posted_at\n"
        "p1,c1,Logo,\"Need a logo,\nfor my bakery\",design_creative,Logo Design; Branding ;,50,"
        "2024-01-01T00:00:00Z\n"
        "p2,c2,Menu,Menu design,,,,2024-01-02T00:00:00Z\n"
        "p3,c2,Bad,Budget,writing,,fifty,2024-01-02T00:00:00Z\n", encoding="utf-8")
    r = run(runner, "posts", str(tmp_path / "p.csv"))
    assert "imported 2, updated 0, unchanged 0, rejected 1" in r.stdout
    assert "line 5: budget: must be a number" in r.stderr  # p1 spans lines 2-3
    p1, p2 = rows(app, JobPost)
    assert p1.skills == ["Logo Design", "Branding"] and p1.budget == 50.0
    assert p1.description == "Need a logo,\nfor my bakery"
    assert (p2.category, p2.skills, p2.budget) == (None, [], None)


def test_csv_with_unknown_or_missing_columns_fails_before_importing(runner, app, tmp_path):
    (tmp_path / "c.csv").write_text("external_id,name,colour\nc1,Acme,red\n")
    r = run(runner, "clients", str(tmp_path / "c.csv"))
    assert r.exit_code == 1 and "unknown columns: colour" in r.output
    (tmp_path / "f.csv").write_text("external_id,rating\nf1,5\n")
    r = run(runner, "feedback", str(tmp_path / "f.csv"))
    assert r.exit_code == 1 and "missing columns: client_id, created_at" in r.output
    assert rows(app, Client) == []


def test_stdin_is_jsonl(runner, app, dispatched):
    data = "".join(json.dumps(client_row(i)) + "\n" for i in range(3))
    r = run(runner, "clients", "-", input=data)
    assert r.exit_code == 0 and "imported 3" in r.stdout
    assert len(rows(app, Client)) == 3


def test_feedback_import_rescoring_each_client_once_per_chunk(runner, app, tmp_path, dispatched):
    run(runner, "clients", jsonl(tmp_path / "c.jsonl", [client_row(1), client_row(2)]))
    items = [{"external_id": f"f{i}", "client_id": f"c{1 + i % 2}", "rating": 1 + i % 5,
              "comment": "ok", "created_at": f"2024-01-0{1 + i}T00:00:00Z"} for i in range(6)]
    r = run(runner, "feedback", jsonl(tmp_path / "f.jsonl", items))
    assert r.exit_code == 0 and "imported 6" in r.stdout
    ids = {c.id for c in rows(app, Client)}
    # one job for the chunk's clients (issue 27: one session and commit per chunk, not per
    # client), each client in it once
    assert [(s.func, s.args) for s in dispatched] == [("app.jobs.tasks.score_clients",
                                                       (sorted(ids),))]
    assert len(rows(app, Feedback)) == 6


def test_duplicate_ids_in_one_file_keep_the_last_version(runner, app, tmp_path, dispatched):
    run(runner, "clients", jsonl(tmp_path / "c.jsonl", [client_row(1)]))
    r = run(runner, "posts", jsonl(tmp_path / "p.jsonl",
                                   [post_row(1), post_row(1, title="Second version")]))
    assert r.exit_code == 0 and "imported 1, updated 1" in r.stdout
    [post] = rows(app, JobPost)
    assert post.title == "Second version"


@pytest.mark.parametrize("name,message", [("data.txt", "unknown format '.txt'"),
                                          ("missing.jsonl", "cannot read")])
def test_bad_file_arguments(runner, tmp_path, name, message):
    if name.endswith(".txt"):
        (tmp_path / name).write_text("x")
    r = run(runner, "clients", str(tmp_path / name))
    assert r.exit_code != 0 and message in r.output


def test_invalid_utf8_line_is_rejected_not_fatal(runner, app, tmp_path, dispatched):
    path = tmp_path / "c.jsonl"
    path.write_bytes(json.dumps(client_row(1)).encode() + b"\n\xff\xfe garbage\n"
                     + json.dumps(client_row(2)).encode() + b"\n")
    r = run(runner, "clients", str(path))
    assert r.exit_code == 1 and "line 2: not valid UTF-8" in r.stderr
    assert len(rows(app, Client)) == 2


def test_a_scoring_process_killed_mid_import_loses_one_chunk_for_the_sweep(runner, app, tmp_path,
                                                                           monkeypatch):
    """Without Redis the import's scoring runs in a child process. Killed in a job (out of
    memory, say), it loses that chunk's scoring and nothing else: the import finishes, the
    later chunks are scored in line, the command says so, and the sweep scores the rest."""
    import os
    import signal

    from app.services import scoring

    caller, real_score = os.getpid(), scoring.score_posts

    def score_posts(session, post_ids, **kw):  # noqa: ANN001
        if os.getpid() != caller and min(post_ids) > 20:  # the child's second chunk
            os.kill(os.getpid(), signal.SIGKILL)
        return real_score(session, post_ids, **kw)

    monkeypatch.setattr(scoring, "score_posts", score_posts)
    monkeypatch.setitem(app.config, "INLINE_JOB_PROCESSES", 1)
    monkeypatch.setitem(app.config, "SCORING_COALESCE", 0)  # no job scores another's posts
    clients = jsonl(tmp_path / "c.jsonl", [{"external_id": "c0", "name": "C0"}])
    posts = jsonl(tmp_path / "p.jsonl", [
        {"external_id": f"p{i}", "client_id": "c0", "title": f"Logo for shop {i}",
         "description": "We need a simple logo for our bakery, budget $50.",
         "posted_at": "2026-11-01T00:00:00Z"} for i in range(60)])
    assert runner.invoke(args=["import", "clients", clients, "--no-progress"]).exit_code == 0
    r = runner.invoke(args=["import", "posts", posts, "--no-progress", "--chunk-size", "20"])
    assert r.exit_code == 0 and "imported 60, updated 0, unchanged 0, rejected 0" in r.stdout
    assert "1 scoring job(s) failed or were lost" in r.stderr and "flask sweep" in r.stderr
    unscored = [p.external_id for p in rows(app, JobPost) if p.scored_at is None]
    assert unscored == [f"p{i}" for i in range(20, 40)]  # the second chunk only
    assert runner.invoke(args=["sweep", "--delay", "0"]).exit_code == 0
    assert all(p.scored_at is not None for p in rows(app, JobPost))


def _statistics(app) -> dict[str, int]:
    """SQLite's planner statistics: rows of ``sqlite_stat1`` per table (none before the
    first ``ANALYZE``)."""
    with app.app_context(), session_scope() as s:
        if not s.execute(sa.text(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
            return {}
        return dict(s.execute(sa.text("SELECT tbl, count(*) FROM sqlite_stat1 GROUP BY tbl")).all())


def test_an_import_that_wrote_many_rows_leaves_planner_statistics(runner, app, tmp_path,
                                                                 monkeypatch):
    """SQLite never gathers statistics by itself (services.statistics): an import that wrote
    at least ``AFTER_ROWS`` rows analyses the tables it and its scoring wrote; a smaller one
    leaves them alone. ANALYZE's bound (``analysis_limit``) is back to SQLite's default after."""
    monkeypatch.setattr("app.services.statistics.AFTER_ROWS", 10)
    clients = jsonl(tmp_path / "c.jsonl", [client_row(i) for i in range(1, 4)])
    assert run(runner, "clients", clients).exit_code == 0
    assert _statistics(app) == {}  # 3 rows: below the threshold

    scam = ("Pay the $45 registration fee by Western Union first, then message me on Telegram "
            "@quickjobs to get your login for the data entry portal.")
    posts = [post_row(i, description=scam if i % 4 == 0 else f"Proofread my essay {i}.")
             for i in range(12)]
    r = run(runner, "posts", jsonl(tmp_path / "p.jsonl", posts))
    assert r.exit_code == 0 and "imported 12" in r.stdout
    with app.app_context(), session_scope() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Flag)) > 0  # scored, flagged
        assert s.execute(sa.text("PRAGMA analysis_limit")).scalar() == 0
    analysed = _statistics(app)
    assert {"job_post", "flag", "post_similarity_key"} <= set(analysed)
    assert "client" not in analysed  # only the tables this import wrote


def test_statistics_that_cannot_be_refreshed_do_not_fail_the_import(runner, app, tmp_path,
                                                                    dispatched, monkeypatch,
                                                                    caplog):
    """The rows are committed before the refresh: if it fails (a lock that did not come in
    time), the import still reports its counts and succeeds, with a warning."""
    from sqlalchemy.exc import OperationalError

    def locked(session, tables):  # noqa: ANN001, ANN202
        raise OperationalError("ANALYZE", {}, Exception("database is locked"))

    monkeypatch.setattr("app.services.statistics.AFTER_ROWS", 2)
    monkeypatch.setattr("app.services.statistics.refresh", locked)
    run(runner, "clients", jsonl(tmp_path / "c.jsonl", [client_row(1)]))
    r = run(runner, "posts", jsonl(tmp_path / "p.jsonl", [post_row(i) for i in range(3)]))
    assert r.exit_code == 0 and "imported 3, updated 0, unchanged 0, rejected 0" in r.stdout
    assert "planner statistics were not refreshed (OperationalError)" in caplog.text
    assert len(rows(app, JobPost)) == 3


def test_csv_progress_counts_records_not_lines(runner, app, tmp_path, dispatched):
    """Descriptions holding newlines make a CSV record span lines: the progress bar's total is
    the records, so it ends at 100% (it stopped at 68% when it counted lines)."""
    run(runner, "clients", jsonl(tmp_path / "c.jsonl", [client_row(1)]))
    header = "external_id,client_id,title,description,category,skills,budget,posted_at\n"
    body = "".join(f'p{i},c1,Post {i},"Line one\nline two\n\nline four",writing,,50,'
                   "2024-01-01T00:00:00Z\n" for i in range(4))
    (tmp_path / "p.csv").write_text(header + body, encoding="utf-8")
    r = runner.invoke(args=["import", "posts", str(tmp_path / "p.csv")])
    assert r.exit_code == 0, r.output
    assert "imported 4, updated 0, unchanged 0, rejected 0" in r.stdout
    final = r.stderr.split("import posts")[-1]
    assert "100%" in final and "4/4" in final, r.stderr


def test_jsonl_progress_total_skips_blank_lines(tmp_path):
    from app.cli.ingest import read_file

    path = tmp_path / "p.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n   \n{"a": 3}\n', encoding="utf-8")
    rows_, stream, total = read_file(str(path), "posts")
    try:
        assert total == 3 and len(list(rows_)) == 3
    finally:
        stream.close()
