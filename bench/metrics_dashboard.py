"""The metrics dashboard under gunicorn on PostgreSQL: p50/p95 of /metrics (the whole
page, the default 30 days), of its htmx fragment for one reason, and of one CSV export, at
200,000 posts and 100,000 decisions by default. Prints figures; asserts nothing.

    .venv/bin/python bench/metrics_dashboard.py [--posts 200000] [--decisions 100000]
        [--requests 80] [--concurrency 2] [--workers CPUS] [--keep]

The figures come from the pre-aggregated counts (metrics_rollup, app/services/rollups.py):
the loader writes raw rows behind the services' back, so the bench builds the counts with
``rollups.rebuild`` (what ``flask metrics rebuild`` runs) and prints how long that took.
Fills its own database with bench/copy_fill.py's COPY loader (posts, clients,
feedback, flags: as many open flags as closed ones), then makes the decisions human
(5 moderators), closes the dismissed flags an hour after they were raised and adds QA
reviews of 5 % of the decisions. Every flag and decision falls in the last 7 days, inside
the dashboard's default window: the worst case for the page. Dropped at the end (unless
--keep).
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from copy_fill import (ADMIN_URL, Session, _free_port, load, prepare,  # noqa: E402
                             summary)


#: what the filter form's htmx request sends: the server answers the fragment only
HTMX = {"HX-Request": "true", "HX-Target": "metrics-results"}


def humanise(url: str) -> None:
    """Decisions by 5 moderators; dismissed flags closed; QA reviews of 5 %."""
    import psycopg

    from app.db import session_scope
    from app.services import users
    from app.services.audit import CLI
    from tests.helpers import make_app

    app = make_app(url)
    with app.app_context(), session_scope() as session:
        ids = [users.create_moderator(session, email=f"m{i}@example.com",
                                      password="benchmark password 0123", role="moderator",
                                      actor=CLI).id for i in range(5)]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        # the loader's decisions are rewritten in place: past the append-only triggers
        # (a superuser's session that fires no triggers)
        conn.execute("SET session_replication_role = replica")
        conn.execute(f"UPDATE decision SET moderator_id = (ARRAY{ids})[1 + id % 5]")
        conn.execute("UPDATE flag SET closed_at = created_at + interval '1 hour' "
                     "WHERE status <> 'open'")
        conn.execute(
            "INSERT INTO qa_review (decision_id, flag_id, subject_type, post_id, client_id, "
            "reason, first_moderator_id, first_label, sampled_at, status, reviewer_id, "
            "review_label, review_comment, reviewed_at) "
            "SELECT d.id, d.flag_id, d.subject_type, d.post_id, d.client_id, f.reason, "
            "d.moderator_id, 'not_violation', d.created_at, "
            "CASE WHEN d.id % 7 = 0 THEN 'disagreed' ELSE 'agreed' END, "
            f"(ARRAY{ids})[1 + (d.id + 1) % 5], "
            "CASE WHEN d.id % 7 = 0 THEN 'remove' ELSE 'not_violation' END, '', "
            "d.created_at + interval '2 hours' "
            "FROM decision d JOIN flag f ON f.id = d.flag_id "
            "WHERE d.action = 'dismiss' AND d.id % 20 = 0")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        n = conn.execute("SELECT count(*), count(*) FILTER (WHERE action = 'dismiss') "
                         "FROM decision").fetchone()
        posts = conn.execute("SELECT count(*) FROM job_post").fetchone()[0]
    print(f"database: {posts} posts, {n[0]} decisions ({n[1]} closing a flag), by 5 moderators")
    rebuild(url)


def compare_queries(url: str, rounds: int) -> None:
    """In one process, alternating: each figure from the rollups (app/services/metrics.py)
    and from the raw rows (tests/metrics_oracle.py, the queries the page ran before)."""
    import statistics as st

    from app.db import session_scope
    from app.services import metrics
    from tests import metrics_oracle as oracle
    from tests.helpers import make_app

    names = ("inbound", "backlog", "time_to_decision", "precision", "decisions_by_moderator",
             "automation")
    took: dict[tuple[str, str], list[float]] = {}
    with make_app(url).app_context(), session_scope() as session:
        f = metrics.MetricsFilters.from_args({})
        metrics.precision(session, f)  # warm: imports, the first connection
        for _ in range(rounds):
            for name in names:
                for label, module in (("rollups", metrics), ("raw rows", oracle)):
                    t0 = time.perf_counter()
                    getattr(module, name)(session, f)
                    took.setdefault((name, label), []).append(1000 * (time.perf_counter() - t0))
                    session.rollback()
    print(f"\nthe figures' queries in one process, median of {rounds} alternations (ms)")
    print(f"{'figure':24} {'rollups':>9} {'raw rows':>9} {'ratio':>7}")
    for name in names:
        a, b = st.median(took[(name, "rollups")]), st.median(took[(name, "raw rows")])
        print(f"{name:24} {a:9.1f} {b:9.1f} {b / a:7.1f}")
    a = sum(st.median(took[(n, "rollups")]) for n in names)
    b = sum(st.median(took[(n, "raw rows")]) for n in names)
    print(f"{'total':24} {a:9.1f} {b:9.1f} {b / a:7.1f}   (load {os.getloadavg()[0]:.1f})")


def rebuild(url: str) -> None:
    """The rollups of what the loader wrote (``flask metrics rebuild``)."""
    from app.db import session_scope
    from app.services import rollups
    from tests.helpers import make_app

    t0 = time.perf_counter()
    with make_app(url).app_context(), session_scope() as session:
        keys = rollups.rebuild(session)
    print(f"rollups rebuilt: {keys} counts in {time.perf_counter() - t0:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternations of the three requests (each round runs each once)")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", metavar="DATABASE",
                        help="a database an earlier --keep run filled: only rebuild the "
                             "rollups and measure (kept)")
    args = parser.parse_args()

    import sqlalchemy as sa

    os.environ["TRUSTDESK_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="trustdesk-bench-")
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = args.reuse or f"trustdesk_bench_{uuid.uuid4().hex[:6]}"
    args.keep = args.keep or bool(args.reuse)
    if not args.reuse:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        # copy_fill's loader: n open + n dismissed flags; a decision on every
        # dismissed one and a note on every third open one -> decisions = n * 4 / 3
        t0 = time.perf_counter()
        if args.reuse:
            rebuild(url)
        else:
            prepare(url, args.posts, max(args.decisions * 3 // 4, 10))
            humanise(url)
        print(f"filled in {time.perf_counter() - t0:.0f} s")
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": url, "TRUSTDESK_ENV": "development",
               "SECRET_KEY": "bench-secret-key-0123456789-0123456789-0123456789",
               "RATELIMIT_STORAGE_URI": "memory://"}
        env.pop("REDIS_URL", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--bind",
             f"127.0.0.1:{port}", "--timeout", "120", "app:create_app()"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=.5).close()
                break
            except OSError:
                time.sleep(.2)
        s = Session(port)
        s.login()
        targets = {"/metrics/ (page, 30 days)": "/metrics/",
                   "/metrics/ (htmx, scam)": "/metrics/?" + urlencode({"reason": "scam"}),
                   "inbound.csv": "/metrics/export/inbound.csv"}
        for path in targets.values():
            for _ in range(args.workers * 2):
                status, _h, _b = s.request("GET", path)
                assert status == 200, (path, status)
        print(f"\ngunicorn --workers {args.workers}; {args.concurrency} client threads; "
              f"{args.requests} requests per round; {args.rounds} rounds alternating the "
              "requests; PostgreSQL; loopback; rollups")
        print(f"{'round':>5} {'request':28} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>7} "
              f"{'errors':>7} {'load 1 min':>10}")
        per: dict[str, list[dict]] = {label: [] for label in targets}
        for round_ in range(1, args.rounds + 1):
            for label, path in targets.items():
                r = summary([load(port, s.cookie, path, args.requests, args.concurrency,
                                  HTMX if "htmx" in label else None)])
                per[label].append(r)
                print(f"{round_:5d} {label:28} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} "
                      f"{r['rps']:7.1f} {r['errors']:7d} {os.getloadavg()[0]:10.2f}")
        print("\nmedian over the rounds")
        for label, runs in per.items():
            print(f"      {label:28} {statistics.median(r['p50_ms'] for r in runs):8.1f} "
                  f"{statistics.median(r['p95_ms'] for r in runs):8.1f}")
        server.terminate()
        server.wait(timeout=10)
        server = None
        compare_queries(url, args.rounds)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if not args.keep:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"kept database {name}")


if __name__ == "__main__":
    main()
