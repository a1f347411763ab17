"""Issue 27's operations on PostgreSQL, in process (no HTTP: the work of the request):

- ``bulk``: bulk dismiss and bulk remove of 200 open post flags (``moderation.bulk``),
  wall time and SQL statements per run;
- ``system``: the System page's backlog (``sweep.status``) over N posts (default
  1,000,000, filled by ``generate_series``, analysed);
- ``export``: the audit CSV export over N audit events (default 1,000,000): time to the
  first chunk, to the end, bytes, and the peak of Python's allocations (tracemalloc);
- ``client``: the client page (a client with 50 posts and 200 feedbacks) through the
  test client, logged in as a moderator: wall time and SQL statements per request.

Each prints min/median/max over its repeats. A throwaway database is created and dropped.

    .venv/bin/python bench/scale_ops.py [bulk] [system] [export] [client] [--posts N]
        [--events N] [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics as stats
import sys
import time
import tracemalloc
from contextlib import contextmanager

import sqlalchemy as sa

from harness import ROOT, migrate, postgres_database

sys.path.insert(0, str(ROOT))
from app import create_app  # noqa: E402
from app.db import get_engine, session_scope  # noqa: E402
from app.services.audit import Actor  # noqa: E402


def figures(name: str, values: list[float], unit: str = "ms") -> None:
    print(f"{name}: min {min(values):.1f} median {stats.median(values):.1f} "
          f"max {max(values):.1f} {unit} (n={len(values)})", flush=True)


@contextmanager
def statements():
    """Counts the SQL statements the block sends (one round trip each)."""
    seen = [0]

    def count(*_args):  # noqa: ANN002
        seen[0] += 1
    engine = get_engine()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


FILL_CLIENTS = """
INSERT INTO client (external_id, name, country, joined_at, status, payment_verified,
                    phone_verified, identity_verified, created_at, updated_at)
SELECT 'bc-' || g, 'Bench client ' || g, 'DE', now(), 'active', true, true, false, now(),
       now()
FROM generate_series(1, CAST(:n AS int)) g"""
FILL_POSTS = """
INSERT INTO job_post (external_id, client_id, title, description, category, skills,
    budget, posted_at, status, content_hash, scores, scored_at, model_version,
    created_at, updated_at)
SELECT 'bp-' || g, (SELECT min(id) FROM client) + (g % CAST(:clients AS int)), 'Need a logo ' || g,
       'A simple logo for my bakery, number ' || g, 'design_creative', '[]', 50,
       now(), 'live', md5(g::text), '{}', CASE WHEN g % 100 = 0 THEN NULL ELSE now() END,
       'm-1', now(), now()
FROM generate_series(CAST(:first AS int), CAST(:last AS int)) g"""


def fill_posts(n: int, clients: int = 1000, first: int = 1) -> None:
    with session_scope() as s:
        if first == 1:
            s.execute(sa.text(FILL_CLIENTS), {"n": clients})
        step = 100_000
        for start in range(first, first + n, step):
            s.execute(sa.text(FILL_POSTS), {"clients": clients, "first": start,
                                            "last": min(start + step - 1, first + n - 1)})
            s.commit()
        s.execute(sa.text("ANALYZE client, job_post"))
        s.commit()


def bench_bulk(repeat: int) -> None:
    from app.services import moderation
    from app.services.users import create_moderator
    from models import Flag, JobPost

    with session_scope() as s:
        mod = create_moderator(s, email="bench-bulk@example.com", password="bench-password-123",
                               role="moderator", actor=Actor("cli"))
        s.commit()
        actor = Actor.of(mod)
    fill_posts(10_000)
    for action in ("dismiss", "remove"):
        times, counts = [], []
        for run in range(repeat):
            with session_scope() as s:
                posts = s.exec(sa.select(JobPost.id, JobPost.client_id)
                               .where(JobPost.status == "live")
                               .order_by(JobPost.id).offset(200 * (run + 1) * 2)
                               .limit(200)).all()
                flags = [Flag(subject_type="post", subject_id=p, client_id=c, post_id=p,
                              reason="scam", score=0.9, model_version="m-1", evidence=[],
                              policy_types=[], priority=50.0) for p, c in posts]
                s.add_all(flags)
                s.commit()
                items = [(f.id, f.version) for f in flags]
            with session_scope() as s, statements() as seen:
                t0 = time.perf_counter()
                done = moderation.bulk(s, action=action, items=items, actor=actor,
                                       reason_code="scam" if action == "remove" else None)
                times.append((time.perf_counter() - t0) * 1000)
                counts.append(seen[0])
                assert len(done) == 200
        figures(f"bulk {action} of 200", times)
        figures(f"bulk {action} of 200: SQL statements", counts, "")


def bench_system(posts: int, repeat: int) -> None:
    from app.services import sweep

    fill_posts(posts)
    times = []
    for _ in range(repeat):
        with session_scope() as s:
            t0 = time.perf_counter()
            status = sweep.status(s)
            times.append((time.perf_counter() - t0) * 1000)
    print(f"backlog: {status['backlog']} estimated: {sorted(status.get('estimated', ()))}")
    figures(f"system status at {posts:,} posts", times)


FILL_EVENTS = """
INSERT INTO audit_event (at, actor, actor_id, action, subject_type, subject_id, before, after)
SELECT now() - (g || ' seconds')::interval, 'moderator:bench@example.com', NULL,
       CASE WHEN g % 3 = 0 THEN 'post.dismiss' ELSE 'flag.claim' END, 'post', g::text,
       NULL, json_build_object('flag', g, 'decision', g, 'bulk', true)
FROM generate_series(CAST(:first AS int), CAST(:last AS int)) g"""


def bench_export(events: int, repeat: int, app) -> None:  # noqa: ANN001
    from app.services import audit_log

    with session_scope() as s:
        for start in range(1, events + 1, 100_000):
            s.execute(sa.text(FILL_EVENTS), {"first": start,
                                             "last": min(start + 99_999, events)})
            s.commit()
        s.execute(sa.text("ANALYZE audit_event"))
        s.commit()
    first, total, peaks = [], [], []
    size = 0
    for run in range(repeat + 1):
        traced = run == repeat  # the last run measures memory (tracemalloc slows it down)
        with app.test_request_context(), session_scope() as s:
            if traced:
                tracemalloc.start()
            t0 = time.perf_counter()
            chunks = audit_log.export_csv(s, filters=audit_log.AuditFilters())
            size = len(next(chunks).encode())
            size += len(next(chunks).encode())
            elapsed_first = (time.perf_counter() - t0) * 1000
            for chunk in chunks:
                size += len(chunk.encode())
            elapsed = (time.perf_counter() - t0) * 1000
            if traced:
                peaks.append(tracemalloc.get_traced_memory()[1] / 1e6)
                tracemalloc.stop()
            else:
                first.append(elapsed_first)
                total.append(elapsed)
    print(f"export of {events:,} events: {size / 1e6:.1f} MB of CSV")
    figures("export: header and first 1,000 rows", first)
    figures("export: whole file", total)
    figures("export: peak Python allocations (one traced run)", peaks, "MB")


def bench_client(repeat: int, app) -> None:  # noqa: ANN001
    from app.services.users import create_moderator

    fill_posts(50_000)  # 50 posts a client
    with session_scope() as s:
        create_moderator(s, email="bench-client@example.com", password="bench-password-123",
                         role="moderator", actor=Actor("cli"))
        client_id = s.execute(sa.text("SELECT id FROM client ORDER BY id LIMIT 1")).scalar()
        s.execute(sa.text("""
            INSERT INTO feedback (external_id, client_id, freelancer_ref, contract_ref, rating,
                                  comment, created_at, negative, scored_at)
            SELECT 'bf-' || g, :c, 'fr-' || g, 'ct-' || g, 1 + g % 5,
                   'Paid late and rude, number ' || g, now() - (g || ' hours')::interval,
                   (g % 10) / 10.0, now()
            FROM generate_series(1, 200) g"""), {"c": client_id})
        s.commit()
        posts = s.execute(sa.text("SELECT count(*) FROM job_post WHERE client_id = :c"),
                          {"c": client_id}).scalar()
        feedback = s.execute(sa.text("SELECT count(*) FROM feedback WHERE client_id = :c"),
                             {"c": client_id}).scalar()
    print(f"client #{client_id}: {posts} posts, {feedback} feedbacks")
    from tests.helpers import login

    web = app.test_client()
    r = login(web, "bench-client@example.com", "bench-password-123")
    assert r.status_code in (302, 303), r.status_code
    times, counts = [], []
    for i in range(repeat * 10):
        with statements() as seen:
            t0 = time.perf_counter()
            r = web.get(f"/clients/{client_id}")
            elapsed = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, r.status_code
        if i >= 2:  # warm
            times.append(elapsed)
            counts.append(seen[0])
    figures("client page", times)
    print(f"client page: p95 {sorted(times)[int(len(times) * .95) - 1]:.1f} ms")
    figures("client page: SQL statements", counts, "")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("what", nargs="*", default=["bulk", "system", "export", "client"])
    p.add_argument("--posts", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    for what in args.what:
        with postgres_database() as url:
            migrate(url)
            app = create_app({"DATABASE_URL": url, "RATELIMIT_STORAGE_URI": "memory://",
                              "SECRET_KEY": "bench-secret-0123456789-0123456789-0123",
                              "EMBEDDED_TICK_SECONDS": 0})
            with app.app_context():
                try:
                    if what == "bulk":
                        bench_bulk(args.repeat)
                    elif what == "system":
                        bench_system(args.posts, args.repeat)
                    elif what == "export":
                        bench_export(args.events, args.repeat, app)
                    elif what == "client":
                        bench_client(args.repeat, app)
                finally:
                    get_engine().dispose()


if __name__ == "__main__":
    main()
