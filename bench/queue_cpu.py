"""CPU per request: the console's pages against the bare page, by process CPU accounting.

Throughput on this machine is bounded by CPU: the two cores serve the gunicorn workers, the
PostgreSQL backends and ``wrk`` itself. So the ceiling of "throughput vs the bare page" is
the ratio of the CPU one request costs on each side. This bench serves the console (A) and
the bare page (B, bench/bare_app.py: a byte-identical static copy of the queue page) as
bench/console_latency.py does (same data, same gunicorn settings), runs ``wrk`` against
one page at a time, and reads the CPU time (user + system, ``/proc/<pid>/stat``) of

- the gunicorn workers of each server (the master's children),
- the PostgreSQL backends serving the console's database (``pg_stat_activity``),
- ``wrk`` (its own rusage),

before and after each run. Prints, per page and side, the CPU milliseconds per request of
each, their sum, and the throughput ratio that CPU alone allows (B's CPU per request over
A's: the best A/B any scheduling could give on any number of cores, were CPU the only
limit) beside the A/B ratio measured. ``--profile N`` also prints a cProfile of N requests
of each page through Flask's test client (the app's own work, no HTTP), by module group.
``--floor N`` measures N such requests without the profiler: the app process's CPU per
request and, of that, the CPU spent rendering the templates (``flask.templating._render``),
and prints the best A/B that the bare page's CPU, PostgreSQL's and the rendering alone allow.
Asserts nothing.

    .venv/bin/python bench/queue_cpu.py [--size 20000] [--seconds 5] [--rounds 3]
        [--pages queue,reason] [--profile 200] [--floor 200] [--root /path/to/other/checkout]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

import console_data
from console_latency import (WRK_REPORT, claim_some, client_of_size, load_average, pages_for,
                             serve_both, spread, wrk)
from harness import ROOT

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pids: list[int]) -> float:
    """User + system CPU of these processes so far, in ms (a process gone counts 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total * TICK_MS


def workers(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                         text=True).stdout
    return [int(p) for p in out.split()]


def backends(admin: sa.engine.Engine, database: str) -> list[int]:
    with admin.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
            {"d": database}).scalars())


def measure(port: int, path: str, cookie: str, pids, args, script: Path) -> dict:  # noqa: ANN001
    """One wrk run; the CPU per request of each group of processes (``pids``: name -> a
    function giving the pids, read before and after: a backend may start meanwhile)."""
    before = {name: (get(), cpu_ms(get())) for name, get in pids.items()}
    wrk_before = os.times()
    figures = wrk(port, path, cookie=cookie, seconds=args.seconds,
                  concurrency=args.concurrency, script=script)
    wrk_after = os.times()
    n = max(figures["requests"], 1)
    out = {"rps": figures["rps"], "p95": figures["p95"] / 1000, "errors": figures["errors"]
           + figures["non2xx"]}
    for name, get in pids.items():
        old_pids, old = before[name]
        now_pids = sorted(set(old_pids) | set(get()))
        # a process that started during the run counted from 0
        out[name] = (cpu_ms(now_pids) - old) / n
    wrk_cpu = ((wrk_after.children_user - wrk_before.children_user)
               + (wrk_after.children_system - wrk_before.children_system)) * 1000
    out["wrk"] = wrk_cpu / n
    return out


def profile(url: str, pages: dict[str, str], n: int) -> None:
    """cProfile of ``n`` requests of each page through the test client, grouped."""
    import cProfile
    import pstats

    web = _logged_in(url)
    for label, path in pages.items():
        for _ in range(10):
            assert web.get(path).status_code == 200
        prof = cProfile.Profile(time.process_time)  # CPU, not waiting
        prof.enable()
        for _ in range(n):
            web.get(path)
        prof.disable()
        stats = pstats.Stats(prof)
        total = stats.total_tt
        groups: dict[str, float] = {}
        for (filename, _line, _fn), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
            groups[_group(filename)] = groups.get(_group(filename), 0.0) + tt
        print(f"\n{label}: {total / n * 1000:.2f} ms of CPU a request under cProfile "
              f"(own time by where the code lives):")
        for name, tt in sorted(groups.items(), key=lambda kv: -kv[1])[:12]:
            print(f"    {name:28} {tt / n * 1000:6.2f} ms  {tt / total:5.1%}")


def _logged_in(url: str):
    """A Flask test client of the console on ``url``, logged in as the bench's admin."""
    import re
    from urllib.parse import urlencode

    from tests.helpers import make_app

    web = make_app(url).test_client()
    html = web.get("/login").data
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html).group(1).decode()
    status = web.post("/login", data=urlencode(
        {"email": console_data.ADMIN_EMAIL, "password": console_data.PASSWORD,
         "csrf_token": token}), content_type="application/x-www-form-urlencoded").status_code
    assert status == 303, status
    return web


def floor(url: str, pages: dict[str, str], n: int) -> dict[str, tuple[float, float]]:
    """CPU ms per request of the app's own process (test client, no HTTP, no cProfile) and,
    of that, the ms spent rendering the page's templates from the view's context: the part
    no change short of not rendering the page can remove. Per page, medians of 5 blocks."""
    import flask.templating

    spent = [0.0]
    real = flask.templating._render

    def timed(app, template, context):  # noqa: ANN001, ANN202
        start = time.process_time()
        try:
            return real(app, template, context)
        finally:
            spent[0] += time.process_time() - start

    flask.templating._render = timed
    web = _logged_in(url)
    out = {}
    try:
        for label, path in pages.items():
            totals, renders = [], []
            for _ in range(10):
                assert web.get(path).status_code == 200
            for _ in range(5):
                spent[0], start = 0.0, time.process_time()
                for _ in range(n):
                    web.get(path)
                totals.append((time.process_time() - start) / n * 1000)
                renders.append(spent[0] / n * 1000)
            out[label] = (statistics.median(totals), statistics.median(renders))
    finally:
        flask.templating._render = real
    return out


def _group(filename: str) -> str:
    if "site-packages" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if str(ROOT) in filename:
        rel = filename.split(str(ROOT) + "/", 1)[1]
        return "/".join(rel.split("/")[:2])
    if filename.startswith("<"):
        return filename  # built-ins, generated code (jinja templates, sqlalchemy)
    return "python stdlib"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", type=lambda s: [p for p in s.split(",") if p],
                        default=["queue (default)", "reason", "case page"])
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--floor", type=int, default=0, metavar="N",
                        help="also measure N in-process requests a page: the app's CPU and "
                             "its template rendering, and the A/B that rendering alone allows")
    parser.add_argument("--root", type=Path, default=None,
                        help="serve another checkout's console (e.g. before a change)")
    args = parser.parse_args()
    if args.root:
        import console_latency

        console_latency.ROOT = args.root.resolve()
    template = console_data.ensure_template(args.size)
    name = f"tdbench_cpu_{uuid.uuid4().hex[:8]}"
    url = console_data.clone(template, name)
    admin = sa.create_engine(console_data.PG_ADMIN)
    procs: list[subprocess.Popen] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tdbench-cpu-") as tmpdir:
            tmp = Path(tmpdir)
            script = tmp / "report.lua"
            script.write_text(WRK_REPORT)
            moderator_id = claim_some(url)
            console, bare, me, _html = serve_both(url, tmp, args.workers)
            procs += [console, bare]
            a_port, b_port = console.port, bare.port
            pages = {k: v for k, v in pages_for(url, moderator_id, client_of_size(url)).items()
                     if any(p in k for p in args.pages)}
            for path in pages.values():
                for _ in range(args.workers * 5):
                    assert me.request("GET", path)[0] == 200, path
            a_pids = {"app workers": lambda: workers(console.pid),
                      "postgres": lambda: backends(admin, name)}
            b_pids = {"bare workers": lambda: workers(bare.pid)}
            bounds: dict[str, tuple[float, float]] = {}
            print(f"{args.size:,} posts; {os.cpu_count()} cores; gunicorn --workers "
                  f"{args.workers} (sync), production; wrk -c {args.concurrency} for "
                  f"{args.seconds} s, A then B, {args.rounds} rounds; load average before: "
                  f"{load_average()}")
            print(f"{'page':26} {'side':5} {'req/s':>8} {'p95 ms':>7} {'workers':>8} "
                  f"{'postgres':>8} {'wrk':>6} {'total':>6}  (CPU ms per request, medians)")
            for label, path in pages.items():
                a_runs, b_runs = [], []
                for _ in range(args.rounds):
                    a_runs.append(measure(a_port, path, me.cookie, a_pids, args, script))
                    b_runs.append(measure(b_port, "/", "", b_pids, args, script))
                med = lambda runs, k: statistics.median(r[k] for r in runs)  # noqa: E731
                a_total = [r["app workers"] + r["postgres"] + r["wrk"] for r in a_runs]
                b_total = [r["bare workers"] + r["wrk"] for r in b_runs]
                print(f"{label[:26]:26} {'A':5} {med(a_runs, 'rps'):8.0f} "
                      f"{med(a_runs, 'p95'):7.1f} {med(a_runs, 'app workers'):8.2f} "
                      f"{med(a_runs, 'postgres'):8.2f} {med(a_runs, 'wrk'):6.2f} "
                      f"{statistics.median(a_total):6.2f}")
                print(f"{'':26} {'B':5} {med(b_runs, 'rps'):8.0f} {med(b_runs, 'p95'):7.1f} "
                      f"{med(b_runs, 'bare workers'):8.2f} {'-':>8} {med(b_runs, 'wrk'):6.2f} "
                      f"{statistics.median(b_total):6.2f}")
                ratios = [a["rps"] / b["rps"] for a, b in zip(a_runs, b_runs)]
                bound = [b / a for a, b in zip(a_total, b_total)]
                bounds[label] = (med(a_runs, "postgres"), statistics.median(b_total))
                errors = sum(r["errors"] for r in a_runs)
                print(f"{'':26} A/B measured {spread(ratios, '{:.3f}')}, allowed by CPU "
                      f"{spread(bound, '{:.3f}')} (min/med/max); errors {errors}",
                      flush=True)
            print(f"load average after: {load_average()}")
        if args.floor:
            print("\nThe floor: the bare page's CPU + PostgreSQL's for the page's queries + "
                  "rendering its templates (in process; ms per request, medians):")
            for label, (app_ms, render_ms) in floor(url, pages, args.floor).items():
                pg_ms, bare_ms = bounds[label]
                best = bare_ms / (bare_ms + pg_ms + render_ms)
                print(f"    {label[:26]:26} app process {app_ms:5.2f}, of which rendering "
                      f"{render_ms:5.2f}; postgres {pg_ms:5.2f}; bare {bare_ms:5.2f} -> A/B "
                      f"at most {best:.3f} even with no other work")
        if args.profile:
            profile(url, pages, args.profile)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        admin.dispose()
        console_data.drop(name)


if __name__ == "__main__":
    if str(Path(__file__).parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent))
    main()
