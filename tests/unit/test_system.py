"""The admin system page: failed jobs, requeue, sweep status, the bare benchmark page."""
from __future__ import annotations

import json
from pathlib import Path

from tests.unit.console_fixtures import as_user, db, staff, token  # noqa: F401


def test_admins_only(client, db, staff):
    as_user(client, "moderator@example.com")
    assert client.get("/system/").status_code == 403
    assert client.get("/system/bare").status_code == 403


def test_inline_mode_says_so_and_shows_the_sweep(client, db, staff):
    as_user(client, "admin@example.com")
    html = client.get("/system/").text
    assert "Jobs run inline (no Redis configured)" in html
    assert "posts unscored" in html and "Sweep" in html
    # nothing runs it every SWEEP_INTERVAL_SECONDS without Redis: the page does not claim so
    assert "Runs every" not in html and "nothing runs the sweep on a schedule" in html
    assert "<code>flask sweep --delay 0</code>" in html


def test_inline_mode_with_the_embedded_tick_says_the_console_runs_the_sweep(client, db, staff,
                                                                            app):
    app.config["EMBEDDED_TICK_SECONDS"] = 60  # (set after start-up: no tick thread here)
    as_user(client, "admin@example.com")
    html = client.get("/system/").text
    assert "the console runs it itself every 60 s" in html
    assert "nothing runs the sweep on a schedule" not in html


def test_pending_marketplace_events_without_a_webhook_url_are_explained(client, db, staff, app):
    from models import OutboxEvent

    as_user(client, "admin@example.com")
    assert "Webhook delivery is off" not in client.get("/system/").text  # nothing waits
    for i in range(2):
        db.add(OutboxEvent(event_type="post.removed", subject_type="post", subject_id=1,
                           payload={}, idempotency_key=f"k{i}"))
    db.commit()
    html = client.get("/system/").text
    assert "Webhook delivery is off" in html and "2 marketplace events wait" in html
    app.config["MARKETPLACE_WEBHOOK_URL"] = "http://127.0.0.1:9/hook"
    assert "Webhook delivery is off" not in client.get("/system/").text


def test_requeue_without_redis_is_a_clear_no(client, db, staff):
    as_user(client, "admin@example.com")
    r = client.post("/system/jobs/score-post-1/requeue", data={"csrf_token": token(client)},
                    headers={"HX-Request": "true", "HX-Target": "failed-jobs"})
    assert r.status_code == 404 and "not in a failed registry" in r.text


def test_failed_jobs_are_listed_with_requeue(client, db, staff, monkeypatch):
    from datetime import datetime, timezone

    from app.jobs import enqueue, failed
    from app.system import routes

    rows = [{"id": "score-post-7-abc", "queue": "trustdesk-scoring", "func": "app.jobs.tasks.x",
             "args": (7,), "ended_at": datetime.now(timezone.utc),
             "error": "ValueError: <boom>", "description": "app.jobs.tasks.score_posts([7],)"}]
    monkeypatch.setattr(enqueue, "redis_url", lambda: "redis://example.invalid/0")
    monkeypatch.setattr(failed, "failed_jobs", lambda: rows)
    monkeypatch.setattr(routes, "_redis_error", lambda: None)
    as_user(client, "admin@example.com")
    html = client.get("/system/").text
    assert "score-post-7-abc" in html and "ValueError: &lt;boom&gt;" in html
    assert "Requeue score-post-7-abc" in html


def test_bare_page(client, db, staff):
    as_user(client, "admin@example.com")
    r = client.get("/system/bare")
    assert r.status_code == 200 and "<p>ok</p>" in r.text


def test_without_redis_the_page_shows_the_last_flask_sweep_run(client, db, staff, app, runner):
    """``flask sweep`` from cron is another process: its report reaches the page through the
    instance folder."""
    stored = Path(app.instance_path) / "sweep-last.json"
    stored.unlink(missing_ok=True)  # (the test session shares one instance folder)
    app.extensions.pop("trustdesk_sweep_last", None)
    as_user(client, "admin@example.com")
    assert "No sweep run recorded yet." in client.get("/system/").text
    result = runner.invoke(args=["sweep", "--delay", "0"])
    assert result.exit_code == 0, result.output
    app.extensions.pop("trustdesk_sweep_last", None)  # as if the web process had not run it
    html = client.get("/system/").text
    assert "Last run" in html and "0 posts" in html and "No sweep run recorded" not in html
    at = json.loads(stored.read_text())["at"]  # shown to the minute, in UTC
    assert f"Last run {at[:10]} {at[11:16]} UTC:" in html
    assert json.loads(stored.read_text())["posts"] == 0
    assert not [p for p in Path(app.instance_path).iterdir() if p.name.startswith(".sweep-last")]
