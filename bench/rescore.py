"""Re-scoring live posts after a promotion: posts/s with 2 `flask worker`s, and the queue
page's latency while it runs (docs/benchmarks.md).

    .venv/bin/python bench/rescore.py [--posts 100000] [--workers 2]

A throwaway PostgreSQL database is filled (bench/console_latency.py's generator: posts of
20-80 words, flags, decisions), every post scored by an earlier model version. A candidate
(the active models copied under a new version, its gate passing) is promoted with
`flask models promote`, the product path: the promotion queues the re-scoring job, which
lists the stale posts and queues them in batches (MODEL_RESCORE_BATCH) for the workers.
Measured: from the promotion until every live post carries the new version (polled each
second); the queue page's latency (GET /queue/, one client at a time) idle before and
while the re-scoring runs. Clients are not re-scored here: a candidate keeps the active
feedback model, so their version does not change (as in the product).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import REDIS_URL, Stack, percentile, postgres_database  # noqa: E402
from bench.console_latency import Session, prepare  # noqa: E402


def queue_latencies(port: int, cookie: str, stop: threading.Event, out: list[float]) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        t = time.perf_counter()
        conn.request("GET", "/queue/", headers={"Cookie": cookie})
        r = conn.getresponse()
        r.read()
        out.append(time.perf_counter() - t)
        if r.status != 200:
            raise RuntimeError(f"queue page answered {r.status}")


def make_candidate(url: str, root: Path) -> str:
    """The active models under a new version, recorded as a trained candidate whose gate
    passes (what `flask models train` leaves; training itself is not measured here)."""
    from sqlmodel import Session as DbSession

    from app.db import make_engine
    from classifiers.registry import read_active
    from models import ModelCandidate

    active = read_active(root)
    version = "bench-candidate"
    versions = {}
    for det, v in active.items():
        if det == "feedback":
            versions[det] = v
            continue
        shutil.copytree(root / det / v, root / det / version)
        m = json.loads((root / det / version / "metrics.json").read_text())
        m["version"] = f"{det}-{version}"
        (root / det / version / "metrics.json").write_text(json.dumps(m))
        versions[det] = version
    engine = make_engine(url)
    with DbSession(engine) as s:
        s.add(ModelCandidate(version=version, versions=versions, status="ready",
                             comparison={"gate": {"margin": 0.02, "failures": []}}))
        s.commit()
    engine.dispose()
    return version


def count_done(url: str, version: str) -> tuple[int, int]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as c:
        done = c.execute(sa.text("SELECT count(*) FROM job_post WHERE status <> 'removed' "
                                 "AND model_version = :v"), {"v": version}).scalar_one()
        total = c.execute(sa.text("SELECT count(*) FROM job_post WHERE status <> 'removed'")).scalar_one()
    engine.dispose()
    return done, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--idle-seconds", type=float, default=15)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="trustdesk-bench-rescore-"))
    from classifiers.registry import ARTIFACTS_DIR

    root = tmp / "models"
    shutil.copytree(ARTIFACTS_DIR, root)
    with postgres_database() as url:
        prepare(url, args.posts, max(args.posts // 10, 100))
        import sqlalchemy as sa

        from app.services.scoring import client_version
        from classifiers.scorer import load_scorer

        engine = sa.create_engine(url)
        with engine.begin() as c:  # clients scored by the active feedback model already
            c.execute(sa.text("UPDATE client SET model_version = :v, scored_at = now()"),
                      {"v": client_version(load_scorer(root))})
        engine.dispose()
        version = make_candidate(url, root)
        stack = Stack(url, tmp, REDIS_URL=REDIS_URL, MODEL_DIR=str(root),
                      MODEL_RESCORE_BATCH=str(args.batch), RATELIMIT_STORAGE_URI="memory://")
        try:
            base = stack.gunicorn(workers=2, threads=1)
            port = int(base.rsplit(":", 1)[1])
            for i in range(args.workers):
                stack.worker(f"w{i}")
            stack.wait_for_workers(args.workers)
            web = Session(port)
            web.login()
            idle: list[float] = []
            stop = threading.Event()
            t = threading.Thread(target=queue_latencies, args=(port, web.cookie, stop, idle))
            t.start()
            time.sleep(args.idle_seconds)
            stop.set()
            t.join()
            busy: list[float] = []
            stop = threading.Event()
            t = threading.Thread(target=queue_latencies, args=(port, web.cookie, stop, busy))
            t0 = time.perf_counter()
            stack.flask("models", "promote", version)
            t.start()
            done, total = 0, 1
            while done < total:
                time.sleep(1)
                done, total = count_done(url, version)
            seconds = time.perf_counter() - t0
            stop.set()
            t.join()
        finally:
            stack.stop()
    print(f"re-scored {total} live posts with {args.workers} workers (batches of {args.batch}) "
          f"in {seconds:.1f} s: {total / seconds:.0f} posts/s (promotion included)")
    for name, xs in (("idle", idle), ("during re-scoring", busy)):
        ms = [x * 1000 for x in xs]
        print(f"queue page {name}: n={len(ms)} p50={statistics.median(ms):.0f} ms "
              f"p95={percentile(ms, .95):.0f} ms")
    print(f"p95 ratio during/idle: {percentile(busy, .95) / percentile(idle, .95):.1f}x")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
