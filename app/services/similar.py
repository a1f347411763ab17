"""Similar posts: near-duplicate text and shared contact handles across accounts.

Scam rings post the same text from several accounts, or different texts that all send
freelancers to the same e-mail address, phone number or Telegram/WhatsApp handle.

- Near duplicates: Jaccard similarity of word 3-shingle sets over the normalised title +
  description, computed exactly on the candidates.
- Shared handles: e-mails, phone numbers (7+ digits), ``t.me/x``, ``telegram: @x``,
  ``wa.me/123``, ``whatsapp +1 ...``, extracted with simple regexes and normalised.

Candidates come from the similarity index (``post_similarity_key``, filled when a post is
scored and by ``flask similar index``): a post's keys are the 64-bit hashes of its MinHash
LSH bands (``BANDS`` bands of ``ROWS`` rows over stable crc32 shingle hashes: a pair with
Jaccard 0.7 shares a band with probability 0.99, 0.5 with 0.64, 0.2 with 0.03) and of each
of its handles. Any post sharing a key, plus the ``window`` most recent posts and the
subject's client's own posts (so posts not indexed yet are still seen), is then compared
exactly. Signatures are cached per process by ``(post id, content hash)``.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from models import Client, JobPost, PostSimilarityKey, PostStatus

THRESHOLD = 0.5
WINDOW = 1000
MAX_RESULTS = 25
#: candidates taken from the index per lookup (a handle shared by thousands of posts must
#: not turn one case page into a table scan)
MAX_INDEX_CANDIDATES = 2000
BANDS, ROWS = 16, 4
_PRIME = 4294967311  # > 2**32: (a*x + b) of 32-bit values stays below 2**64
_rng = np.random.default_rng(20261126)
_A = _rng.integers(1, 2**32, size=BANDS * ROWS, dtype=np.uint64)
_B = _rng.integers(0, 2**32, size=BANDS * ROWS, dtype=np.uint64)
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


def _crc(words: Sequence[str]) -> int:
    return zlib.crc32(" ".join(words).encode())


def shingles(text: str, k: int = 3) -> frozenset[int]:
    """Word k-shingles as stable 32-bit hashes (the same in every process: they are stored)."""
    words = normalise(text).split()
    if len(words) < k:
        return frozenset([_crc(words)]) if words else frozenset()
    return frozenset(_crc(words[i:i + k]) for i in range(len(words) - k + 1))


def _key(data: bytes) -> int:
    """A signed 64-bit key (fits BIGINT) from bytes."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def index_keys(sig: "Signature") -> set[int]:
    """The index keys of a signature: one per MinHash LSH band, one per handle."""
    keys = {_key(b"h" + h.encode()) for h in sig.handles}
    if sig.shingles:
        x = np.fromiter(sig.shingles, dtype=np.uint64, count=len(sig.shingles))
        mins = ((np.outer(_A, x) + _B[:, None]) % np.uint64(_PRIME)).min(axis=1)
        for band in range(BANDS):
            keys.add(_key(bytes([band]) + mins[band * ROWS:(band + 1) * ROWS].tobytes()))
    return keys


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


def index_posts(session: Session, posts: Iterable[tuple[int, str, str, str]]) -> int:
    """(Re)write the index keys of these ``(id, content_hash, title, description)`` posts.
    No commit: the caller's transaction (scoring) owns it. Returns the number of keys."""
    rows, ids = [], []
    for post_id, content_hash, title, description in posts:
        ids.append(post_id)
        rows += [{"key": k, "post_id": post_id}
                 for k in index_keys(signature(post_id, content_hash, title, description))]
    if not ids:
        return 0
    table = PostSimilarityKey.__table__
    session.execute(table.delete().where(table.c.post_id.in_(ids)))
    if rows:
        session.execute(table.insert(), rows)
    return len(rows)


def unindexed_post_ids(session: Session, after_id: int, limit: int) -> list[int]:
    """Posts (by id, ascending, > after_id) that have no index key yet."""
    key = PostSimilarityKey.__table__
    return list(session.exec(select(JobPost.id).where(
        JobPost.id > after_id,
        ~sa.exists().where(key.c.post_id == JobPost.id)).order_by(JobPost.id).limit(limit)).all())


def backfill(session: Session, *, chunk: int = 1000, progress=None) -> int:
    """Index every post that has no key yet, committing per chunk (resumable: a rerun picks
    up where it stopped). ``progress(n)`` is called after each chunk. Returns posts indexed."""
    done, last = 0, 0
    while ids := unindexed_post_ids(session, last, chunk):
        rows = session.exec(select(JobPost.id, JobPost.content_hash, JobPost.title,
                                   JobPost.description).where(JobPost.id.in_(ids))).all()
        index_posts(session, rows)
        session.commit()
        done, last = done + len(ids), ids[-1]
        if progress is not None:
            progress(len(ids))
    return done


def _indexed_candidates(session: Session, post_id: int, sig: "Signature") -> list[int]:
    keys = index_keys(sig)
    if not keys:
        return []
    table = PostSimilarityKey.__table__
    return list(session.execute(
        sa.select(table.c.post_id).where(table.c.key.in_(keys), table.c.post_id != post_id)
        .distinct().order_by(table.c.post_id.desc()).limit(MAX_INDEX_CANDIDATES)).scalars())


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
    seen = {row[0] for row in (*recent, *own)}
    indexed = [pid for pid in _indexed_candidates(session, post.id, base) if pid not in seen]
    from_index = session.exec(select(*cols).where(JobPost.id.in_(indexed))).all() if indexed else []
    scored: dict[int, tuple[float, list[str]]] = {}
    for pid, chash, title, description, _client_id in [*recent, *own, *from_index]:
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
                   window=window, scanned=len(recent) + len(own) + len(from_index),
                   clients={m.post.client_id for m in matches})


def _show(handle: str) -> str:
    kind, _, value = handle.partition(":")
    return f"{value} ({kind})"
