"""Similar posts: near-duplicate text and shared contact handles across accounts.

Scam rings post the same text from several accounts, or different texts that all send
freelancers to the same e-mail address, phone number or Telegram/WhatsApp handle.

- Near duplicates: Jaccard similarity of word 3-shingle sets (exact, not MinHash: the
  candidate window is small enough) over the normalised title + description.
- Shared handles: e-mails, phone numbers (7+ digits), ``t.me/x``, ``telegram: @x``,
  ``wa.me/123``, ``whatsapp +1 ...``, extracted with simple regexes and normalised.

Candidates are the ``window`` most recent posts (by id) plus the subject's own client's
posts; signatures are cached per process by ``(post id, content hash)``. This bounds the
cost of the panel (it loads lazily, after the case page). A production index would store
shingle-band hashes and handles in a side table filled at scoring time; see the report.
"""
from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlmodel import Session, select

from models import Client, JobPost, PostStatus

THRESHOLD = 0.5
WINDOW = 3000
MAX_RESULTS = 25
_CACHE_SIZE = 20_000

EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", re.I)
PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{6,}\d")
TELEGRAM = re.compile(r"(?:t\.me/|telegram(?:\s*(?:me|id|handle|at))?\s*[:\-]?\s*@?)"
                      r"([a-z0-9_]{4,32})", re.I)
WHATSAPP = re.compile(r"(?:wa\.me/|whats\s*app\s*(?:me|number|at|on)?\s*[:\-]?\s*)"
                      r"(\+?[\d\s().-]{7,})", re.I)
AT_HANDLE = re.compile(r"(?<![\w.])@([a-z0-9_]{4,32})\b", re.I)
WORD = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(WORD.findall(text))


def shingles(text: str, k: int = 3) -> frozenset[int]:
    words = normalise(text).split()
    if len(words) < k:
        return frozenset([hash(tuple(words))]) if words else frozenset()
    return frozenset(hash(tuple(words[i:i + k])) for i in range(len(words) - k + 1))


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def handles(text: str) -> frozenset[str]:
    """Contact handles in ``text``, normalised (``email:``, ``phone:``, ``telegram:``,
    ``whatsapp:`` prefixes)."""
    found: set[str] = set()
    for m in EMAIL.findall(text):
        found.add("email:" + m.lower())
    for m in TELEGRAM.findall(text):
        found.add("telegram:" + m.lower())
    for m in WHATSAPP.findall(text):
        digits = _digits(m)
        if len(digits) >= 7:
            found.add("phone:" + digits[-10:])
    for m in PHONE.findall(text):
        digits = _digits(m)
        if 7 <= len(digits) <= 15:
            found.add("phone:" + digits[-10:])
    emails_local = {h.split(":", 1)[1].split("@")[0] for h in found if h.startswith("email:")}
    for m in AT_HANDLE.findall(text):
        if m.lower() not in emails_local:
            found.add("telegram:" + m.lower())
    return frozenset(found)


@dataclass(frozen=True)
class Signature:
    shingles: frozenset[int]
    handles: frozenset[str]


_cache: OrderedDict[tuple[int, str], Signature] = OrderedDict()


def signature(post_id: int, content_hash: str, title: str, description: str) -> Signature:
    key = (post_id, content_hash)
    sig = _cache.get(key)
    if sig is None:
        text = f"{title}\n{description}"
        sig = Signature(shingles(text), handles(text))
        _cache[key] = sig
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return sig


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


@dataclass
class Match:
    post: JobPost
    client_name: str
    similarity: float
    shared_handles: list[str]
    same_client: bool

    @property
    def why(self) -> str:
        parts = []
        if self.similarity >= THRESHOLD:
            parts.append(f"{round(self.similarity * 100)}% the same wording")
        if self.shared_handles:
            parts.append("same contact: " + ", ".join(self.shared_handles))
        return "; ".join(parts)


@dataclass
class Cluster:
    matches: list[Match]
    handles: list[str]
    window: int
    scanned: int = 0
    clients: set[int] = field(default_factory=set)

    @property
    def open_posts(self) -> list[JobPost]:
        """The posts a cluster action would take down (still up, not the subject)."""
        return [m.post for m in self.matches if m.post.status != PostStatus.removed]

    @property
    def other_accounts(self) -> int:
        return len({m.post.client_id for m in self.matches if not m.same_client})


def find_similar(session: Session, post: JobPost, *, window: int = WINDOW,
                 threshold: float = THRESHOLD, limit: int = MAX_RESULTS) -> Cluster:
    base = signature(post.id, post.content_hash, post.title, post.description)
    cols = (JobPost.id, JobPost.content_hash, JobPost.title, JobPost.description,
            JobPost.client_id)
    recent = session.exec(select(*cols).where(JobPost.id != post.id)
                          .order_by(JobPost.id.desc()).limit(window)).all()
    own = session.exec(select(*cols).where(JobPost.client_id == post.client_id,
                                           JobPost.id != post.id).limit(500)).all()
    scored: dict[int, tuple[float, list[str]]] = {}
    for pid, chash, title, description, _client_id in [*recent, *own]:
        if pid in scored:
            continue
        sig = signature(pid, chash, title, description)
        sim = jaccard(base.shingles, sig.shingles)
        shared = sorted(base.handles & sig.handles)
        if sim >= threshold or shared:
            scored[pid] = (sim, shared)
    ranked = sorted(scored.items(), key=lambda kv: (-len(kv[1][1]), -kv[1][0]))[:limit]
    matches: list[Match] = []
    if ranked:
        posts = {p.id: p for p in session.exec(select(JobPost).where(
            JobPost.id.in_([pid for pid, _ in ranked])))}
        names = dict(session.exec(select(Client.id, Client.name).where(
            Client.id.in_({p.client_id for p in posts.values()}))).all())
        for pid, (sim, shared) in ranked:
            p = posts[pid]
            matches.append(Match(post=p, client_name=names.get(p.client_id, ""),
                                 similarity=sim, shared_handles=[_show(h) for h in shared],
                                 same_client=p.client_id == post.client_id))
    return Cluster(matches=matches, handles=[_show(h) for h in sorted(base.handles)],
                   window=window, scanned=len(recent) + len(own),
                   clients={m.post.client_id for m in matches})


def _show(handle: str) -> str:
    kind, _, value = handle.partition(":")
    return f"{value} ({kind})"
