"""Console latency under gunicorn on PostgreSQL: the queue page (first page, one filter),
the queue's search (a common and a rare term) and a case page, against a bare Jinja page
served by the same gunicorn (same app, login and middleware) in the same run; then the
plans of the queue and search queries. Prints figures; asserts nothing.

    .venv/bin/python bench/console_latency.py [--posts 200000] [--flags 20000]
        [--requests 400] [--concurrency 8] [--workers CPUS] [--rounds 4] [--keep]

Creates its own database on TEST_POSTGRES_URL's server (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), fills it with COPY, and drops it at
the end (unless --keep). Loopback only; a bounded number of requests.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from models.moderation import queue_key  # noqa: E402
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "benchmark password 0123"
CATEGORIES = ["web_mobile_software", "design_creative", "writing", "sales_marketing",
              "admin_support", "customer_service", "data_science_analytics", "translation"]
REASONS = ["scam", "policy", "miscategorised", "negative_client"]
WORDS = ("need help with logo website data entry translate article marketing campaign "
         "spreadsheet bookkeeping python react wordpress seo video editing telegram paypal "
         "remote urgent weekly budget experienced freelancer design brand report").split()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill(url: str, n_posts: int, n_flags: int) -> dict:
    """Clients, posts, feedback and flags with COPY (psycopg)."""
    import psycopg

    rnd = random.Random(7)
    now = datetime.now(timezone.utc)
    n_clients = max(n_posts // 5, 10)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    t0 = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy("COPY client (id, external_id, name, joined_at, payment_verified, "
                      "phone_verified, identity_verified, status, created_at, updated_at) "
                      "FROM STDIN") as cp:
            for i in range(1, n_clients + 1):
                cp.write_row((i, f"c{i}", f"Client {i} {rnd.choice(WORDS).title()} Ltd",
                              now - timedelta(days=rnd.randint(1, 2000)), rnd.random() < .7,
                              rnd.random() < .5, rnd.random() < .3, "active", now, now))
        with cur.copy("COPY job_post (id, external_id, client_id, title, description, category,"
                      " budget, posted_at, status, content_hash, scores, scored_at, "
                      "model_version, created_at, updated_at) FROM STDIN") as cp:
            for i in range(1, n_posts + 1):
                title = " ".join(rnd.choice(WORDS) for _ in range(5)).capitalize()
                desc = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(20, 80)))
                scores = json.dumps({"scam": round(rnd.random(), 3),
                                     "miscategorised": round(rnd.random(), 3),
                                     "policy": round(rnd.random(), 3)})
                posted = now - timedelta(hours=rnd.randint(1, 24 * 60))
                cp.write_row((i, f"p{i}", rnd.randint(1, n_clients), title, desc,
                              rnd.choice(CATEGORIES), rnd.randint(20, 5000), posted, "live",
                              uuid.uuid4().hex, scores, now, "bench-1", posted, posted))
        with cur.copy("COPY feedback (id, external_id, client_id, rating, comment, created_at, "
                      "negative, scored_at) FROM STDIN") as cp:
            for i in range(1, n_clients * 3 + 1):
                r = rnd.randint(1, 5)
                cp.write_row((i, f"f{i}", rnd.randint(1, n_clients), r, "ok " * rnd.randint(1, 9),
                              now - timedelta(days=rnd.randint(1, 300)),
                              round(1 - r / 5 + rnd.random() * .2, 3), now))
        # open flags (one per subject+reason) plus as many closed ones (history)
        used: set[tuple] = set()
        with cur.copy("COPY flag (id, subject_type, subject_id, client_id, post_id, reason, "
                      "score, model_version, evidence, policy_types, status, priority, queue_key,"
                      " version, created_at, updated_at) FROM STDIN") as cp:
            fid = 0
            for status, count in (("open", n_flags), ("dismissed", n_flags)):
                made = 0
                while made < count:
                    reason = rnd.choices(REASONS, weights=[3, 3, 3, 1])[0]
                    if reason == "negative_client":
                        cid = rnd.randint(1, n_clients)
                        key = ("client", cid, reason)
                        row = ("client", cid, cid, None)
                    else:
                        pid = rnd.randint(1, n_posts)
                        key = ("post", pid, reason)
                        row = ("post", pid, None, pid)
                    if status == "open" and key in used:
                        continue
                    used.add(key)
                    fid += 1
                    made += 1
                    score = round(.5 + rnd.random() / 2, 3)
                    ev = json.dumps([{"label": reason, "text": "telegram", "start": 0, "end": 8,
                                      "why": "moves off platform", "field": "description",
                                      "detector": reason, "kind": "rule"}])
                    client_id = row[2]
                    if client_id is None:
                        client_id = 0  # patched below
                    priority = round(score * 80 * rnd.random(), 3)
                    created = now - timedelta(minutes=rnd.randint(1, 60 * 24 * 7))
                    cp.write_row((fid, row[0], row[1], client_id or None, row[3], reason, score,
                                  f"{reason}-v1", ev,
                                  json.dumps(["off_platform"] if reason == "policy" else []),
                                  status, priority, queue_key(priority, created), 1, created,
                                  now))
        conn.commit()
    return {"clients": n_clients, "seconds": round(time.perf_counter() - t0, 1)}


#: extra indexes to try (PostgreSQL only); ``--with-indexes`` adds them first. The
#: schema's own (migration 0003: partial indexes on open flags by queue_key and by
#: reason, queue_key) serve the queue already.
PROPOSED_INDEXES: tuple[str, ...] = ()


def prepare(url: str, n_posts: int, n_flags: int, *, with_indexes: bool = False) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    import psycopg
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    # the flag CHECK needs client_id; fill() writes post flags with a NULL client first
    with psycopg.connect(dsn) as conn:
        conn.execute("ALTER TABLE flag ALTER COLUMN client_id DROP NOT NULL")
        conn.execute("ALTER TABLE flag DROP CONSTRAINT ck_flag_subject")
        conn.commit()
    info = fill(url, n_posts, n_flags)
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE flag f SET client_id = p.client_id FROM job_post p "
                     "WHERE f.post_id = p.id AND f.client_id IS NULL")
        conn.execute("ALTER TABLE flag ALTER COLUMN client_id SET NOT NULL")
        conn.execute("ALTER TABLE flag ADD CONSTRAINT ck_flag_subject CHECK ("
                     "(subject_type = 'post' AND post_id IS NOT NULL AND subject_id = post_id) OR "
                     "(subject_type = 'client' AND post_id IS NULL AND subject_id = client_id))")
        # decision history: every closed flag was dismissed, every third open one has a note
        conn.execute("INSERT INTO decision (flag_id, subject_type, subject_id, client_id, "
                     "post_id, moderator_id, action, reason, created_at) "
                     "SELECT id, subject_type, subject_id, client_id, post_id, NULL, "
                     "CASE WHEN status = 'open' THEN 'note' ELSE 'dismiss' END, 'bench', "
                     "created_at + interval '1 hour' FROM flag "
                     "WHERE status <> 'open' OR id % 3 = 0 ORDER BY id")
        for table in ("client", "job_post", "feedback", "flag", "decision"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
        if with_indexes:
            for ddl in PROPOSED_INDEXES:
                conn.execute(ddl)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    print(f"filled {n_posts} posts, {info['clients']} clients, {n_flags} open + {n_flags} "
          f"closed flags in {info['seconds']} s; decisions on every closed flag and on a "
          f"third of the open ones")
    from app.db import session_scope
    from app.services import users
    from app.services.audit import CLI
    from tests.helpers import make_app

    app = make_app(url)
    with app.app_context(), session_scope() as session:
        users.create_moderator(session, email="bench@example.com", password=PASSWORD,
                               role="admin", actor=CLI)


class Session:
    """A logged-in cookie for http.client."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict | None = None) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Cookie": self.cookie, **(headers or {})}
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read().decode()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                self.cookie = v.split(";", 1)[0]
        conn.close()
        return r.status, dict(r.getheaders()), data

    def login(self) -> None:
        _s, _h, html = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                          r'name="csrf_token" value="([^"]+)"', html)
        token = token.group(1) or token.group(2)
        status, _h, _ = self.request("POST", "/login", urlencode(
            {"email": "bench@example.com", "password": PASSWORD, "csrf_token": token}))
        assert status == 303, status


def load(port: int, cookie: str, path: str, total: int, concurrency: int,
         headers: dict[str, str] | None = None) -> dict:
    latencies: list[float] = []
    errors = []
    lock = threading.Lock()
    per = total // concurrency

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for _ in range(per):
            t = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie, **(headers or {})})
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t)
            if r.status != 200:
                errors.append(r.status)
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "wall": time.perf_counter() - start, "errors": len(errors)}


def summary(runs: list[dict]) -> dict:
    """p50/p95 over every request of every round; req/s = requests / time under load."""
    latencies = sorted(x for r in runs for x in r["latencies"])
    wall = sum(r["wall"] for r in runs)
    return {"n": len(latencies), "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * latencies[int(len(latencies) * .95) - 1],
            "rps": len(latencies) / wall, "errors": sum(r["errors"] for r in runs)}


def explain(url: str, searches: dict[str, str]) -> None:
    """Show the plans of the queue query (first page, one filter) and of the searches, as
    the app builds them (bound parameters, as psycopg sends them)."""
    from app.db import session_scope
    from app.services import queue
    from models.base import utcnow
    from tests.helpers import make_app
    import sqlalchemy as sa

    app = make_app(url)
    cases = {"queue query (reason=scam)": queue.Filters(reason="scam"),
             **{f"search query ({label})": queue.Filters(q=term)
                for label, term in searches.items()}}
    with app.app_context(), session_scope() as session:
        session.execute(sa.text("SET enable_seqscan = on"))
        for label, filters in cases.items():
            # the statement and bound values queue.page() runs for these filters
            stmt = queue._statement(queue._Shape.of(filters, None), 51)
            params = queue._params(filters, moderator_id=1, now=utcnow(), after=None)
            compiled = stmt.compile(dialect=session.get_bind().dialect)
            plan = session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF) " + str(compiled),
                compiled.construct_params(params)).all()
            print(f"{label} plan:")
            for (line,) in plan:
                print("   ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--flags", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    # sync workers: one per core measured best for every page on the 2-core machine
    # (docs/benchmarks.md); more workers only add context switches between them
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=4,
                        help="the pages take turns this many times (requests split evenly)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--database", help="measure an existing database that --keep left "
                        "(skips filling; it is not dropped)")
    parser.add_argument("--with-indexes", action="store_true",
                        help="add PROPOSED_INDEXES (not yet in a migration) before measuring")
    args = parser.parse_args()

    import sqlalchemy as sa

    os.environ["TRUSTDESK_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="trustdesk-bench-")
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = args.database or f"trustdesk_bench_{uuid.uuid4().hex[:6]}"
    if not args.database:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        if not args.database:
            prepare(url, args.posts, args.flags, with_indexes=args.with_indexes)
        print("indexes:", "schema + PROPOSED_INDEXES" if args.with_indexes else "schema only")
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": url, "TRUSTDESK_ENV": "development",
               "SECRET_KEY": "bench-secret-key-0123456789-0123456789-0123456789",
               "RATELIMIT_STORAGE_URI": "memory://"}
        env.pop("REDIS_URL", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--bind",
             f"127.0.0.1:{port}", "app:create_app()"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=.5).close()
                break
            except OSError:
                time.sleep(.2)
        s = Session(port)
        s.login()
        import psycopg
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            post_id = conn.execute("SELECT post_id FROM flag WHERE status = 'open' AND "
                                   "post_id IS NOT NULL ORDER BY priority DESC LIMIT 1"
                                   ).fetchone()[0]
            # a rare search term: the name of one client with an open flag
            rare = conn.execute("SELECT c.name FROM flag f JOIN client c ON c.id = f.client_id "
                                "WHERE f.status = 'open' ORDER BY f.id LIMIT 1").fetchone()[0]
        searches = {"common term": "telegram", "rare term": rare}
        targets = {"bare page": "/system/bare", "queue (reason=scam)": "/queue/?reason=scam",
                   "queue (search)": "/queue/?q=telegram",
                   "queue (search, rare)": "/queue/?" + urlencode({"q": rare}),
                   "case page": f"/posts/{post_id}"}
        for path in targets.values():  # warm up every worker
            for _ in range(args.workers * 2):
                status, _h, _b = s.request("GET", path)
                assert status == 200, (path, status)
        print(f"\ngunicorn --workers {args.workers}; {args.concurrency} client threads; "
              f"{args.requests} requests per page in {args.rounds} rounds; PostgreSQL; "
              f"loopback")
        # the pages take turns, round by round: on a shared, noisy machine a burst of
        # someone else's work then lands on every page alike, not on one
        runs: dict[str, list[dict]] = {label: [] for label in targets}
        for _round in range(args.rounds):
            for label, path in targets.items():
                runs[label].append(load(port, s.cookie, path, args.requests // args.rounds,
                                        args.concurrency))
        results = {label: summary(r) for label, r in runs.items()}
        base = results["bare page"]
        print(f"{'page':24} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'p50 x bare':>11} "
              f"{'req/s / bare':>13} {'errors':>7}")
        for label, r in results.items():
            print(f"{label:24} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['rps']:8.1f} "
                  f"{r['p50_ms'] / base['p50_ms']:11.2f} {r['rps'] / base['rps']:13.2f} "
                  f"{r['errors']:7d}")
        print()
        explain(url, searches)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if not (args.keep or args.database):
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"kept database {name}")


if __name__ == "__main__":
    main()
