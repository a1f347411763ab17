"""What notices to affected freelancers cost a removal: the time of one scam removal
(``moderation.remove``, its whole transaction) for a post with 0, 10, 100 and 1,000
contacts, on PostgreSQL (a throwaway database) and SQLite. Prints medians and the ratio to
the removal without contacts; asserts nothing.

    .venv/bin/python bench/notice_writes.py [--rounds 15] [--sizes 0,10,100,1000] [--no-sqlite]

Jobs are recorded, not run (the notices' delivery is not part of the decision's time).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.harness import migrate, postgres_database, summary_ms  # noqa: E402


def run(url: str, sizes: list[int], rounds: int) -> dict[int, list[float]]:
    import app.jobs.enqueue as enqueue
    from app.db import get_engine, session_scope
    from app.services import moderation, notices
    from app.services.audit import Actor
    from models import Client, Flag, JobPost, Moderator, utcnow
    from tests.helpers import make_app

    enqueue.dispatch = lambda spec, **_kw: "recorded"
    app = make_app(url)
    times: dict[int, list[float]] = {n: [] for n in sizes}
    with app.app_context(), session_scope() as s:
        mod = Moderator(email="bench@example.com", password_hash="x", role="moderator")
        s.add(mod)
        s.commit()
        actor = Actor.of(mod)
        seq = 0
        for _round in range(rounds):
            for n in sizes:
                seq += 1
                client = Client(external_id=f"c{seq}", name=f"Client {seq}")
                s.add(client)
                s.flush()
                post = JobPost(external_id=f"p{seq}", client_id=client.id, title="Data entry",
                               description="Pay a registration fee first.", content_hash=f"h{seq}",
                               posted_at=utcnow())
                s.add(post)
                s.flush()
                flag = Flag(subject_type="post", subject_id=post.id, client_id=client.id,
                            post_id=post.id, reason="scam", score=0.9, evidence=[])
                s.add(flag)
                notices.replace_contacts(s, post.id, [
                    {"freelancer_id": f"f{i}", "kind": "applicant",
                     "email": f"f{i}@example.org" if i % 2 else None} for i in range(n)])
                s.commit()
                t0 = time.perf_counter()
                moderation.remove(s, flag_id=flag.id, version=1, reason_code="scam", actor=actor)
                times[n].append(time.perf_counter() - t0)
    with app.app_context():
        get_engine().dispose()
    return times


def report(name: str, times: dict[int, list[float]]) -> None:
    base = statistics.median(times[min(times)])
    print(f"== {name}")
    for n, values in times.items():
        print(f"  {n:>5} contacts: {summary_ms(values)}  ratio to {min(times)}: "
              f"{statistics.median(values) / base:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sizes", default="0,10,100,1000")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    with postgres_database() as url:
        migrate(url)
        report("PostgreSQL", run(url, sizes, args.rounds))
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            migrate(url)
            report("SQLite", run(url, sizes, args.rounds))


if __name__ == "__main__":
    main()
