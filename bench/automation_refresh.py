"""The automation tiers' cost on PostgreSQL: ``automation.measure`` (the tiers page's
figures) and ``automation.refresh`` (what every sweep runs: measure, lock the tier rows,
store, commit), at 100,000 posts and 100,000 decisions by default, every decision inside
the rolling window (the worst case). Prints medians and p95; asserts nothing.

    .venv/bin/python bench/automation_refresh.py [--posts 100000] [--decisions 100000]
        [--runs 15]

Fills its own database with bench/copy_fill.py's COPY loader (posts, flags, a
dismissal on every closed flag, a note on every third open one), makes the decisions a
moderator's, spreads them over 80 days, turns half of the dismissals
into removals (scam, or the flag's policy type) and gives every third policy flag two
types, so both measurement paths have work. Dropped at the end.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from copy_fill import prepare  # noqa: E402
from harness import percentile, postgres_database  # noqa: E402


def mix(url: str) -> None:
    import psycopg

    from app.db import session_scope
    from app.services import users
    from app.services.audit import CLI
    from tests.helpers import make_app

    app = make_app(url)
    with app.app_context(), session_scope() as session:
        moderator = users.create_moderator(session, email="m@example.com", role="moderator",
                                           password="benchmark password 0123", actor=CLI).id
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        # bench data only: the decisions' append-only trigger is off while they are made up
        conn.execute("ALTER TABLE decision DISABLE TRIGGER USER")
        conn.execute(f"UPDATE decision SET moderator_id = {moderator}")
        conn.execute(
            "UPDATE decision d SET action = 'remove', details = jsonb_build_object("
            "'reason_code', CASE WHEN f.reason = 'policy' THEN "
            "coalesce(f.policy_types->>0, 'off_platform') ELSE 'scam' END) "
            "FROM flag f WHERE f.id = d.flag_id AND d.action = 'dismiss' AND d.id % 2 = 0")
        conn.execute("UPDATE decision SET created_at = now() - (id % 80) * interval '1 day'")
        conn.execute("ALTER TABLE decision ENABLE TRIGGER USER")
        conn.execute("UPDATE flag SET policy_types = '[\"off_platform\", \"unpaid_work\"]' "
                     "WHERE reason = 'policy' AND id % 3 = 0")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        rows = conn.execute("SELECT action, count(*) FROM decision GROUP BY action "
                            "ORDER BY action").fetchall()
    print("decisions by action:", dict(rows))


def timed(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return percentile(times, .5), percentile(times, .95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    os.environ["TRUSTDESK_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="trustdesk-bench-")
    with postgres_database() as url:
        t0 = time.perf_counter()
        prepare(url, args.posts, max(args.decisions * 3 // 4, 10))
        mix(url)
        print(f"filled in {time.perf_counter() - t0:.0f} s")
        from app.db import session_scope
        from app.services import automation, metrics
        from models import utcnow
        from tests.helpers import make_app

        app = make_app(url)
        with app.app_context(), session_scope() as s:
            from app.services import rollups

            rollups.rebuild(s)  # the dashboard's counts the per-reason precision reads
            measured = automation.measure(s)
            for key in ("scam", "policy", "policy:off_platform", "policy:unpaid_work"):
                m = measured[key]
                print(f"  {key:22} {m.decisions:7d} decisions, precision {m.precision:.3f}")
            # refresh measures only while some key may leave review: cap one at hold
            automation.ensure_rows(s)
            automation.set_max_tier(s, key="scam", max_tier="hold", version=1,
                                    actor=automation.SYSTEM)

            def measure():
                automation.measure(s)
                s.rollback()

            def per_reason():
                metrics.precision(s, automation._filters(utcnow(), automation.settings()
                                                         .window_days))
                s.rollback()

            print(f"\n{'operation':36} {'p50 ms':>8} {'p95 ms':>8}   ({args.runs} runs)")
            for label, fn in (("metrics.precision (per reason, reused)", per_reason),
                              ("measure (the tiers page's figures)", measure),
                              ("refresh (every sweep)", lambda: automation.refresh(s))):
                p50, p95 = timed(fn, args.runs)
                print(f"{label:36} {p50:8.1f} {p95:8.1f}")
        with app.app_context():
            from app.db import get_engine
            get_engine().dispose()


if __name__ == "__main__":
    main()
