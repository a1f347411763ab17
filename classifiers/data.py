"""Training data: loaders, the EMSCAD function -> category mapping, grouping and splits."""
from __future__ import annotations

import csv
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.taxonomy import CATEGORIES

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"

#: real-world fraud share of EMSCAD (866 / 17,880); the shared rows are 40% fraud
EMSCAD_REAL_FRAUD_RATE = 0.0484

#: The one place EMSCAD ``function`` values map to our taxonomy. Unlisted -> dropped
#: from the category model (rows still count for the scam model).
EMSCAD_FUNCTION_TO_CATEGORY: dict[str, str] = {
    "Information Technology": "it_networking",
    "Customer Service": "customer_service",
    "Sales": "sales_marketing",
    "Marketing": "sales_marketing",
    "Advertising": "sales_marketing",
    "Business Development": "sales_marketing",
    "Public Relations": "sales_marketing",
    "Administrative": "admin_support",
    "Accounting/Auditing": "accounting_consulting",
    "Finance": "accounting_consulting",
    "Financial Analyst": "accounting_consulting",
    "Consulting": "accounting_consulting",
    "Design": "design_creative",
    "Art/Creative": "design_creative",
    "Writing/Editing": "writing",
    "Data Analyst": "data_science_analytics",
    "Business Analyst": "data_science_analytics",
    "Legal": "legal",
    # "Engineering" in EMSCAD mixes software and oil-and-gas engineering; ambiguous -> dropped
}
assert set(EMSCAD_FUNCTION_TO_CATEGORY.values()) <= set(CATEGORIES)


@dataclass(slots=True)
class PostRow:
    id: str
    title: str
    description: str
    source: str  # "emscad" | "seed"
    group: str
    scam: int
    true_category: str | None  # None: unknown (unmapped EMSCAD function)
    posted_category: str | None = None
    policy_types: list[str] = field(default_factory=list)
    client_payment_verified: bool | None = None
    client_account_age_days: float | None = None


@dataclass(slots=True)
class FeedbackRow:
    id: str
    text: str
    negative: int
    rating: int | None
    source: str
    group: str


_NORM_RE = re.compile(r"[^a-z]+")


def _norm(s: str) -> str:
    return _NORM_RE.sub(" ", s.lower()).strip()


def load_emscad(path: Path | None = None) -> list[PostRow]:
    path = path or DATA_DIR / "emscad" / "emscad_train.csv"
    rows: list[PostRow] = []
    with open(path, encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    # union-find over shared normalised description / company profile: near-duplicate ads
    parent = list(range(len(raw)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for i, r in enumerate(raw):
        for key_name in ("description", "company_profile"):
            k = _norm(r[key_name])
            if len(k) < 40:
                continue
            key = key_name[0] + ":" + k[:400]
            if key in seen:
                parent[find(i)] = find(seen[key])
            else:
                seen[key] = i
    for i, r in enumerate(raw):
        desc = "\n\n".join(s.strip() for s in (r["company_profile"], r["description"], r["requirements"], r["benefits"]) if s.strip())
        cat = EMSCAD_FUNCTION_TO_CATEGORY.get(r["function"].strip())
        rows.append(PostRow(id=f"emscad{r['job_id']}", title=r["title"].strip(), description=desc, source="emscad",
                            group=f"emscad:{find(i)}", scam=int(r["fraudulent"]), true_category=cat, posted_category=cat))
    return rows


def load_seed_posts(path: Path | None = None) -> list[PostRow]:
    path = path or DATA_DIR / "seed" / "marketplace_posts.jsonl"
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out.append(PostRow(id=d["id"], title=d["title"], description=d["description"], source="seed", group="seed:" + d["group"],
                               scam=int(d["scam"]), true_category=d["true_category"], posted_category=d["category"],
                               policy_types=list(d["policy_types"]), client_payment_verified=d["client_payment_verified"],
                               client_account_age_days=d["client_account_age_days"]))
    return out


def load_short_honest(path: Path | None = None) -> list[dict]:
    path = path or DATA_DIR / "seed" / "short_honest_posts.jsonl"
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_short_honest_validation(path: Path | None = None) -> list[dict]:
    """Short honest posts for choosing thresholds (validation only; never trained on, never a test)."""
    return load_short_honest(path or DATA_DIR / "seed" / "short_honest_validation.jsonl")


#: real freelancer-about-client feedback (not openly licensed): read from ../shared at training
#: and evaluation time only, never copied into the repository (see its README)
REALPHRASING_DIR = REPO_ROOT.parent / "shared" / "data" / "realphrasing"
REAL_FEEDBACK_LABELS = {"feedback_negative": 1, "feedback_positive": 0}


def load_real_feedback(path: Path | None = None) -> list[FeedbackRow]:
    """The ``feedback_negative`` / ``feedback_positive`` items of ../shared/data/realphrasing
    (source ``real``, one group per original page), or [] when the folder is missing. Text only:
    a forum post's title is not part of a feedback comment, and no rating is known."""
    path = path or REALPHRASING_DIR / "items.jsonl"
    if not path.exists():
        return []
    out: list[FeedbackRow] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            if d.get("label") in REAL_FEEDBACK_LABELS and (d.get("text") or "").strip():
                out.append(FeedbackRow(d["id"], d["text"].strip(), REAL_FEEDBACK_LABELS[d["label"]], None, "real",
                                       "real:" + str(d.get("source") or d["id"])))
    return out


def load_feedback(include_real: bool = True) -> list[FeedbackRow]:
    """Labelled feedback (negative = 1): UCI sentences (amazon, imdb), drug reviews (neutral
    dropped), the generated seed feedback, the hand-written negation rows and, when ../shared is present and ``include_real``,
    the real freelancer feedback (``load_real_feedback``)."""
    out: list[FeedbackRow] = []
    sdir = DATA_DIR / "sentiment"
    for name in ("amazon_cells_labelled.txt", "imdb_labelled.txt"):
        with open(sdir / name, encoding="utf-8", newline="") as f:
            for i, rec in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
                if len(rec) < 2 or rec[1].strip() not in ("0", "1"):
                    continue
                text = rec[0].strip()
                out.append(FeedbackRow(f"{name[:4]}{i}", text, 1 - int(rec[1]), None, name[:4], f"{name[:4]}:{_norm(text)[:80]}"))
    for name in ("drugsComTrain.tsv", "drugsComTest.tsv"):
        with open(sdir / name, encoding="utf-8", newline="") as f:
            for rec in csv.DictReader(f, delimiter="\t"):
                lab = rec["rating"].strip()
                if lab not in ("positive", "negative"):
                    continue  # neutral dropped
                text = html.unescape(rec["review"]).strip().strip('"').strip()
                out.append(FeedbackRow(f"drug{rec['']}", text, int(lab == "negative"), None, "drug", f"drug:{_norm(text)[:80]}"))
    with open(DATA_DIR / "seed" / "client_feedback.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out.append(FeedbackRow(d["id"], d["text"], int(d["negative"]), d["rating"], "seed", "seedfb:" + d["group"]))
    # hand-written negated praise ("no ... at all") and negated complaints, source "hand": never a
    # held-out source (too few, and written for this purpose); used when Settings.handwritten
    with open(DATA_DIR / "seed" / "feedback_negation_handwritten.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out.append(FeedbackRow(d["id"], d["text"], int(d["negative"]), d["rating"], "hand", d["group"]))
    if include_real:
        out += load_real_feedback()
    return out


def _stable_hash(s: str, seed: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{s}".encode()).digest()[:8], "big")


def grouped_split(groups: list[str], labels: list[int] | None, seed: int, fractions=(0.6, 0.2, 0.2)) -> np.ndarray:
    """Assign each row to 0=train, 1=validation, 2=test; whole groups move together.

    Groups are ordered by a seeded hash and dealt greedily so that each part gets close to
    its share of rows (and, if ``labels`` is given, of positive rows). Deterministic.
    """
    labels = labels if labels is not None else [0] * len(groups)
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    order = sorted(by_group, key=lambda g: _stable_hash(g, seed))
    n = len(groups)
    npos = max(1, sum(labels))
    target_rows = [f * n for f in fractions]
    target_pos = [f * npos for f in fractions]
    got_rows = [0.0, 0.0, 0.0]
    got_pos = [0.0, 0.0, 0.0]
    out = np.zeros(n, dtype=np.int8)
    # biggest groups first so they cannot unbalance the tail, then by hash
    order.sort(key=lambda g: -len(by_group[g]))
    for g in order:
        idx = by_group[g]
        pos = sum(labels[i] for i in idx)
        deficit = [(target_rows[k] - got_rows[k]) / max(target_rows[k], 1) + (target_pos[k] - got_pos[k]) / max(target_pos[k], 1)
                   for k in range(3)]
        k = int(np.argmax(deficit))
        out[idx] = k
        got_rows[k] += len(idx)
        got_pos[k] += pos
    return out


def post_text(title: str | None, description: str | None) -> str:
    """The text every post model sees: title + blank line + description."""
    return f"{title or ''}\n\n{description or ''}"


#: real texts of policy breaches, self-ads, scams and honest posts (``../shared/data/realphrasing``,
#: not openly licensed: read at training and evaluation time only, never copied into the repo)
REALPHRASING_DIR = REPO_ROOT.parent / "shared" / "data" / "realphrasing"
_REAL_POLICY = {"off_platform", "unpaid_work", "academic_dishonesty", "fake_reviews", "account_rental"}


def load_realphrasing_posts(path: Path | None = None) -> list[PostRow]:
    """The post items of realphrasing as training rows (feedback items are left to
    ``load_feedback``); [] when the folder is not there (a user's machine, the fast tests).

    Labels: ``scam`` -> scam; a policy label -> that policy type; ``wrong_section`` -> true
    category not_a_job; ``legit`` -> an honest post of unknown category. The group is the
    item's source, so texts from one source never straddle folds."""
    path = path or REALPHRASING_DIR / "items.jsonl"
    if not path.exists():
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            lab = d["label"]
            if lab.startswith("feedback"):
                continue
            out.append(PostRow(id=d["id"], title=d.get("title") or "", description=d["text"], source="real",
                               group="real:" + d["source"], scam=int(lab == "scam"),
                               true_category="not_a_job" if lab == "wrong_section" else None,
                               policy_types=[lab] if lab in _REAL_POLICY else []))
    return out


def right_reason(label: str, scam: bool, miscategorised: bool, policy_types) -> bool | None:
    """Whether a post of ``label`` (a realphrasing or probe label) was flagged for its own
    reason: scam -> the scam flag, wrong_section -> miscategorised, a policy type -> that
    type; None for an honest post."""
    if label == "legit":
        return None
    return {"scam": scam, "wrong_section": miscategorised}.get(label, label in policy_types)


def real_label(r: PostRow) -> str:
    """The realphrasing label a real row was loaded from."""
    if r.scam:
        return "scam"
    if r.policy_types:
        return r.policy_types[0]
    return "wrong_section" if r.true_category == "not_a_job" else "legit"
