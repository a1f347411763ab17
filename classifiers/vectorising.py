"""Fast, exact re-implementations of fitted ``TfidfVectorizer.transform`` for the post
vectorisers: n-grams looked up as packed integer codes with numpy (``CodeTable``), and the
char n-grams of each distinct word kept between batches (``WordRows``)."""
from __future__ import annotations

import threading

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer


def _count_matrix(rows: np.ndarray, cols: np.ndarray, n_rows: int,
                  n_cols: int) -> sp.csr_matrix:
    """float32 CSR counting each (row, col) pair, indices sorted: one sort of the pairs as
    ``row * n_cols + col`` keys, then run lengths (faster than scipy's COO -> CSR with
    ``sum_duplicates``, which sorts each row again)."""
    key = rows * n_cols + cols
    key.sort()
    if len(key):
        first = np.empty(len(key), dtype=bool)
        first[0] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        starts = np.flatnonzero(first)
    else:
        starts = np.zeros(0, dtype=np.int64)
    unique = key[starts]
    counts = np.diff(np.append(starts, len(key))).astype(np.float32)
    row_of = unique // n_cols
    indptr = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(row_of, minlength=n_rows), out=indptr[1:])
    columns = (unique - row_of * n_cols).astype(np.int32)
    X = sp.csr_matrix((counts, columns, indptr), shape=(n_rows, n_cols))
    X.has_sorted_indices = True  # keys were sorted: columns ascend within each row
    return X


class CodeTable:
    """An exact hash table from packed n-gram codes (non-negative int64) to feature columns,
    looked up for a whole array at once with numpy: two-choice cuckoo hashing. Every key
    sits in one of its two slots (``T1[h1(key)]`` or ``T2[h2(key)]``), so a lookup is two
    gathers and two comparisons per code, with no branch and no probe sequence (a binary
    search of the sorted codes took ~14 dependent reads per code: most of the vectorising).

    The hashes are multiplicative (``(code * odd) >> shift``, wrapping uint64); the table
    is built once per process, growing or taking new multipliers until every key is placed
    (at most half full, so that takes a try or two)."""

    _EMPTY = -1  # no code is negative

    def __init__(self, codes, features):
        codes = np.asarray(codes, dtype=np.int64)
        features = np.asarray(features, dtype=np.int64)
        if len(np.unique(codes)) != len(codes):
            raise ValueError("duplicate n-gram codes")
        bits = max(4, int(len(codes)).bit_length() + 1)  # each table >= 2x the keys
        rng = np.random.default_rng(0x5EED)  # fixed: the same tables in every process
        while True:
            for _attempt in range(8):
                mult = rng.integers(1, 2**63, size=2, dtype=np.uint64) | np.uint64(1)
                placed = self._place(codes, features, bits, mult)
                if placed is not None:
                    self.bits, self.mult = bits, mult
                    self.shift = np.uint64(64 - bits)
                    self.keys, self.feats = placed
                    return
            bits += 1

    @staticmethod
    def _slot(code: int, bits: int, mult) -> int:
        """``lookup``'s hash of one code, in Python integers (uint64 wrapping)."""
        return ((code * int(mult)) % 2**64) >> (64 - bits)

    @classmethod
    def _place(cls, codes, features, bits: int, mult):
        size = 1 << bits
        keys = np.full((2, size), cls._EMPTY, dtype=np.int64)
        feats = np.full((2, size), -1, dtype=np.int64)
        slot_keys = [dict(), dict()]  # table -> slot -> (code, feature), while placing
        for code, feature in zip(codes.tolist(), features.tolist()):
            item, side = (code, feature), 0
            for _kick in range(4 * bits):
                slot = cls._slot(item[0], bits, mult[side])
                item, slot_keys[side][slot] = slot_keys[side].get(slot), item
                if item is None:
                    break
                side ^= 1
            else:
                return None
        for side in (0, 1):
            for slot, (code, feature) in slot_keys[side].items():
                keys[side, slot], feats[side, slot] = code, feature
        return keys, feats

    def lookup(self, codes: np.ndarray) -> np.ndarray:
        """The feature column of each code, -1 where the code is not a key."""
        u = codes.view(np.uint64)
        h = u * self.mult[0]
        h >>= self.shift
        out = np.where(self.keys[0].take(h) == codes, self.feats[0].take(h), -1)
        h = u * self.mult[1]
        h >>= self.shift
        return np.where(self.keys[1].take(h) == codes, self.feats[1].take(h), out)


class FastTfidf:
    """Batch re-implementation of a fitted ``TfidfVectorizer.transform`` (same output).

    sklearn's transform builds every n-gram as a Python string and looks each up in a dict,
    which dominated scoring time. Here the n-grams are looked up as integer codes with numpy:

    * ``char_wb``: characters map to small ids (0 = not in any vocabulary term); the padded
      words of a whole batch are laid out in one array separated by id 0, and every window
      of length n (min_n..max_n) is packed into an int64 and looked up in the vocabulary's
      codes of length n (``CodeTable``). A window that would cross a word or document
      boundary contains a 0, and no vocabulary code does, so it finds nothing, exactly like
      sklearn's per-word loop (a padded word shorter than n yields no n-gram; one of length
      n yields itself once).
    * ``word``: the vectoriser's own preprocessor and tokenizer; tokens map to ids of the
      tokens that occur in vocabulary terms (0 for the others), n-grams to packed id tuples.

    Then the same tf-idf steps as sklearn (float32 counts, 1 + log tf, x idf, L2 rows).
    Equality with sklearn is unit-tested (tests/unit/classifiers/test_features.py).
    ``supported(v)`` is False for settings this does not cover; callers fall back.
    """

    def __init__(self, v: TfidfVectorizer):
        self.v = v
        self.analyzer = v.analyzer
        self.min_n, self.max_n = v.ngram_range
        self.preprocess = v.build_preprocessor()
        self.n_features = len(v.vocabulary_)
        self.idf = np.asarray(v.idf_)
        terms = sorted(v.vocabulary_.items(), key=lambda kv: kv[1])
        if self.analyzer == "char_wb":
            alphabet = sorted({ch for t, _ in terms for ch in t})
            self.bits = max(1, len(alphabet).bit_length())
            lut = np.zeros(max(ord(c) for c in alphabet) + 1, dtype=np.int64)
            for i, ch in enumerate(alphabet, start=1):
                lut[ord(ch)] = i
            lut[0] = 0
            self.lut = np.append(lut, 0)  # its last entry (0) stands for every code point past it
            ids = {ch: int(lut[ord(ch)]) for ch in alphabet}
            codes = [self._pack([ids[c] for c in t]) for t, _ in terms]
        else:
            self.tokenize = v.build_tokenizer()
            toks = sorted({w for t, _ in terms for w in t.split(" ")})
            self.tok_id = {w: i for i, w in enumerate(toks, start=1)}
            self.bits = max(1, (len(toks) + 1).bit_length())
            codes = [self._pack([self.tok_id[w] for w in t.split(" ")]) for t, _ in terms]
        lengths = [len(t) if self.analyzer == "char_wb" else t.count(" ") + 1 for t, _ in terms]
        self.tables = {n: CodeTable([c for c, k in zip(codes, lengths) if k == n],
                                    [j for (_, j), k in zip(terms, lengths) if k == n])
                       for n in range(self.min_n, self.max_n + 1)}
        if self.analyzer == "char_wb":
            self.words = WordRows(self.n_features)

    @staticmethod
    def supported(v: TfidfVectorizer) -> bool:
        p = v.get_params()
        ok = (p["analyzer"] in ("char_wb", "word") and p["stop_words"] is None and p["norm"] == "l2" and p["use_idf"]
              and p["sublinear_tf"] and not p["binary"] and p["vocabulary"] is None and p["input"] == "content"
              and p["decode_error"] == "strict" and p["preprocessor"] is None and p["tokenizer"] is None
              and p["ngram_range"][0] >= 1)
        if not ok:
            return False
        lo, hi = p["ngram_range"]
        terms = list(v.vocabulary_)
        if p["analyzer"] == "char_wb":
            alpha = {ch for t in terms for ch in t}
            return "\x00" not in alpha and len(alpha).bit_length() * hi <= 62
        ntok = len({w for t in terms for w in t.split(" ")})
        return (ntok + 1).bit_length() * hi <= 62

    def _pack(self, ids) -> int:
        c = 0
        for i in ids:
            c = (c << self.bits) | i
        return c

    def _ngram_hits(self, ids: np.ndarray, doc: np.ndarray):
        """All windows of ids (n = min_n..max_n) that are vocabulary terms -> (doc, feature)
        pairs. A window holding a 0 is no term: every id of a term is > 0."""
        rows, cols = [], []
        code = np.zeros(len(ids), dtype=np.int64)
        for n in range(1, self.max_n + 1):
            m = len(ids) - n + 1
            if m <= 0:
                break
            code = (code[:m] << self.bits) | ids[n - 1:]  # code[i] packs ids[i : i + n]
            if n < self.min_n:
                continue
            feat = self.tables[n].lookup(code)
            hit = feat >= 0
            rows.append(doc[:m][hit])
            cols.append(feat[hit])
        return np.concatenate(rows) if rows else np.zeros(0, np.int64), np.concatenate(cols) if cols else np.zeros(0, np.int64)

    def transform(self, texts) -> sp.csr_matrix:
        if self.analyzer == "char_wb":
            X = self._char_counts(texts)
        else:
            X = self._word_counts(texts)
        np.log(X.data, X.data)
        X.data += 1.0
        X.data *= self.idf[X.indices]
        from sklearn.preprocessing import normalize

        return normalize(X, norm="l2", copy=False)

    def _char_counts(self, texts) -> sp.csr_matrix:
        """char_wb counts: a document's n-grams are the sum of its words' n-grams (each padded
        word on its own), so the counts are (documents x distinct words) @ (distinct words x
        n-grams). Each distinct word's n-grams are found once and kept (``WordRows``): a batch
        only looks up the words no earlier batch had."""
        pre = self.preprocess
        words, per_doc = [], []
        for t in texts:
            ws = pre(t).split()
            words.extend(ws)
            per_doc.append(len(ws))
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), per_doc)
        with self.words.lock:
            slots, W = self.words.rows(words, self._word_ngrams)
        D = _count_matrix(doc, slots, len(texts), W.shape[0])
        X = D @ W  # columns in no order within a row: two linear transpositions sort them
        return X.T.tocsr().T.tocsr()

    def _word_ngrams(self, words: list[str]) -> sp.csr_matrix:
        """The char_wb n-gram counts of each word (one row per word): the words laid out as
        NUL, space, w1, space, NUL, space, w2, ..., NUL (padded words separated by id 0), and
        every window looked up."""
        text = "".join(f"\x00 {w} " for w in words) + "\x00"
        # (surrogatepass: a lone surrogate is a code point outside the alphabet, as in sklearn)
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        ids = self.lut.take(np.minimum(cps, len(self.lut) - 1))  # beyond the alphabet: 0
        row = np.repeat(np.arange(len(words), dtype=np.int64), [len(w) + 3 for w in words])
        row = np.append(row, max(len(words) - 1, 0))  # the final "\x00"
        r, c = self._ngram_hits(ids, row)
        return _count_matrix(r, c, len(words), self.n_features)

    def _word_counts(self, texts) -> sp.csr_matrix:
        pre, tok_id, tok = self.preprocess, self.tok_id, self.tokenize
        flat: list[int] = []
        dl = []
        for t in texts:
            ts = tok(pre(t))
            flat.extend([tok_id.get(w, 0) for w in ts])
            flat.append(0)
            dl.append(len(ts) + 1)
        ids = np.array(flat, dtype=np.int64)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), dl)
        empty = np.zeros(0, np.int64)
        r, c = self._ngram_hits(ids, doc) if len(ids) else (empty, empty)
        return _count_matrix(r, c, len(texts), self.n_features)


class WordRows:
    """The char n-gram counts of every distinct word seen so far, one CSR row per word, kept
    between batches. Marketplace text repeats its words: in a 100,000-post import, a chunk of
    500 posts has ~18,600 words, of which a median of 5 are new after the first ten chunks
    (demo marketplace; 500 on the stress mix, whose every post carries a unique number).

    ``rows(words, count)`` gives each word's row number and the rows as a CSR matrix; words
    without a row get one from ``count(new_words)`` first. Bounded: when the words would pass
    ``limit``, everything is dropped and the batch starts afresh, so memory stays ~25 MB for the
    default limit whatever the input. Callers hold ``lock`` (scoring may run in threads)."""

    def __init__(self, n_features: int, limit: int = 100_000):
        self.n_features, self.limit = n_features, limit
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.slot = _Slots()
        # capacity doubles as rows are added; only the first len(slot) rows are in use
        self.indptr = np.zeros(1024, dtype=np.int32)
        self.indices = np.zeros(16_384, dtype=np.int32)
        self.data = np.zeros(16_384, dtype=np.float32)

    def rows(self, words: list[str], count) -> tuple[np.ndarray, sp.csr_matrix]:
        slots = list(map(self.slot.__getitem__, words))  # one pass: new words get numbers
        new, self.slot.new = self.slot.new, []
        if new:
            if len(self.slot) > self.limit:
                self.clear()
                slots = list(map(self.slot.__getitem__, words))
                new, self.slot.new = self.slot.new, []
            try:
                self._add(len(self.slot) - len(new), count(new))
            except BaseException:  # numbered words without rows: start afresh next time
                self.clear()
                raise
        n, nnz = len(self.slot), int(self.indptr[len(self.slot)])
        W = sp.csr_matrix((self.data[:nnz], self.indices[:nnz], self.indptr[:n + 1]),
                          shape=(n, self.n_features), copy=False)
        return np.array(slots, dtype=np.int64), W

    def _add(self, first: int, R: sp.csr_matrix) -> None:
        """``R``'s rows as rows ``first``, ``first + 1``, ... (after the existing ones). Entries
        already handed out in a matrix are never written again: growing copies into new
        arrays."""
        n, start = R.shape[0], int(self.indptr[first])
        self.indptr = _room(self.indptr, first + n + 1)
        self.indices = _room(self.indices, start + R.nnz)
        self.data = _room(self.data, start + R.nnz)
        self.indptr[first + 1:first + n + 1] = R.indptr[1:] + start
        self.indices[start:start + R.nnz] = R.indices
        self.data[start:start + R.nnz] = R.data


class _Slots(dict):
    """word -> row number. A word not in it yet gets the next number on lookup (``map`` over
    a batch's words is then one C loop, misses included) and is listed in ``new``."""

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []

    def __missing__(self, word: str) -> int:
        slot = self[word] = len(self)
        self.new.append(word)
        return slot


def _room(a: np.ndarray, size: int) -> np.ndarray:
    """``a``, or a copy of it at least twice as large when it holds fewer than ``size`` items."""
    if size <= len(a):
        return a
    grown = np.zeros(max(size, 2 * len(a)), dtype=a.dtype)
    grown[:len(a)] = a
    return grown
