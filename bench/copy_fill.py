"""Synthetic data filled with COPY (fast, random words: NOT the product's import path) and an
in-process HTTP load driver, for the benches that need many rows quickly and measure one page
or one query: bench/metrics_dashboard.py and bench/automation_refresh.py. The console's own
latency bench (bench/console_latency.py) builds its data through the product's generator and
import path instead (bench/console_data.py) and drives pages with wrk.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
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
