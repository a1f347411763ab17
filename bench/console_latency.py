"""Console pages against a real bare page, under gunicorn on PostgreSQL, driven by ``wrk``.

For each size (``--sizes``, posts; default 20000,200000): the data is the demo generator's,
loaded through ``flask import`` and scored by the classifiers (bench/console_data.py; a
template database kept between runs, cloned for each run). Two servers run side by side
under the same gunicorn settings (``--workers`` sync workers, ``TRUSTDESK_ENV=production``):

- **A**, the console (``app:create_app()``), logged in as an admin;
- **B**, the bare page: a separate minimal Flask + Jinja app (bench/bare_app.py) serving a
  byte-identical static copy of the console's default queue page (checked).

The pages: the default queue, each filter, three searches (common, rare, absent), the case
page, a client page (a client given 50 posts and 200 feedbacks in the run's clone),
``/system/`` and ``/metrics/``. Every page is measured ``--rounds`` times, A then B each round (``wrk -c CONCURRENCY`` for
``--seconds`` each), so a burst of someone else's work on the shared machine lands on both
sides. Prints, per page, min/median/max requests/s of A, the median p50/p95/p99 of A, and
the ratio A/B (requests/s of A over the B run right after it: min/median/max). Then the
plans (EXPLAIN ANALYZE) of the queue's search for each term. Asserts nothing.

    apt-get install -y wrk      # the load generator (Debian package)
    .venv/bin/python bench/console_latency.py [--sizes 20000,200000,1000000]
        [--rounds 3] [--seconds 5] [--concurrency 8] [--workers 2] [--pages queue,search]
        [--root /path/to/other/checkout]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

from harness import ROOT, free_port, wait_port
import console_data
from console_data import ADMIN_EMAIL, PASSWORD

#: wrk prints one JSON line of its figures at the end (latency in microseconds)
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %f, "errors": %d, "non2xx": %d, '
    .. '"p50": %d, "p95": %d, "p99": %d}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


class Client:
    """A logged-in cookie, over plain sockets (http.client)."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookies else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, value = v.split(";", 1)[0].partition("=")
                self.cookies[name] = value
        conn.close()
        return r.status, data

    def login(self) -> None:
        _s, html = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html).group(1).decode()
        status, _ = self.request("POST", "/login", urlencode(
            {"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token}))
        assert status == 303, status


def serve(app: str, env: dict, workers: int, cwd: Path, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", app], cwd=cwd, env=env, stdout=log.open("w"),
        stderr=subprocess.STDOUT)
    wait_port(port)
    return proc, port


def serve_both(url: str, tmp: Path, workers: int):  # noqa: ANN201
    """A (the console on ``url``, production settings) and B (the bare page: a copy of A's
    queue page as the bench user sees it), each under gunicorn with ``workers`` sync
    workers. Returns (A's process, B's process, the logged-in client of A, the page); each
    process carries its ``port``."""
    env = {**os.environ, "DATABASE_URL": url, "TRUSTDESK_ENV": "production",
           "SECRET_KEY": "bench-secret-key-0123456789-0123456789-0123456789",
           "SESSION_COOKIE_SECURE": "0", "RATELIMIT_STORAGE_URI": "memory://",
           "TRUSTDESK_INSTANCE_DIR": str(tmp / "instance")}
    env.pop("REDIS_URL", None)
    console, console.port = serve("app:create_app()", env, workers, ROOT, tmp / "console.log")
    me = Client(console.port)
    me.login()
    status, html = me.request("GET", "/queue/")
    assert status == 200, status
    (tmp / "queue.html").write_bytes(html)
    bare, bare.port = serve("bare_app:create_app()", {**env, "BARE_HTML": str(tmp / "queue.html")},
                            workers, ROOT / "bench", tmp / "bare.log")
    return console, bare, me, html


def wrk(port: int, path: str, *, cookie: str, seconds: int, concurrency: int,
        script: Path) -> dict:
    cmd = ["wrk", "-t", "2", "-c", str(concurrency), "-d", f"{seconds}s", "--timeout", "10s",
           "-s", str(script), f"http://127.0.0.1:{port}{path}"]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    figures = json.loads(out.split("WRK ", 1)[1].splitlines()[0])
    figures["rps"] = figures["requests"] / figures["seconds"]
    return figures


def client_of_size(url: str, posts: int = 50, feedbacks: int = 200) -> int:
    """A client with ``posts`` posts and ``feedbacks`` feedbacks (the issue's client page),
    made in the run's clone by moving other clients' posts (with their flags) and
    feedbacks to the client that has the most posts; its id."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        client = conn.execute(sa.text(
            "SELECT client_id FROM job_post GROUP BY client_id "
            "ORDER BY count(*) DESC, client_id LIMIT 1")).scalar()
        moved = sa.text(
            "SELECT id FROM job_post WHERE client_id <> :c ORDER BY id LIMIT "
            "greatest(0, :n - (SELECT count(*) FROM job_post WHERE client_id = :c))")
        ids = list(conn.execute(moved, {"c": client, "n": posts}).scalars())
        conn.execute(sa.text("UPDATE job_post SET client_id = :c WHERE id = ANY(:ids)"),
                     {"c": client, "ids": ids})
        conn.execute(sa.text("UPDATE flag SET client_id = :c WHERE post_id = ANY(:ids)"),
                     {"c": client, "ids": ids})
        conn.execute(sa.text(
            "UPDATE feedback SET client_id = :c WHERE id IN (SELECT id FROM feedback "
            "WHERE client_id <> :c ORDER BY id LIMIT greatest(0, :n - "
            "(SELECT count(*) FROM feedback WHERE client_id = :c)))"),
            {"c": client, "n": feedbacks})
    engine.dispose()
    return client


def pages_for(url: str, moderator_id: int, client_id: int) -> dict[str, str]:
    """The console pages measured, picked from the data."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        post_id = conn.execute(sa.text(
            "SELECT post_id FROM flag WHERE status = 'open' AND post_id IS NOT NULL "
            "ORDER BY queue_key DESC LIMIT 1")).scalar()
        category = conn.execute(sa.text(
            "SELECT p.category FROM flag f JOIN job_post p ON p.id = f.post_id "
            "WHERE f.status = 'open' AND p.category IS NOT NULL GROUP BY p.category "
            "ORDER BY count(*) DESC LIMIT 1")).scalar()
        # a rare term: the word (5 letters or more) of the fewest open-flagged posts' titles
        rare = conn.execute(sa.text(
            "SELECT w FROM (SELECT lower(regexp_split_to_table(p.title, '[^A-Za-z]+')) AS w "
            "FROM flag f JOIN job_post p ON p.id = f.post_id WHERE f.status = 'open') t "
            "WHERE length(w) >= 5 GROUP BY w ORDER BY count(*), w LIMIT 1")).scalar()
    engine.dispose()
    return {
        "queue (default)": "/queue/",
        "queue reason=scam": "/queue/?reason=scam",
        f"queue category={category}": "/queue/?" + urlencode({"category": category}),
        "queue policy=off_platform": "/queue/?policy=off_platform",
        "queue claim=mine": "/queue/?claim=mine",
        "queue q=logo": "/queue/?q=logo",
        "case page": f"/posts/{post_id}",
        "search common (telegram)": "/queue/?q=telegram",
        f"search rare ({rare})": "/queue/?" + urlencode({"q": rare}),
        "search absent (zqxjvkw)": "/queue/?q=zqxjvkw",
        "client page (50 posts, 200 fb)": f"/clients/{client_id}",
        "/system/": "/system/",
        "/metrics/": "/metrics/",
    }


def claim_some(url: str, n: int = 60) -> int:
    """The bench user holds ``n`` open flags for a day (for ``claim=mine``); its id."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        me = conn.execute(sa.text("SELECT id FROM moderator WHERE email = :e"),
                          {"e": ADMIN_EMAIL}).scalar()
        conn.execute(sa.text(
            "UPDATE flag SET claimed_by = :me, claimed_until = now() + interval '1 day' "
            "WHERE id IN (SELECT id FROM flag WHERE status = 'open' ORDER BY id LIMIT :n)"),
            {"me": me, "n": n})
    engine.dispose()
    return me


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_size(posts: int, args, tmp: Path, script: Path) -> None:  # noqa: ANN001
    template = console_data.ensure_template(posts)
    name = f"tdbench_run_{uuid.uuid4().hex[:8]}"
    url = console_data.clone(template, name)
    procs: list[subprocess.Popen] = []
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            open_flags, n_posts = conn.execute(sa.text(
                "SELECT (SELECT count(*) FROM flag WHERE status = 'open'), "
                "(SELECT count(*) FROM job_post)")).one()
        engine.dispose()
        moderator_id = claim_some(url)
        client_id = client_of_size(url)
        console, bare, me, html = serve_both(url, tmp, args.workers)
        procs += [console, bare]
        a_port, b_port = me.port, bare.port
        _s, copy = Client(b_port).request("GET", "/")
        assert copy == html, "the bare page is not a byte-identical copy of the queue page"
        pages = pages_for(url, moderator_id, client_id)
        if args.pages:
            pages = {k: v for k, v in pages.items() if any(p in k for p in args.pages)}
        for path in pages.values():  # warm every worker, and check each page answers
            for _ in range(args.workers * 3):
                status, _b = me.request("GET", path)
                assert status == 200, (path, status)
        print(f"\n{n_posts:,} posts, {open_flags:,} open flags ({open_flags / n_posts:.0%}); "
              f"gunicorn --workers {args.workers} (sync), TRUSTDESK_ENV=production; wrk -c "
              f"{args.concurrency} for {args.seconds} s, A then B, {args.rounds} rounds; "
              f"bare page {len(html):,} bytes; load average before: {load_average()}",
              flush=True)
        print(f"{'page':34} {'A req/s min/med/max':>22} {'p50':>6} {'p95':>6} {'p99':>6} "
              f"{'B req/s med':>11} {'A/B min/med/max':>17}  err")
        for label, path in pages.items():
            a_runs, b_runs = [], []
            for _round in range(args.rounds):
                a_runs.append(wrk(a_port, path, cookie=me.cookie, seconds=args.seconds,
                                  concurrency=args.concurrency, script=script))
                b_runs.append(wrk(b_port, "/", cookie="", seconds=args.seconds,
                                  concurrency=args.concurrency, script=script))
            ratios = [a["rps"] / b["rps"] for a, b in zip(a_runs, b_runs)]
            med = {k: statistics.median(r[k] for r in a_runs) / 1000 for k in ("p50", "p95", "p99")}
            errors = sum(r["errors"] + r["non2xx"] for r in a_runs)
            print(f"{label[:34]:34} {spread([r['rps'] for r in a_runs]):>22} {med['p50']:6.1f} "
                  f"{med['p95']:6.1f} {med['p99']:6.1f} "
                  f"{statistics.median(r['rps'] for r in b_runs):11.0f} "
                  f"{spread(ratios, '{:.3f}'):>17}  {errors}", flush=True)
        print(f"load average after: {load_average()}")
        if args.explain:
            explain(url, {k: v for k, v in pages.items() if "?q=" in v})
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        console_data.drop(name)


def explain(url: str, pages: dict[str, str]) -> None:
    """EXPLAIN ANALYZE of the queue's list query for each search, as the app builds it."""
    from urllib.parse import parse_qs, urlsplit

    from app.db import session_scope
    from app.services import queue
    from models.base import utcnow
    from tests.helpers import make_app

    app = make_app(url)
    with app.app_context(), session_scope() as session:
        for label, path in pages.items():
            args = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
            filters = queue.Filters.from_args(args)
            stmt = queue._statement(queue._Shape.of(filters, None), 51)
            params = queue._params(filters, moderator_id=1, now=utcnow(), after=None)
            compiled = stmt.compile(dialect=session.get_bind().dialect)
            plan = session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS OFF) " + str(compiled),
                compiled.construct_params(params)).all()
            print(f"\n{label} plan:")
            for (line,) in plan:
                print("   ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", type=lambda s: [p for p in s.split(",") if p],
                        help="only the pages whose label contains one of these")
    parser.add_argument("--explain", action="store_true", help="print the searches' plans")
    parser.add_argument("--root", type=Path, default=None,
                        help="serve another checkout's console (e.g. a git archive of the "
                             "commit before a change) on the same data")
    parser.add_argument("--drop-templates", action="store_true",
                        help="drop the cached template databases and stop")
    args = parser.parse_args()
    if args.root:
        global ROOT
        ROOT = args.root.resolve()
    if args.drop_templates:
        print("dropped:", ", ".join(console_data.drop_templates()) or "none")
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="tdbench-console-") as tmpdir:
        tmp = Path(tmpdir)
        script = tmp / "report.lua"
        script.write_text(WRK_REPORT)
        print(f"{os.cpu_count()} cores; load average {load_average()}")
        for size in (int(s) for s in args.sizes.split(",")):
            run_size(size, args, tmp, script)


if __name__ == "__main__":
    if str(Path(__file__).parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent))
    main()
