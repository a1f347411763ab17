import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PY = sys.executable


def run(args, stdin=None):
    return subprocess.run([PY, "-m", "classifiers", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_score_posts_stdin_order_and_shape():
    lines = [json.dumps({"id": f"p{i}", "title": t, "description": d, "category": c, "skills": None, "budget": None})
             for i, (t, d, c) in enumerate([("Logo", "Need a logo for my bakery. Budget $50.", "design_creative"),
                                            (None, "Contact me on WhatsApp +1 555 123 4567", None),
                                            ("Hire me", "I am a professional designer, hire me!", "design_creative")] * 3)]
    r = run(["score-posts", "-"], "\n".join(lines) + "\n")
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["id"] for o in out] == [f"p{i}" for i in range(9)]
    for o in out:
        assert set(o) >= {"id", "scores", "flags", "policy_types", "suggested_category", "evidence"}
        assert set(o["scores"]) == {"scam", "miscategorised", "policy"}
        assert set(o["flags"]) <= {"scam", "miscategorised", "policy"}
        for e in o["evidence"]:
            assert set(e) >= {"label", "text", "start", "end", "why"}
    assert "off_platform" in out[1]["policy_types"]


def test_score_posts_file(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_text(json.dumps({"id": "a", "title": "t", "description": "d", "category": None, "skills": ["x"], "budget": 10}) + "\n")
    r = run(["score-posts", str(f)])
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1


def test_bad_line_fails_with_line_number_and_no_output():
    good = json.dumps({"id": "a", "title": "t", "description": "d", "category": None, "skills": None, "budget": None})
    for bad, msg in [("{not json", "invalid JSON"), (json.dumps({"id": "b", "title": None}), "description"),
                     (json.dumps({"id": 3, "description": "x"}), "'id'"), ("", "blank")]:
        r = run(["score-posts", "-"], good + "\n" + bad + "\n" + good + "\n")
        assert r.returncode != 0
        assert "line 2" in r.stderr and msg in r.stderr, r.stderr
        assert r.stdout == ""


def test_score_feedback_and_rating_validation():
    lines = [json.dumps({"id": "f1", "text": "Great client, paid fast", "rating": 5}),
             json.dumps({"id": "f2", "text": "Rude and never paid", "rating": None})]
    r = run(["score-feedback", "-"], "\n".join(lines) + "\n")
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["id"] for o in out] == ["f1", "f2"] and out[0]["negative"] < 0.5 < out[1]["negative"]
    r = run(["score-feedback", "-"], lines[0] + "\n" + json.dumps({"id": "f3", "text": "x", "rating": 6}) + "\n")
    assert r.returncode != 0 and "line 2" in r.stderr and "rating" in r.stderr
