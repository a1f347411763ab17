"""Command line: score-posts, score-feedback, train, evaluate.

Input contract for score-posts / score-feedback: JSON Lines (FILE or ``-`` for stdin).
The whole input is VALIDATED FIRST: if any line is malformed (bad JSON, not an object,
missing or wrong-typed field, rating outside 1-5, blank line) every problem is reported on
stderr as ``line N: ...`` and the command exits with status 2 having printed NOTHING on
stdout. A single trailing newline at the end of the file is not a line; any other blank
line is an error. Valid input is then scored in chunks of CHUNK lines and printed in the
same order, exactly one JSON object per input line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CHUNK = 512
MAX_ERRORS = 20


class InputError(Exception):
    pass


def _read_lines(path: str) -> list[str]:
    data = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    if data.endswith("\n"):
        data = data[:-1]
    return data.split("\n") if data else []


def _opt(d: dict, key: str, types, what: str):
    if key not in d or d[key] is None:
        return None
    v = d[key]
    if isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise InputError(f"field {key!r} must be {what}")
    if not isinstance(v, types):
        raise InputError(f"field {key!r} must be {what}")
    return v


def _req_str(d: dict, key: str) -> str:
    if key not in d:
        raise InputError(f"missing field {key!r}")
    if not isinstance(d[key], str):
        raise InputError(f"field {key!r} must be a string")
    return d[key]


def parse_post(line: str):
    from .types import PostInput

    d = json.loads(line)
    if not isinstance(d, dict):
        raise InputError("line is not a JSON object")
    pid = _req_str(d, "id")
    desc = _req_str(d, "description")
    title = _opt(d, "title", str, "a string or null")
    cat = _opt(d, "category", str, "a string or null")
    skills = _opt(d, "skills", list, "a list of strings or null")
    if skills is not None and not all(isinstance(s, str) for s in skills):
        raise InputError("field 'skills' must be a list of strings or null")
    budget = _opt(d, "budget", (int, float), "a number or null")
    verified = _opt(d, "client_payment_verified", bool, "a boolean or null")
    age = _opt(d, "client_account_age_days", (int, float), "a number or null")
    return PostInput(id=pid, title=title, description=desc, category=cat, skills=skills,
                     budget=None if budget is None else float(budget), client_payment_verified=verified,
                     client_account_age_days=None if age is None else float(age))


def parse_feedback(line: str):
    from .types import FeedbackInput

    d = json.loads(line)
    if not isinstance(d, dict):
        raise InputError("line is not a JSON object")
    fid = _req_str(d, "id")
    text = _req_str(d, "text")
    rating = d.get("rating")
    if rating is not None:
        if isinstance(rating, bool) or not isinstance(rating, (int, float)) or rating != int(rating) or not 1 <= rating <= 5:
            raise InputError("field 'rating' must be an integer 1-5 or null")
        rating = int(rating)
    return FeedbackInput(id=fid, text=text, rating=rating)


def _validate(lines: list[str], parse) -> list:
    items, errors = [], []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            errors.append(f"line {n}: blank line")
            continue
        try:
            items.append(parse(line))
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: invalid JSON ({e.msg})")
        except InputError as e:
            errors.append(f"line {n}: {e}")
    if errors:
        for e in errors[:MAX_ERRORS]:
            print(e, file=sys.stderr)
        if len(errors) > MAX_ERRORS:
            print(f"... and {len(errors) - MAX_ERRORS} more errors", file=sys.stderr)
        raise SystemExit(2)
    return items


def cmd_score_posts(args) -> int:
    from .scorer import load_scorer

    items = _validate(_read_lines(args.file), parse_post)
    scorer = load_scorer(Path(args.model_dir) if args.model_dir else None)
    out = sys.stdout
    for i in range(0, len(items), CHUNK):
        for r in scorer.score_posts(items[i:i + CHUNK]):
            out.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")
    out.flush()
    return 0


def cmd_score_feedback(args) -> int:
    from .scorer import load_scorer

    items = _validate(_read_lines(args.file), parse_feedback)
    scorer = load_scorer(Path(args.model_dir) if args.model_dir else None)
    from . import feedback as fb_mod

    for i in range(0, len(items), CHUNK):
        chunk = items[i:i + CHUNK]
        # "negative" as Scorer.score_feedback gives it, plus whether the text was scored (False:
        # not English, scored from the rating alone) and the language it was taken for
        d = fb_mod.score(scorer._b["feedback"], [it.text for it in chunk], [it.rating for it in chunk])
        for it, p, scored, lang in zip(chunk, d["negative"].tolist(), d["text_scored"].tolist(), d["language"]):
            sys.stdout.write(json.dumps({"id": it.id, "negative": round(p, 6), "text_scored": scored, "language": lang}) + "\n")
    sys.stdout.flush()
    return 0


def cmd_train(args) -> int:
    from .training import DEFAULT_SEED, train_all

    r = train_all(Path(args.out_dir) if args.out_dir else None, seed=args.seed if args.seed is not None else DEFAULT_SEED,
                  progress=not args.quiet)
    print(json.dumps({"version": r["version"], "seconds": r["seconds"], "out_dir": r["out_dir"],
                      "thresholds": {k: v.get("threshold", v.get("thresholds")) for k, v in r["metrics"].items() if k != "post_text"}},
                     indent=2))
    return 0


def cmd_evaluate(args) -> int:
    from .evaluation import evaluate, format_report

    rep = evaluate(Path(args.model_dir) if args.model_dir else None, progress=not args.quiet)
    print(format_report(rep))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m classifiers", description="TrustDesk classifiers")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, fn in (("score-posts", cmd_score_posts), ("score-feedback", cmd_score_feedback)):
        p = sub.add_parser(name)
        p.add_argument("file", help="JSON Lines file, or - for stdin")
        p.add_argument("--model-dir", default=None)
        p.set_defaults(fn=fn)
    p = sub.add_parser("train")
    p.add_argument("--out-dir", default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=cmd_train)
    p = sub.add_parser("evaluate")
    p.add_argument("--model-dir", default=None)
    p.add_argument("--bootstrap", type=int, default=1000, help="ignored: the intervals are computed when the models are trained")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(fn=cmd_evaluate)
    args = ap.parse_args(argv)
    return args.fn(args)
