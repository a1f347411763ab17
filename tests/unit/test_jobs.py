"""Jobs start only after the commit that needs them; inline without Redis."""
from __future__ import annotations

import pytest

from app.db import session_scope
from app.jobs import enqueue, execute, inline
from models import Client


@pytest.fixture
def ran(monkeypatch):
    calls = []
    monkeypatch.setattr(execute, "resolve", lambda name: lambda *args: calls.append((name, args)))
    return calls


def test_deferred_job_runs_inline_after_commit(app, ran):
    with app.app_context(), session_scope() as s:
        s.add(Client(external_id="c1", name="A"))
        enqueue.score_posts(s, [(1, "a" * 64)])
        assert ran == []  # not before the commit
        s.commit()
        assert ran == [("app.jobs.tasks.score_posts", ([1],))]


def test_deferred_job_is_dropped_on_rollback(app, ran):
    with app.app_context(), session_scope() as s:
        s.add(Client(external_id="c1", name="A"))
        s.flush()
        enqueue.score_posts(s, [(1, "a" * 64)])
        s.rollback()
        s.commit()
        assert ran == []


def test_same_job_deferred_twice_in_one_transaction_runs_once(app, ran):
    with app.app_context(), session_scope() as s:
        enqueue.score_client(s, 7, marker=3)
        enqueue.score_client(s, 7, marker=3)
        enqueue.score_client(s, 7, marker=4)
        s.commit()
    assert [args for _, args in ran] == [(7,), (7,)]


def test_job_ids_are_deterministic_and_name_the_content():
    one = enqueue.score_posts_spec([(5, "abc" * 20)])
    assert one.job_id == enqueue.score_posts_spec([(5, "abc" * 20)]).job_id
    assert one.job_id != enqueue.score_posts_spec([(5, "xyz" * 20)]).job_id
    batch = enqueue.score_posts_spec([(1, "h1"), (2, "h2")])
    assert batch.job_id == enqueue.score_posts_spec([(2, "h2"), (1, "h1")]).job_id
    assert batch.args == ([1, 2],) or batch.args == ([2, 1],)


def test_inline_failure_is_logged_not_raised(app, monkeypatch, caplog):
    def boom(*_):
        raise RuntimeError("model exploded")
    monkeypatch.setattr(execute, "resolve", lambda name: boom)
    with app.app_context():
        assert enqueue.dispatch(enqueue.score_client_spec(1, "x")) == "inline-failed"
    assert "the sweep will retry" in caplog.text


def test_future_scheduled_job_waits_for_the_sweep_inline(app, ran):
    from datetime import timedelta

    from models import utcnow
    with app.app_context():
        assert enqueue.dispatch(enqueue.follow_up_spec(1, utcnow() + timedelta(days=1))) == \
            "inline-deferred"
        assert enqueue.dispatch(enqueue.follow_up_spec(1, utcnow() - timedelta(seconds=1))) == "inline"
    assert ran == [("app.jobs.tasks.follow_up", (1,))]


def test_unreachable_redis_does_not_fail_the_commit(tmp_path):
    from tests.helpers import make_app

    app = make_app(f"sqlite:///{tmp_path / 'x.db'}", REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        assert enqueue.dispatch(enqueue.score_client_spec(1, "x")) == "redis-down"


def test_failed_jobs_cli_needs_redis(runner):
    r = runner.invoke(args=["jobs", "failed"])
    assert r.exit_code == 1 and "REDIS_URL is not set" in r.output


def test_scheduled_jobs_are_never_enqueued_before_they_are_due(app, monkeypatch):
    """RQ keeps whole seconds and truncates: every scheduled job's time is rounded up."""
    from datetime import datetime, timezone

    scheduled = []

    class Queue:
        def enqueue_at(self, at, func, *args, **options):
            scheduled.append((at, func))

    monkeypatch.setattr(enqueue, "get_queue", lambda name: Queue())
    due = datetime(2026, 11, 26, 12, 0, 0, 600_000, tzinfo=timezone.utc)
    exact = datetime(2026, 11, 26, 12, 0, 5, tzinfo=timezone.utc)
    with app.app_context():
        enqueue.enqueue(enqueue.follow_up_spec(7, due))
        enqueue.enqueue(enqueue.follow_up_spec(8, exact))
    assert scheduled == [(datetime(2026, 11, 26, 12, 0, 1, tzinfo=timezone.utc), "app.jobs.tasks.follow_up"),
                         (exact, "app.jobs.tasks.follow_up")]


def test_inline_jobs_stay_in_line_without_processes(app, ran, monkeypatch):
    """``INLINE_JOB_PROCESSES = 0``: no child processes, jobs run in line after the commit."""
    monkeypatch.setitem(app.config, "INLINE_JOB_PROCESSES", 0)
    with app.app_context():
        with inline.inline_in_background() as runner:
            assert runner is None
            assert enqueue.dispatch(enqueue.score_client_spec(1, "x")) == "inline"
            assert ran == [("app.jobs.tasks.score_client", (1,))]


def test_an_in_memory_database_is_not_shared_with_child_processes(app):
    from app.db import shares_database
    from tests.helpers import make_app

    with app.app_context():
        assert shares_database()  # a SQLite file

    memory = make_app("sqlite://")
    with memory.app_context():
        assert not shares_database()
        with inline.inline_in_background() as runner:
            assert runner is None


def _recording_job(path, gate=None, die_on=None):  # noqa: ANN001
    """A job for ``execute.resolve`` that appends "<n> <pid> <app name>" to ``path``; n == 2
    raises, n == 3 raises SystemExit, n == ``die_on`` kills its own process."""
    import os
    import signal

    from flask import current_app

    def job(n):
        with open(f"{path}.started", "a") as fh:
            fh.write(f"{n}\n")
        if gate is not None:
            gate.wait(5)
        if n == die_on:
            os.kill(os.getpid(), signal.SIGKILL)
        if n == 2:
            raise RuntimeError("model exploded")
        if n == 3:
            raise SystemExit(1)  # not even this stops the child
        with open(path, "a") as fh:
            fh.write(f"{n} {os.getpid()} {current_app.name}\n")
    return job


def _ran(path) -> list[tuple[int, int, str]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [(int(n), int(pid), name) for n, pid, name in (line.split() for line in lines)]


def test_inline_runner_runs_jobs_in_child_processes(app, monkeypatch, tmp_path):
    """Jobs handed to the runner run in child processes (not the caller's), in an app
    context; the caller blocks once ``depth`` jobs wait; a failure is logged and counted,
    and the jobs after it still run; ``close`` returns once all have run."""
    import logging
    import multiprocessing
    import os
    import threading
    import time

    gate = multiprocessing.get_context("fork").Event()
    path = tmp_path / "ran.txt"
    monkeypatch.setattr(execute, "resolve", lambda name: _recording_job(path, gate))
    log_file = tmp_path / "jobs.log"
    handler = logging.FileHandler(log_file)  # the children log through their copy of it
    logging.getLogger(execute.__name__).addHandler(handler)
    try:
        runner = inline.InlineRunner(app, depth=2, processes=1)
        specs = [enqueue.score_client_spec(n, "x") for n in range(6)]
        submitted = threading.Thread(target=lambda: [runner.submit(s) for s in specs])
        submitted.start()
        time.sleep(0.5)
        assert submitted.is_alive()  # one job held by the gate, two waiting: the caller waits
        assert _ran(path) == []
        gate.set()
        submitted.join(10)
        assert runner.close() == 0
    finally:
        logging.getLogger(execute.__name__).removeHandler(handler)
        handler.close()
    ran = _ran(path)
    assert [n for n, _, _ in ran] == [0, 1, 4, 5] and runner.failed == 2  # one child: in order
    assert {pid for _, pid, _ in ran} - {os.getpid()} == {pid for _, pid, _ in ran}
    assert {name for _, _, name in ran} == {app.name}
    assert "model exploded" in log_file.read_text()


def test_several_child_processes_share_the_jobs(app, monkeypatch, tmp_path):
    import os

    from tests.support.waiting import wait_for

    path = tmp_path / "ran.txt"
    gate = __import__("multiprocessing").get_context("fork").Event()
    monkeypatch.setattr(execute, "resolve", lambda name: _recording_job(path, gate))
    runner = inline.InlineRunner(app, depth=2, processes=2)
    for n in (0, 1):  # each child holds one at the gate
        runner.submit(enqueue.score_client_spec(n, "x"))
    started = tmp_path / "ran.txt.started"
    wait_for(lambda: started.exists() and len(started.read_text().split()) == 2, timeout=60,
             what="both children in a job")
    gate.set()
    for n in (4, 5, 6, 7):
        runner.submit(enqueue.score_client_spec(n, "x"))
    assert runner.close() == 0 and runner.failed == 0
    ran = _ran(path)
    assert sorted(n for n, _, _ in ran) == [0, 1, 4, 5, 6, 7]
    assert len({pid for _, pid, _ in ran}) == 2 and os.getpid() not in {p for _, p, _ in ran}


def test_a_child_that_dies_does_not_stop_the_import(app, monkeypatch, tmp_path):
    """A child killed in a job (out of memory, say): that job is lost (counted; its rows are
    left for the sweep), the jobs after it run in the caller, and nothing blocks."""
    import os

    path = tmp_path / "ran.txt"
    monkeypatch.setattr(execute, "resolve", lambda name: _recording_job(path, die_on=1))
    with app.app_context():  # where the caller submits (enqueue.dispatch)
        runner = inline.InlineRunner(app, depth=2, processes=1)
        runner.submit(enqueue.score_client_spec(0, "x"))
        runner.submit(enqueue.score_client_spec(1, "x"))
        runner._children[0].join(10)
        assert not runner._children[0].is_alive()
        runner.submit(enqueue.score_client_spec(4, "x"))
        assert runner.close() == 1  # job 1 went down with its process
    ran = _ran(path)
    assert [n for n, _, _ in ran] == [0, 4]
    assert ran[0][1] != os.getpid() and ran[1][1] == os.getpid()  # 4 ran in the caller


def test_waiting_for_the_jobs_reports_each_one_that_ends(app, monkeypatch, tmp_path):
    """``wait`` returns once every job submitted has ended - run, failed, or lost with a
    child that died - reporting (ended, submitted) as they end; the children stay for more."""
    path = tmp_path / "ran.txt"
    monkeypatch.setattr(execute, "resolve", lambda name: _recording_job(path, die_on=5))
    with app.app_context():
        runner = inline.InlineRunner(app, depth=2, processes=1)
        for n in (0, 1, 2):  # 2 fails
            runner.submit(enqueue.score_client_spec(n, "x"))
        seen: list[tuple[int, int]] = []
        runner.wait(lambda ended, submitted: seen.append((ended, submitted)))
        assert seen[-1] == (3, 3) and [e for e, _ in seen] == sorted(e for e, _ in seen)
        assert runner.failed == 1 and runner._children[0].is_alive()
        for n in (4, 5, 6):  # 5 kills the child: 6 then runs in line, here
            runner.submit(enqueue.score_client_spec(n, "x"))
        runner.wait()
        assert runner.unfinished == 1
        assert runner.close() == 1
    assert [n for n, _, _ in _ran(path)] == [0, 1, 4, 6]


def test_an_interrupted_runner_stops_its_children_at_once(app, monkeypatch, tmp_path):
    """Ctrl-C in the caller: the job in progress is stopped (its transaction rolls back) and
    the waiting ones are dropped - their rows are committed, the sweep scores them - without
    waiting for anything (a job can be waiting for a lock the interrupted caller holds)."""
    import time

    from tests.support.waiting import GatedJob, process_gone, wait_for

    job = GatedJob(tmp_path / "ran.txt", hold=60)  # its gate is never opened: a call waits 60 s
    monkeypatch.setattr(execute, "resolve", lambda name: job)
    runner = inline.InlineRunner(app, depth=2, processes=2)
    for n in range(4):
        runner.submit(enqueue.score_client_spec(n, "x"))
    # generous waits for the children to start (a loaded machine forks slowly); what is
    # checked is that close() does not wait for the gated jobs (their gate holds them 60 s)
    assert job.started.wait(60)
    wait_for(lambda: len(job.pids) == 2, timeout=60, what="both processes in a job")
    started = time.monotonic()
    assert runner.close(run_waiting=False) == 4
    assert time.monotonic() - started < 30  # far under the gate's 60 s: nothing was waited for
    assert job.ran == [] and not any(child.is_alive() for child in runner._children)
    wait_for(lambda: len(job.pids) == 2 and all(process_gone(pid) for pid in job.pids),
             timeout=60, what="every process that held a job to end")  # a leader's children too


def test_the_children_end_with_their_caller(tmp_path):
    """A caller killed outright (no ``close``): its children run no further job and end."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.support.waiting import process_gone, wait_for

    script = tmp_path / "caller.py"
    script.write_text(f"""
import os, sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from app.jobs import enqueue, execute, inline
from tests.helpers import make_app

app = make_app("sqlite:///{tmp_path / 'db.sqlite'}")

def job(n):
    with open({str(tmp_path / 'pids.txt')!r}, "a") as fh:
        fh.write(f"{{n}} {{os.getpid()}}\\n")
    time.sleep(1.5)

execute.resolve = lambda name: job
with app.app_context():
    runner = inline.InlineRunner(app, depth=2, processes=1)
    for n in range(3):
        runner.submit(enqueue.score_client_spec(n, "x"))
    time.sleep(0.5)
    os._exit(0)
""")
    subprocess.run([sys.executable, str(script)], check=True, timeout=60)
    pids = tmp_path / "pids.txt"
    wait_for(pids.exists, timeout=60, what="the first job")
    child = int(pids.read_text().split()[1])

    wait_for(lambda: process_gone(child), timeout=60, what="the orphaned child to end")
    time.sleep(0.2)
    assert [line.split()[0] for line in pids.read_text().splitlines()] == ["0"]


def _logged_prepare_and_job(log, gate=None):  # noqa: ANN001
    """A ``prepare`` and a job that each append "<what> <pid> <parent pid> <frozen objects>"
    to ``log``; the job then waits at ``gate``, if given."""
    import gc
    import os

    def write(what: str) -> None:
        with open(log, "a") as fh:
            fh.write(f"{what} {os.getpid()} {os.getppid()} {gc.get_freeze_count()}\n")

    def job(n):
        write("job")
        if gate is not None:
            gate.wait(5)
    return lambda: write("prepare"), job


def test_a_child_prepares_once_on_its_first_job_then_freezes_what_it_holds(app, monkeypatch,
                                                                           tmp_path):
    """``prepare`` (the models) runs in each child before its first job, once, and not at all
    in a child that gets no job; then the objects it holds leave the collector's way."""
    import os

    log = tmp_path / "log.txt"
    prepare, job = _logged_prepare_and_job(log)
    monkeypatch.setattr(execute, "resolve", lambda name: job)
    runner = inline.InlineRunner(app, depth=2, processes=1, prepare=prepare)
    for n in range(3):
        runner.submit(enqueue.score_client_spec(n, "x"))
    assert runner.close() == 0
    lines = [line.split() for line in log.read_text().splitlines()]
    assert [what for what, *_ in lines] == ["prepare", "job", "job", "job"]
    assert len({pid for _, pid, *_ in lines}) == 1 and int(lines[0][1]) != os.getpid()
    assert int(lines[0][3]) == 0 and all(int(frozen) > 0 for *_, frozen in lines[1:])

    log.unlink()
    idle = inline.InlineRunner(app, depth=2, processes=2, prepare=prepare)
    assert idle.close() == 0 and not log.exists()  # no job: nothing loaded


@pytest.mark.skipif(not inline.FORK_FROM_LEADER, reason="Linux: PR_SET_PDEATHSIG")
def test_the_models_are_prepared_once_and_the_other_children_are_forked_from_the_first(
        app, monkeypatch, tmp_path):
    """Several processes, one ``prepare``: the first child prepares on its first job and then
    forks the others from itself, so they start with what it loaded (and frozen)."""
    import os

    from tests.support.waiting import wait_for

    log = tmp_path / "log.txt"
    gate = __import__("multiprocessing").get_context("fork").Event()
    prepare, job = _logged_prepare_and_job(log, gate)
    monkeypatch.setattr(execute, "resolve", lambda name: job)
    runner = inline.InlineRunner(app, depth=2, processes=3, prepare=prepare)
    for n in range(3):  # one job held in each process
        runner.submit(enqueue.score_client_spec(n, "x"))
    wait_for(lambda: log.exists() and log.read_text().count("job") == 3, timeout=60,
             what="a job in each of the three processes")
    gate.set()
    for n in range(3, 9):
        runner.submit(enqueue.score_client_spec(n, "x"))
    assert runner.close() == 0 and runner.failed == 0
    lines = [line.split() for line in log.read_text().splitlines()]
    prepared = [line for line in lines if line[0] == "prepare"]
    assert len(prepared) == 1
    leader = int(prepared[0][1])
    ran = [line for line in lines if line[0] == "job"]
    assert len(ran) == 9 and all(int(frozen) > 0 for *_, frozen in ran)
    parents = {int(pid): int(ppid) for _, pid, ppid, _ in ran}
    assert len(parents) == 3 and parents[leader] == os.getpid()
    assert all(ppid == leader for pid, ppid in parents.items() if pid != leader)


@pytest.mark.skipif(not inline.FORK_FROM_LEADER, reason="Linux: PR_SET_PDEATHSIG")
def test_the_children_forked_from_the_first_die_with_it(app, monkeypatch, tmp_path):
    """The first child killed (out of memory, say): the children it forked end at once with
    it, whatever they were doing; their jobs are lost (counted, left for the sweep) and the
    jobs after them run in the caller."""
    import os
    import signal

    from tests.support.waiting import GatedJob, process_gone, wait_for

    job = GatedJob(tmp_path / "ran.txt")
    monkeypatch.setattr(execute, "resolve", lambda name: job)
    with app.app_context():
        runner = inline.InlineRunner(app, depth=2, processes=2)
        for n in range(2):
            runner.submit(enqueue.score_client_spec(n, "x"))
        wait_for(lambda: len(job.pids) == 2, timeout=60, what="both processes in a job")
        leader = runner._children[0].pid
        os.kill(leader, signal.SIGKILL)
        wait_for(lambda: all(process_gone(pid) for pid in job.pids), timeout=15,
                 what="the first child and the one it forked to end")
        runner._children[0].join(5)
        after = []  # (not the gate: an Event its killed waiters sleep on cannot be set)
        monkeypatch.setattr(execute, "resolve", lambda name: lambda n: after.append(n))
        runner.submit(enqueue.score_client_spec(7, "x"))  # in the caller, in line
        assert runner.close() == 2
    assert job.ran == [] and after == [7]


@pytest.mark.skipif(not inline.FORK_FROM_LEADER, reason="Linux: PR_SET_PDEATHSIG")
def test_a_forked_child_that_dies_leaves_the_others_working(app, monkeypatch, tmp_path):
    """A child forked from the first one killed in a job: that job is lost (counted), the
    first child takes every job after it, and close() returns."""
    import os
    import signal

    caller = os.getpid()
    path, died = tmp_path / "ran.txt", tmp_path / "died"

    def job(n):
        if os.getppid() != caller and not died.exists():  # the forked child's first job
            died.write_text(str(n))
            os.kill(os.getpid(), signal.SIGKILL)
        with open(path, "a") as fh:
            fh.write(f"{n} {os.getpid()}\n")

    monkeypatch.setattr(execute, "resolve", lambda name: job)
    runner = inline.InlineRunner(app, depth=2, processes=2)
    for n in range(8):
        runner.submit(enqueue.score_client_spec(n, "x"))
    assert runner.close() == 1 and runner.failed == 0
    ran = [line.split() for line in path.read_text().splitlines()]
    assert sorted(int(n) for n, _ in ran) == sorted(set(range(8)) - {int(died.read_text())})
    assert {int(pid) for _, pid in ran} == {runner._children[0].pid}


def test_an_interrupt_while_the_caller_holds_the_write_lock_does_not_wait_for_it(
        app, monkeypatch, tmp_path):
    """The interrupted caller may still hold SQLite's write lock (a statement cut short keeps
    it until its traceback is gone); a child's job waiting for that lock must not hold the
    caller for the busy timeout: close() stops it at once, and nothing it began is written."""
    import sqlite3
    import time

    import sqlalchemy as sa

    from tests.support.waiting import wait_for

    started = tmp_path / "started"

    def job(n):
        started.write_text("yes")
        with session_scope() as s:
            s.execute(sa.text("UPDATE client SET name = 'from the job'"))
            s.commit()

    with app.app_context(), session_scope() as s:
        s.add(Client(external_id="c1", name="A"))
        s.commit()
    database = str(tmp_path / "test.db")
    monkeypatch.setattr(execute, "resolve", lambda name: job)
    runner = inline.InlineRunner(app, depth=2, processes=1)
    caller = sqlite3.connect(database, timeout=0)
    caller.execute("BEGIN IMMEDIATE")  # the interrupted caller's open write transaction
    try:
        runner.submit(enqueue.score_client_spec(1, "x"))
        wait_for(started.exists, timeout=60, what="the job to start")
        time.sleep(0.3)  # the job is now waiting for the lock
        began = time.monotonic()
        assert runner.close(run_waiting=False) == 1
        assert time.monotonic() - began < 2
    finally:
        caller.rollback()
        caller.close()
    with app.app_context(), session_scope() as s:
        assert s.exec(sa.select(Client.name)).all() == [("A",)]


@pytest.mark.skipif(not inline.FORK_FROM_LEADER, reason="Linux: PR_SET_PDEATHSIG")
def test_a_child_that_cannot_be_forked_leaves_its_jobs_to_the_first(app, monkeypatch, tmp_path):
    """The first child cannot fork the others (out of memory, process limit): the jobs the
    caller had already handed to them run in the first child; none is lost."""
    import os

    path = tmp_path / "ran.txt"

    def job(n):
        with path.open("a") as fh:
            fh.write(f"{n} {os.getpid()}\n")

    def no_fork(ends, index):  # noqa: ANN001
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(execute, "resolve", lambda name: job)
    monkeypatch.setattr(inline, "_fork_follower", no_fork)
    runner = inline.InlineRunner(app, depth=4, processes=3)
    for n in range(12):
        runner.submit(enqueue.score_client_spec(n, "x"))
    assert runner.close() == 0 and runner.failed == 0
    ran = [line.split() for line in path.read_text().splitlines()]
    assert sorted(int(n) for n, _ in ran) == list(range(12))
    assert {int(pid) for _, pid in ran} == {runner._children[0].pid}


@pytest.mark.skipif(not inline.FORK_FROM_LEADER, reason="Linux: PR_SET_PDEATHSIG")
@pytest.mark.parametrize("killed", ["forked", "first"])
def test_a_child_killed_while_it_waits_for_a_job_blocks_nothing(app, monkeypatch, tmp_path,
                                                                 killed):
    """A child killed between jobs (idle is where a child spends its time when the import is
    the slower side): no job is lost, the jobs after it run in the processes left (or in the
    caller, once the first child is gone: the children it forked died with it), and close()
    returns. (With one queue shared by the children, the dead one kept the queue's read lock,
    which it held while it waited for the next job: the others and the caller waited for
    ever.)"""
    import multiprocessing
    import os
    import signal
    import threading
    import time

    from tests.support.waiting import process_gone, wait_for

    path = tmp_path / "ran.txt"
    gate = multiprocessing.get_context("fork").Event()

    def job(n):
        if n < 2:  # the first two: one in each process
            gate.wait(5)
        with path.open("a") as fh:
            fh.write(f"{n} {os.getpid()}\n")

    def ran() -> dict[int, int]:
        lines = path.read_text().split("\n") if path.exists() else []
        return {int(n): int(pid) for n, pid in (line.split() for line in lines if line)}

    monkeypatch.setattr(execute, "resolve", lambda name: job)
    with app.app_context():
        runner = inline.InlineRunner(app, depth=2, processes=2)
        for n in range(2):
            runner.submit(enqueue.score_client_spec(n, "x"))
        time.sleep(0.3)
        gate.set()
        wait_for(lambda: len(ran()) == 2, timeout=60, what="a job in each process")
        time.sleep(0.3)  # both waiting for the next job
        leader = runner._children[0].pid
        assert len(set(ran().values())) == 2 and leader in ran().values()
        victim = leader if killed == "first" else (set(ran().values()) - {leader}).pop()
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: process_gone(victim), timeout=15, what="the killed child to end")
        result = []
        closing = threading.Thread(target=lambda: (
            [runner.submit(enqueue.score_client_spec(n, "x")) for n in range(10, 16)],
            result.append(runner.close())), daemon=True)
        closing.start()
        closing.join(20)
        stuck = closing.is_alive()
        if stuck:
            runner.close(run_waiting=False)
    assert not stuck, "the runner hung after a child was killed between jobs"
    assert result == [0] and runner.failed == 0
    later = {n: pid for n, pid in ran().items() if n >= 10}
    assert sorted(later) == list(range(10, 16)) and victim not in later.values()
    if killed == "first":  # its forked child died with it: the caller ran the rest
        assert set(later.values()) == {os.getpid()}
    else:
        assert set(later.values()) == {leader}


def test_the_old_job_and_worker_paths_resolve_with_a_deprecation_warning():
    """For one release: jobs already in Redis name ``app.tasks.*``, and ``rq worker -w
    app.worker.AppWorker`` is documented; both still resolve, to the new code, and warn."""
    import importlib
    import sys

    from app.jobs import tasks, worker

    for old in ("app.tasks", "app.worker"):
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=old.replace(".", r"\.")):
            importlib.import_module(old)
    for name in ("score_posts", "score_client", "deliver_outbox", "follow_up", "send_outreach",
                 "sweep"):
        assert execute.resolve(f"app.tasks.{name}") is getattr(tasks, name)
    assert execute.resolve("app.worker.AppWorker") is worker.AppWorker
