"""The demo marketplace generator and `flask demo load`."""
from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlmodel import func, select

from app.api.schemas import ITEM_MODELS
from app.db import session_scope
from app.cli.ingest import load_demo_generator
from models import Client, Feedback, JobPost
from models.taxonomy import CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
demo = load_demo_generator()


@pytest.fixture(scope="module")
def data():
    return demo.generate(seed=7)


def test_same_seed_gives_identical_output_and_files(tmp_path):
    assert demo.generate(seed=7) == demo.generate(seed=7)
    assert demo.generate(seed=7) != demo.generate(seed=8)
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        result = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_demo_data.py"),
                                 "--seed", "7", "--out", str(out)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
    for kind in demo.KINDS:
        assert (a / f"{kind}.jsonl").read_bytes() == (b / f"{kind}.jsonl").read_bytes()
    assert "300 clients, 3000 posts" in result.stdout


def test_every_record_is_valid_import_input(data):
    for kind, model in ITEM_MODELS.items():
        for item in data[kind]:
            model.model_validate(item)
        ids = [item["external_id"] for item in data[kind]]
        assert len(ids) == len(set(ids)), kind


def test_size_and_coverage(data):
    assert len(data["clients"]) == 300 and len(data["posts"]) == 3000
    categories = Counter(p["category"] for p in data["posts"])
    assert set(CATEGORIES) <= set(categories)
    assert min(categories[c] for c in CATEGORIES) >= 100
    texts = [p["title"] + "\n" + p["description"] for p in data["posts"]]
    assert len(set(texts)) > 0.8 * len(texts)  # varied, not a handful of templates
    joined = {c["external_id"]: c["joined_at"] for c in data["clients"]}
    for post in data["posts"]:
        assert datetime.fromisoformat(post["posted_at"]) >= datetime.fromisoformat(joined[post["client_id"]])
        assert datetime.fromisoformat(post["posted_at"]) <= demo.DEFAULT_ANCHOR


@pytest.mark.parametrize("needle,at_least", [
    ("training kit", 3), ("check", 10), ("Telegram", 10), ("USDT", 5),          # scams
    ("gmail", 5), ("gmail dot com", 2), ("WhatsApp", 5), ("unpaid", 5),        # policy
    ("Turnitin", 2), ("reviews", 10), ("account", 10),
    ("hire me", 10),                                                          # self-ads
    ("<script>alert(1)</script>", 1), ("onerror=alert(1)", 1), ('href="javascript:', 1),
])
def test_contains_the_cases_the_console_must_handle(data, needle, at_least):
    texts = [p["title"] + " " + p["description"] for p in data["posts"]]
    assert sum(needle.lower() in t.lower() for t in texts) >= at_least


def test_short_honest_posts_and_miscategorised_posts(data):
    short = [p for p in data["posts"] if len(p["title"]) + len(p["description"]) < 120]
    assert len(short) >= 150
    assert any("Need a logo for my bakery" in p["description"] for p in data["posts"])
    # an honest post filed under a category whose vocabulary it does not use
    logo_posts = [p for p in data["posts"] if p["title"].startswith("Logo for our")]
    assert any(p["category"] != "design_creative" for p in logo_posts)


def test_feedback_histories(data):
    negative_comments = set(demo.NEGATIVE)
    by_client = defaultdict(list)
    for fb in sorted(data["feedback"], key=lambda f: f["created_at"]):
        by_client[fb["client_id"]].append(fb["comment"] in negative_comments)
    consistently_negative = [c for c, h in by_client.items() if sum(h[-6:]) >= 5]
    one_bad_among_many = [c for c, h in by_client.items() if len(h) >= 8 and sum(h) == 1]
    assert len(consistently_negative) >= 5
    assert len(one_bad_among_many) >= 5
    # most clients are well liked
    assert sum(1 for h in by_client.values() if sum(h) == 0) > 0.7 * len(by_client)


def test_anchor_moves_the_dates_and_must_be_aware():
    later = demo.generate(seed=7, anchor=datetime(2030, 1, 1, tzinfo=timezone.utc),
                          clients=20, posts=50)
    assert all(p["posted_at"].startswith(("2029", "2030")) for p in later["posts"])
    with pytest.raises(ValueError):
        demo.generate(seed=7, anchor=datetime(2030, 1, 1))


def test_csv_output_imports_through_flask_import(runner, app, tmp_path, monkeypatch):
    monkeypatch.setattr("app.jobs.enqueue.dispatch", lambda spec: "recorded")
    data = demo.generate(seed=3, clients=30, posts=200)
    demo.write(data, tmp_path, "csv")
    for kind in demo.KINDS:
        r = runner.invoke(args=["import", kind, str(tmp_path / f"{kind}.csv"), "--no-progress"])
        assert r.exit_code == 0, r.output
        assert f"imported {len(data[kind])}, updated 0, unchanged 0, rejected 0" in r.stdout
    with app.app_context(), session_scope() as s:
        post = s.exec(select(JobPost).where(JobPost.external_id == "post-00001")).one()
    expected = next(p for p in data["posts"] if p["external_id"] == "post-00001")
    assert (post.title, post.description, post.skills) == (
        expected["title"], expected["description"], expected["skills"])


def test_demo_load_if_empty_loads_once(runner, app, monkeypatch):
    jobs = []
    monkeypatch.setattr("app.jobs.enqueue.dispatch", lambda spec: jobs.append(spec) or "recorded")
    r = runner.invoke(args=["demo", "load", "--if-empty", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "clients: imported 300" in r.stdout and "posts: imported 3000" in r.stdout
    with app.app_context(), session_scope() as s:
        counts = [s.exec(select(func.count()).select_from(m)).one() for m in (Client, JobPost, Feedback)]
        newest = s.exec(select(func.max(JobPost.posted_at))).one()
    assert counts[:2] == [300, 3000] and counts[2] > 500
    assert newest.date() <= datetime.now(timezone.utc).date()  # laid out back from today
    assert sum(len(j.args[0]) for j in jobs if j.func == "app.jobs.tasks.score_posts") == 3000

    r = runner.invoke(args=["demo", "load", "--if-empty", "--no-progress"])
    assert r.exit_code == 0 and "already has clients" in r.stdout
    with app.app_context(), session_scope() as s:
        assert s.exec(select(func.count()).select_from(JobPost)).one() == 3000


def test_demo_load_loads_the_models_once_for_all_its_imports(runner, app, tmp_path,
                                                           monkeypatch):
    """Without Redis the imports score in processes forked from the command's: it loads the
    models first, so neither the posts' nor the feedback's scoring processes load them
    again (each import's would otherwise, ~2 s apiece). Every post is still scored."""
    import os
    import types

    from classifiers import scorer

    loads = tmp_path / "loads"
    real_load = scorer._load

    def load(model_dir):  # noqa: ANN001, ANN202 - inherited by the forked processes
        with loads.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real_load(model_dir)

    monkeypatch.setattr(scorer, "_load", load)
    scorer._cached.cache_clear()
    small = types.SimpleNamespace(generate=lambda seed, anchor: demo.generate(
        seed=seed, anchor=anchor, clients=40, posts=300))
    monkeypatch.setattr("app.cli.ingest.load_demo_generator", lambda: small)
    monkeypatch.setitem(app.config, "INLINE_JOB_PROCESSES", 2)
    r = runner.invoke(args=["demo", "load", "--no-progress"])
    assert r.exit_code == 0 and "posts: imported 300" in r.stdout, r.output
    assert loads.read_text().split() == [str(os.getpid())]  # once, in the command's process
    with app.app_context(), session_scope() as s:
        assert s.exec(select(func.count()).select_from(JobPost)
                      .where(JobPost.scored_at.is_(None))).one() == 0


def test_an_import_scored_in_child_processes_flags_what_one_in_line_does(tmp_path, monkeypatch):
    """Without Redis, an import's scoring jobs run in child processes beside it (on SQLite
    too, writing between the import's commits): every post is scored, and the flags are
    exactly those of the same import scored in line after each commit."""
    from sqlmodel import SQLModel

    from app.jobs import enqueue, execute
    from app.db import get_engine
    from models import Flag
    from tests.helpers import make_app

    data = demo.generate(seed=5, clients=40, posts=400)
    demo.write(data, tmp_path, "jsonl")
    outcomes: list[str] = []
    run_inline = execute.run_inline
    monkeypatch.setattr(execute, "run_inline",
                        lambda spec: outcomes.append(run_inline(spec)) or outcomes[-1])
    results = {}
    for processes in (2, 0):
        app = make_app(f"sqlite:///{tmp_path / f'p{processes}.db'}",
                       INLINE_JOB_PROCESSES=processes)
        with app.app_context():
            SQLModel.metadata.create_all(get_engine())
        outcomes.clear()
        for kind in demo.KINDS:
            r = app.test_cli_runner().invoke(args=[
                "import", kind, str(tmp_path / f"{kind}.jsonl"), "--no-progress",
                "--chunk-size", "50"])
            assert r.exit_code == 0 and "rejected 0" in r.stdout, r.output
        expected = "inline-background" if processes else "inline"
        assert outcomes and set(outcomes) == {expected}
        with app.app_context(), session_scope() as s:
            assert s.exec(select(func.count()).select_from(JobPost)
                          .where(JobPost.scored_at.is_(None))).one() == 0
            flags = s.exec(select(Flag.subject_type, Flag.subject_id, Flag.reason,
                                  Flag.status, Flag.score)).all()
            results[processes] = sorted((t, i, r, st, round(sc, 6)) for t, i, r, st, sc in flags)
        with app.app_context():
            get_engine().dispose()
    assert len(results[2]) > 20
    assert results[2] == results[0]
