"""Similar posts: near-duplicate text and shared contact handles across accounts.

Scam rings post the same text from several accounts, or different texts that all send
freelancers to the same e-mail address, phone number or Telegram/WhatsApp handle.

- Near duplicates: Jaccard similarity of word 3-shingle sets over the normalised title +
  description, computed exactly on the candidates.
- Shared handles: e-mails, phone numbers (7+ digits), ``t.me/x``, ``telegram: @x``,
  ``wa.me/123``, ``whatsapp +1 ...``, extracted with simple regexes and normalised.

Candidates come from the similarity index (``post_similarity_key``, filled when a post is
scored and by ``flask similar index``): a post's keys are the 64-bit hashes of its MinHash
LSH bands (``BANDS`` = 10 bands of ``ROWS`` = 3 rows over stable crc32 shingle hashes: a pair
with Jaccard 0.7 shares a band with probability 0.985, 0.5 with 0.74, 0.2 with 0.08) and of each
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

from classifiers.textutil import fold_lower
from models import Client, JobPost, PostSimilarityKey, PostStatus

from . import bulk

THRESHOLD = 0.5
WINDOW = 1000
MAX_RESULTS = 25
#: candidates taken from the index per lookup (a handle shared by thousands of posts must
#: not turn one case page into a table scan)
MAX_INDEX_CANDIDATES = 2000
BANDS, ROWS = 10, 3
_PRIME = 4294967311  # > 2**32: (a*x + b) of 32-bit values stays below 2**64


def _u32(label: str) -> int:
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=4).digest(), "big")


# the MinHash permutations h_i(x) = (a_i * x + b_i) mod _PRIME, fixed by name (not by a random
# generator whose stream could change with numpy): stored keys stay valid across upgrades
_A = np.array([_u32(f"minhash-a-{i}") | 1 for i in range(BANDS * ROWS)], dtype=np.uint64)
_B = np.array([_u32(f"minhash-b-{i}") for i in range(BANDS * ROWS)], dtype=np.uint64)
_CACHE_SIZE = 20_000

EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", re.I)
PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{6,}\d")
TELEGRAM = re.compile(r"(?:t\.me/|telegram(?:\s*(?:me|id|handle|at))?\s*[:\-]?\s*@?)"
                      r"([a-z0-9_]{4,32})", re.I)
WHATSAPP = re.compile(r"(?:wa\.me/|whats\s*app\s*(?:me|number|at|on)?\s*[:\-]?\s*)"
                      r"(\+?[\d\s().-]{7,})", re.I)
AT_HANDLE = re.compile(r"(?<![\w.])@([a-z0-9_]{4,32})\b", re.I)
WORD = re.compile(r"[a-z0-9]+")
_WORD_BYTES = re.compile(rb"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFKC", text).lower())


def normalise(text: str) -> str:
    return " ".join(_words(text))


def shingles(text: str, k: int = 3) -> frozenset[int]:
    """Word k-shingles as stable 32-bit hashes (crc32 of the space-joined words: the same in
    every process, since they are stored). The words are found in the UTF-8 bytes (they are
    ASCII, so the same words), and joined and hashed by C calls, with no Python frame per
    shingle. (A lone surrogate, outside every word, passes through the encoding.)"""
    words = _WORD_BYTES.findall(
        unicodedata.normalize("NFKC", text).lower().encode("utf-8", "surrogatepass"))
    if len(words) < k:
        return frozenset([zlib.crc32(b" ".join(words))]) if words else frozenset()
    return frozenset(map(zlib.crc32, map(b" ".join, zip(*(words[i:] for i in range(k))))))


def _key(data: bytes) -> int:
    """A signed 64-bit key (fits BIGINT) from bytes."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64, wrapping): spreads combined band values over 64 bits."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def band_keys(shingle_sets: Sequence[frozenset[int]]) -> np.ndarray:
    """(n, BANDS) int64: the MinHash LSH band keys of each shingle set, computed for the whole
    batch at once (rows of empty sets are meaningless; callers skip them)."""
    n = len(shingle_sets)
    sizes = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=n)
    if not n or not sizes.sum():
        return np.zeros((n, BANDS), dtype=np.int64)
    x = np.fromiter((v for s in shingle_sets for v in s), dtype=np.uint64, count=int(sizes.sum()))
    hashed = (np.outer(_A, x) + _B[:, None]) % np.uint64(_PRIME)  # (perms, total shingles)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    nonempty = sizes > 0
    mins = np.zeros((BANDS * ROWS, n), dtype=np.uint64)
    mins[:, nonempty] = np.minimum.reduceat(hashed, starts[nonempty], axis=1)
    with np.errstate(over="ignore"):
        combined = np.zeros((BANDS, n), dtype=np.uint64)
        for r in range(ROWS):
            combined = combined * np.uint64(_PRIME) + mins[r::ROWS]  # band b holds perms b*ROWS..
        combined = _mix(combined + np.arange(1, BANDS + 1, dtype=np.uint64)[:, None] * np.uint64(0x9E3779B97F4A7C15))
    return combined.T.view(np.int64).copy()


def index_keys(sig: "Signature") -> set[int]:
    """The index keys of a signature: one per MinHash LSH band, one per handle."""
    return keys_of([sig])[0]


def keys_of(sigs: Sequence["Signature"]) -> list[set[int]]:
    """``index_keys`` of many signatures (band keys computed for all of them at once)."""
    keys, at = key_rows(sigs)
    out: list[set[int]] = [set() for _ in sigs]
    for key, i in zip(keys.tolist(), at.tolist()):
        out[i].add(key)
    return out


def key_rows(sigs: Sequence["Signature"]) -> tuple[np.ndarray, np.ndarray]:
    """The index keys of many signatures as rows: ``(keys, at)``, two int64 arrays, ``at[i]``
    the position in ``sigs`` whose key ``keys[i]`` is; each (key, position) once. A signature's
    keys: one per MinHash LSH band (if it has shingles) and one per handle."""
    n = len(sigs)
    has_text = np.fromiter((bool(sig.shingles) for sig in sigs), dtype=bool, count=n)
    bands = band_keys([sig.shingles for sig in sigs])[has_text]
    keys = [bands.ravel()]
    at = [np.repeat(np.flatnonzero(has_text), BANDS)]
    named = [(_key(b"h" + h.encode()), i) for i, sig in enumerate(sigs) for h in sig.handles]
    if named:
        keys.append(np.array([k for k, _ in named], dtype=np.int64))
        at.append(np.array([i for _, i in named], dtype=np.int64))
    keys_all, at_all = np.concatenate(keys), np.concatenate(at)
    order = np.lexsort((keys_all, at_all))
    keys_all, at_all = keys_all[order], at_all[order]
    first = np.ones(len(keys_all), dtype=bool)
    first[1:] = (keys_all[1:] != keys_all[:-1]) | (at_all[1:] != at_all[:-1])
    return keys_all[first], at_all[first]


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def handles(text: str, gates: bool = True) -> frozenset[str]:
    """Contact handles in ``text``, normalised (``email:``, ``phone:``, ``telegram:``,
    ``whatsapp:`` prefixes).

    Keyword gates skip a regex when a literal every match must contain is absent (checked on
    the folded lower-case text, like the classifiers' gates); ``gates=False`` runs them all
    (the tests' reference)."""
    found: set[str] = set()
    low = fold_lower(text) if gates else ""
    at = not gates or "@" in text
    if at:
        for m in EMAIL.findall(text):
            found.add("email:" + m.lower())
    if not gates or "t.me/" in low or "telegram" in low:
        for m in TELEGRAM.findall(text):
            found.add("telegram:" + m.lower())
    if not gates or "wa.me/" in low or "whats" in low:
        for m in WHATSAPP.findall(text):
            digits = _digits(m)
            if len(digits) >= 7:
                found.add("phone:" + digits[-10:])
    for m in PHONE.findall(text):
        digits = _digits(m)
        if 7 <= len(digits) <= 15:
            found.add("phone:" + digits[-10:])
    if not at:
        return frozenset(found)
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


def compute_signature(title: str, description: str) -> Signature:
    text = f"{title}\n{description}"
    return Signature(shingles(text), handles(text))


def signature(post_id: int, content_hash: str, title: str, description: str) -> Signature:
    """``compute_signature``, cached per process by (post id, content hash)."""
    key = (post_id, content_hash)
    sig = _cache.get(key)
    if sig is None:
        sig = _cache[key] = compute_signature(title, description)
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return sig


@dataclass(frozen=True)
class IndexRows:
    """The similar-posts index rows of some posts, computed apart from writing them (a
    scoring job computes them before its first write: SQLite holds its one write lock from
    a transaction's first write to its commit, and the import waits for it meanwhile)."""

    post_ids: list[int]  # the posts whose keys these are (all of them rewritten)
    keys: np.ndarray  # int64, one per row
    key_post_ids: np.ndarray  # int64, the post of each row

    def only(self, post_ids: set[int]) -> "IndexRows":
        """The rows of these posts alone."""
        keep = np.isin(self.key_post_ids, np.fromiter(post_ids, dtype=np.int64,
                                                      count=len(post_ids)))
        return IndexRows([pid for pid in self.post_ids if pid in post_ids], self.keys[keep],
                         self.key_post_ids[keep])


def index_rows(posts: Iterable[tuple[int, str, str]]) -> IndexRows:
    """The index rows of these ``(id, title, description)`` posts."""
    ids, sigs = [], []
    for post_id, title, description in posts:  # not through the cache: bulk, seen once
        ids.append(post_id)
        sigs.append(compute_signature(title, description))
    if not ids:
        return IndexRows([], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    keys, at = key_rows(sigs)
    return IndexRows(ids, keys, np.asarray(ids, dtype=np.int64)[at])


def index_posts(session: Session, posts: Iterable[tuple[int, str, str]]) -> int:
    """(Re)write the index keys of these ``(id, title, description)`` posts.
    No commit: the caller's transaction owns it. Returns the number of keys."""
    return write_index(session, index_rows(posts))


def write_index(session: Session, rows: IndexRows) -> int:
    """Replace the index keys of ``rows.post_ids`` with ``rows``. No commit: the caller's
    transaction (scoring) owns it. Returns the number of keys."""
    if not rows.post_ids:
        return 0
    keys, post_ids = rows.keys, rows.key_post_ids
    conn = session.connection()
    table = PostSimilarityKey.__table__
    postgres = bulk.set_based(session)
    session.execute(table.delete().where(bulk.among_ids(table.c.post_id, rows.post_ids,
                                                        postgres)))
    if not len(keys):
        return 0
    if postgres:
        # ~10 rows per post, ~5,000 per chunk: one binary COPY, its rows laid out by numpy
        # (no statement to parse or plan, no integer printed as text and parsed back, no
        # Python call per row)
        with conn.connection.driver_connection.cursor().copy(
                "COPY post_similarity_key (key, post_id) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_binary_copy(keys, post_ids))
    else:
        # straight to the driver's executemany (two integer columns, no type processing to
        # do), which is several times faster than Core's per-row dicts
        conn.exec_driver_sql("INSERT INTO post_similarity_key (key, post_id) VALUES (?, ?)",
                             list(zip(keys.tolist(), post_ids.tolist())))
    return len(keys)


#: a row of PostgreSQL's binary COPY format for (key BIGINT, post_id INTEGER): the number of
#: fields, then each field's length and value, big-endian
_COPY_ROW = np.dtype([("fields", ">i2"), ("key_size", ">i4"), ("key", ">i8"),
                      ("post_id_size", ">i4"), ("post_id", ">i4")])
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
_COPY_TRAILER = b"\xff\xff"


def _binary_copy(keys: np.ndarray, post_ids: np.ndarray) -> bytes:
    """The whole binary COPY stream (header, rows, trailer) of these (key, post id) rows."""
    rows = np.empty(len(keys), dtype=_COPY_ROW)
    rows["fields"], rows["key_size"], rows["post_id_size"] = 2, 8, 4
    rows["key"], rows["post_id"] = keys, post_ids
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


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
        rows = session.exec(select(JobPost.id, JobPost.title, JobPost.description)
                            .where(JobPost.id.in_(ids))).all()
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
