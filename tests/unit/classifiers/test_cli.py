"""CLI contract. Subprocesses are expensive (interpreter + model load), so each test feeds one
combined input that covers several cases."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PY = sys.executable


def run(args, stdin=None):
    return subprocess.run([PY, "-m", "classifiers", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_score_posts_file_order_and_shape(tmp_path):
    lines = [json.dumps({"id": f"p{i}", "title": t, "description": d, "category": c, "skills": None, "budget": None})
             for i, (t, d, c) in enumerate([("Logo", "Need a logo for my bakery. Budget $50.", "design_creative"),
                                            (None, "Contact me on WhatsApp +1 555 123 4567", None),
                                            ("Hire me", "I am a professional designer, hire me!", "design_creative")] * 3)]
    # optional fields present with values (skills list, numeric budget) on the last line
    lines.append(json.dumps({"id": "a", "title": "t", "description": "d", "category": None, "skills": ["x"], "budget": 10}))
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(lines) + "\n")
    r = run(["score-posts", str(f)])
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["id"] for o in out] == [f"p{i}" for i in range(9)] + ["a"]
    for o in out:
        assert set(o) >= {"id", "scores", "flags", "policy_types", "suggested_category", "evidence"}
        assert set(o["scores"]) == {"scam", "miscategorised", "policy"}
        assert set(o["flags"]) <= {"scam", "miscategorised", "policy"}
        for e in o["evidence"]:
            assert set(e) >= {"label", "text", "start", "end", "why"}
    assert "off_platform" in out[1]["policy_types"]


def test_score_posts_stdin():
    line = json.dumps({"id": "s1", "title": "Logo", "description": "Need a logo for my bakery. Budget $50.", "category": None})
    r = run(["score-posts", "-"], line + "\n")
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["id"] for x in r.stdout.splitlines()] == ["s1"]


def test_bad_lines_fail_with_line_numbers_and_no_output():
    good = json.dumps({"id": "a", "title": "t", "description": "d", "category": None, "skills": None, "budget": None})
    cases = [("{not json", "invalid JSON"), (json.dumps({"id": "b", "title": None}), "description"),
             (json.dumps({"id": 3, "description": "x"}), "'id'"), ("", "blank")]
    r = run(["score-posts", "-"], "\n".join([good] + [bad for bad, _ in cases] + [good]) + "\n")
    assert r.returncode != 0
    assert r.stdout == ""
    err = r.stderr.splitlines()
    for n, (_, msg) in enumerate(cases, start=2):
        assert any(e.startswith(f"line {n}:") and msg in e for e in err), (n, msg, r.stderr)
    assert not any(e.startswith(("line 1:", "line 6:")) for e in err), r.stderr


def test_score_feedback_and_rating_validation():
    lines = [json.dumps({"id": "f1", "text": "Great client, paid fast", "rating": 5}),
             json.dumps({"id": "f2", "text": "Rude and never paid", "rating": None})]
    r = run(["score-feedback", "-"], "\n".join(lines) + "\n")
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["id"] for o in out] == ["f1", "f2"] and out[0]["negative"] < 0.5 < out[1]["negative"]
    r = run(["score-feedback", "-"], lines[0] + "\n" + json.dumps({"id": "f3", "text": "x", "rating": 6}) + "\n")
    assert r.returncode != 0 and "line 2" in r.stderr and "rating" in r.stderr and r.stdout == ""
