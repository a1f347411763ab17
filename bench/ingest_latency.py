"""Ingest-to-flag latency with a real worker at a steady rate.

PUTs scam posts to the API under gunicorn (PostgreSQL + Redis + one `flask worker`) at a
steady rate (default 20 posts/s for 30 s) and measures, per post, the time from sending
the request to its flag being committed - polled from the database every 5 ms - and the
API's own response time. Prints p50/p95. Loopback only; bounded; cleans up after itself.

    .venv/bin/python bench/ingest_latency.py [--rate 20] [--seconds 30]
"""
from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from harness import REDIS_URL, Stack, migrate, postgres_database, summary_ms

SCAM_TITLE = "Data entry from home - $500/day"
SCAM_TEXT = ("No experience needed. Contact our hiring manager on Telegram @hr_jobs_{n} to start "
             "today. You must buy the $99 starter kit first, refunded with your first paycheck.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--coalesce", type=int, default=64,
                    help="SCORING_COALESCE for the worker (0 = one post per job)")
    ap.add_argument("--timeline", action="store_true", help="print every post's latency")
    args = ap.parse_args()
    total = int(args.rate * args.seconds)

    with postgres_database() as db_url, tempfile.TemporaryDirectory() as tmp:
        migrate(db_url)
        stack = Stack(db_url, Path(tmp), REDIS_URL=REDIS_URL,
                      SCORING_COALESCE=str(args.coalesce))
        try:
            token = stack.flask("tokens", "create", "bench").strip().splitlines()[-1]
            base = stack.gunicorn(workers=2, threads=4)
            stack.worker()
            stack.wait_for_workers(1)  # models loaded, listening
            engine = sa.create_engine(db_url)
            sent_at: dict[str, float] = {}
            flagged_at: dict[str, float] = {}
            api_times: list[float] = []
            done = threading.Event()

            def poll() -> None:
                # incremental by primary key: cheap enough to run every 5 ms
                query = sa.text("SELECT f.id, p.external_id FROM flag f JOIN job_post p"
                                " ON p.id = f.post_id WHERE f.reason = 'scam' AND f.id > :last"
                                " ORDER BY f.id")
                last = 0
                with engine.connect() as conn:
                    while not done.is_set():
                        rows = conn.execute(query, {"last": last}).all()
                        conn.commit()
                        now = time.perf_counter()
                        for flag_id, ext in rows:
                            flagged_at.setdefault(ext, now)
                            last = max(last, flag_id)
                        time.sleep(0.005)

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            host = urlsplit(base)
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            conn.request("PUT", "/api/v1/clients/bench-client", json.dumps({"name": "Bench"}),
                         headers)
            conn.getresponse().read()
            start = time.perf_counter()
            for i in range(total):
                target = start + i / args.rate
                time.sleep(max(0.0, target - time.perf_counter()))
                ext = f"bench-{i}"
                body = json.dumps({"client_id": "bench-client", "title": SCAM_TITLE,
                                   "description": SCAM_TEXT.format(n=i),
                                   "category": "admin_support",
                                   "posted_at": datetime.now(timezone.utc).isoformat()})
                t0 = time.perf_counter()
                sent_at[ext] = t0
                conn.request("PUT", f"/api/v1/posts/{ext}", body, headers)
                response = conn.getresponse()
                response.read()
                api_times.append(time.perf_counter() - t0)
                if response.status != 201:
                    raise SystemExit(f"PUT {ext}: HTTP {response.status}")
            deadline = time.perf_counter() + 30
            while len(flagged_at) < total and time.perf_counter() < deadline:
                time.sleep(0.05)
            done.set()
            poller.join()
            achieved = total / (max(sent_at.values()) - start)
            latencies = [flagged_at[e] - sent_at[e] for e in sent_at if e in flagged_at]
            print(f"ingest-to-flag at {args.rate:g} posts/s for {args.seconds:g} s "
                  f"(achieved {achieved:.1f}/s; PostgreSQL + Redis + 1 worker; poll every 5 ms; "
                  f"SCORING_COALESCE={args.coalesce})")
            print(f"  flagged {len(latencies)}/{total}")
            print(f"  ingest-to-flag: {summary_ms(latencies)}")
            print(f"  API PUT response: {summary_ms(api_times)}")
            if "--timeline" in __import__("sys").argv:
                print("  per post (ms):", [round((flagged_at.get(f"bench-{i}", float("nan"))
                                                  - sent_at[f"bench-{i}"]) * 1000)
                                            for i in range(total)])
            engine.dispose()
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
