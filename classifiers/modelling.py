"""Shared modelling helpers: text cleaning, tf-idf vectorisers, Platt calibration,
out-of-fold scores, threshold choice at a target precision, top contributing terms."""
from __future__ import annotations

import functools
import re

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

_MASK_RE = re.compile(r"#(URL|EMAIL|PHONE)_[0-9a-f]+#")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_RE = re.compile(r"\bhttps?://\S+|\bwww\.\S+")


def clean_text(s: str) -> str:
    """Normalise anonymised EMSCAD placeholders and real emails/URLs to shared tokens.

    Does not change anything the evidence offsets refer to: offsets always index the raw
    input fields; cleaned text only feeds the vectorisers.
    """
    # each substitution only runs if its required literal is present (same result, faster)
    if "#" in s:
        s = _MASK_RE.sub(lambda m: f" x{m.group(1).lower()}x ", s)
    if "@" in s:
        s = _EMAIL_RE.sub(" xemailx ", s)
    if "http" in s or "www." in s:
        s = _URL_RE.sub(" xurlx ", s)
    return s


def make_word_vectorizer(max_features: int) -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.9, max_features=max_features, sublinear_tf=True,
                           strip_accents="unicode", lowercase=True, dtype=np.float32, token_pattern=r"(?u)\b\w[\w']*\b")


def make_char_vectorizer(max_features: int) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, max_df=0.9, max_features=max_features,
                           sublinear_tf=True, lowercase=True, dtype=np.float32)


def platt_fit(scores: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """Platt scaling p = sigmoid(a*s + b), fitted with (optional) sample weights."""
    lr = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    lr.fit(scores.reshape(-1, 1), y, sample_weight=weights)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def platt_apply(scores: np.ndarray, ab: tuple[float, float] | list[float]) -> np.ndarray:
    z = ab[0] * np.asarray(scores, dtype=np.float64) + ab[1]
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def oof_decision(make_model, X, y, groups, sample_weight=None, n_splits: int = 5) -> np.ndarray:
    """Out-of-fold decision_function values with GroupKFold (deterministic: no shuffling)."""
    out = np.zeros(X.shape[0], dtype=np.float64)
    gkf = GroupKFold(n_splits=n_splits)
    for tr, te in gkf.split(X, y, groups):
        m = make_model()
        m.fit(X[tr], y[tr], sample_weight=None if sample_weight is None else sample_weight[tr])
        out[te] = m.decision_function(X[te])
    return out


def threshold_for_precision(p: np.ndarray, y: np.ndarray, target: float, weights: np.ndarray | None = None,
                            min_threshold: float = 0.5) -> float:
    """Lowest threshold >= ``min_threshold`` whose (weighted) precision on these rows is >= target.

    Candidates are the distinct scores >= ``min_threshold``. If none reaches the target, the
    candidate with the best precision; if there is no candidate, ``min_threshold`` itself.
    """
    w = np.ones_like(p) if weights is None else weights
    order = np.argsort(-p, kind="stable")
    ps, ys, ws = p[order], y[order], w[order]
    tp = np.cumsum(ws * ys)
    fp = np.cumsum(ws * (1 - ys))
    prec = tp / np.maximum(tp + fp, 1e-12)
    # candidate cut after position i -> threshold ps[i]; only at distinct score boundaries
    cands = [i for i in range(len(ps)) if ps[i] >= min_threshold and (i + 1 == len(ps) or ps[i + 1] != ps[i])]
    if not cands:
        return float(min_threshold)
    for i in reversed(cands):  # lowest threshold first
        if prec[i] >= target and tp[i] > 0:
            return float(ps[i])
    return float(ps[max(cands, key=lambda i: prec[i])])


def hstack(blocks) -> sp.csr_matrix:
    return sp.hstack(blocks, format="csr", dtype=np.float32)


def top_terms(X, rows: np.ndarray, W: np.ndarray, cls: np.ndarray, n_cols: int, k: int = 3,
              names: list[str] | None = None) -> list[list[tuple[int | str, float]]]:
    """Top contributing terms of many rows at once: for each (r, c) in zip(rows, cls), the
    top-k (column, X[r, j] * W[c, j]) with positive contribution over the columns j < n_cols
    of CSR matrix X, highest first, ties in stored order; ``names[j]`` instead of the column
    ``j`` when ``names`` is given. ``rows`` may repeat (one row scored against several
    coefficient rows). One sorted pass over the selected CSR entries; only the k kept per
    request reach Python."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return []
    start, stop = X.indptr[rows], X.indptr[rows + 1]
    lens = stop - start
    seg = np.repeat(np.arange(len(rows)), lens)  # which request each stored entry belongs to
    pos = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(start, lens)
    idx, vals = X.indices[pos], X.data[pos]
    if X.shape[1] > n_cols:  # X holds other columns too
        keep = idx < n_cols
        seg, idx, vals = seg[keep], idx[keep], vals[keep]
    contrib = vals.astype(np.float64) * W[np.asarray(cls)[seg], idx]
    # only positive contributions are ever kept, and in descending order they all come before the
    # others: dropping the rest first leaves the same top k, in the same (stable) order
    pos = contrib > 0
    seg, idx, contrib = seg[pos], idx[pos], contrib[pos]
    order = by_request_then_descending(seg, contrib, len(rows))
    counts = np.bincount(seg, minlength=len(rows))
    rank = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)  # place within its request
    order = order[rank < k]
    cols = idx[order].tolist()
    out: list[list[tuple[int | str, float]]] = [[] for _ in range(len(rows))]
    for s, j, c in zip(seg[order].tolist(), cols if names is None else [names[j] for j in cols], contrib[order].tolist()):
        out[s].append((j, c))
    return out


def by_request_then_descending(seg: np.ndarray, contrib: np.ndarray, n_requests: int) -> np.ndarray:
    """``np.lexsort((-contrib, seg))``: by request, then contribution descending, ties in stored
    order. Done as two stable sorts (by contribution, then by request) because the request ids
    sort as int16 with numpy's radix sort: ~3x faster than lexsort on a batch's entries."""
    order = np.argsort(-contrib, kind="stable")
    key = seg[order]
    if n_requests <= np.iinfo(np.int16).max:
        key = key.astype(np.int16)
    return order[np.argsort(key, kind="stable")]


class StackedLinear:
    """The decision functions of several fitted linear models (LogisticRegression) that read the
    same sparse rows: one sparse product per coefficient dtype instead of one scikit-learn call
    (input validation, a float copy of X, a matrix-vector product) per model.

    ``decisions(X, extras)[k]`` equals ``models[k].decision_function(hstack([X, extras[k]]))``
    bit for bit (``extras[k]``: the dense columns model k reads after X's ``n_cols``, or None
    when it reads X alone). Why the floats are identical: scipy's CSR product adds up each output
    element over the row's stored entries in stored order, whatever the number of columns on the
    right, in the coefficients' dtype; ``hstack`` gives rows of X's entries in sorted column order
    (hence X must have sorted indices, as the tf-idf vectorisers produce) followed by the
    non-zero extras in column order; so the text sum, then each non-zero extra's product added
    in column order, then the intercept, is the same arithmetic in the same order.
    Unit-tested against scikit-learn (``tests/unit/classifiers/test_stacked_linear.py``) and
    pinned by the scorer's golden output."""

    def __init__(self, models: list, n_cols: int):
        self._intercepts = [m.intercept_ for m in models]
        self._extra_coef = [m.coef_[:, n_cols:] for m in models]  # (classes, extra columns)
        by_dtype: dict[np.dtype, list[int]] = {}
        for k, m in enumerate(models):
            by_dtype.setdefault(m.coef_.dtype, []).append(k)
        #: per dtype: the stacked text coefficients (n_cols, all classes) and each model's columns in them
        self._groups: list[tuple[np.ndarray, list[tuple[int, int, int]]]] = []
        for ks in by_dtype.values():
            W = np.ascontiguousarray(np.vstack([models[k].coef_[:, :n_cols] for k in ks]).T)
            ends = np.cumsum([models[k].coef_.shape[0] for k in ks]).tolist()
            self._groups.append((W, [(k, e - models[k].coef_.shape[0], e) for k, e in zip(ks, ends)]))

    def decisions(self, X, extras: list[np.ndarray | None]) -> list[np.ndarray]:
        """One decision array per model: (n,) for a binary model, (n, classes) otherwise."""
        if not X.has_sorted_indices:
            raise ValueError("StackedLinear needs CSR rows with sorted indices (see the class docstring)")
        out: list[np.ndarray] = [None] * len(self._intercepts)  # type: ignore[list-item]
        for W, members in self._groups:
            D = X @ W
            for k, a, b in members:
                S = self._add_extras(D[:, a:b], extras[k], self._extra_coef[k], X.dtype)
                dec = S + self._intercepts[k]
                out[k] = dec.reshape(-1) if dec.shape[1] == 1 else dec
        return out

    @staticmethod
    def _add_extras(S: np.ndarray, E: np.ndarray | None, coef: np.ndarray, dtype) -> np.ndarray:
        """``S`` plus each non-zero extra column's product, column by column (the order hstack
        stores them in); extras are cast to X's dtype first, as hstack does."""
        if E is None or not E.any():
            return S
        S = S.copy()
        E = E.astype(dtype, copy=False)
        for j in range(E.shape[1]):
            rows = np.flatnonzero(E[:, j])
            if len(rows):
                S[rows] += E[rows, j:j + 1] * coef[:, j]
        return S


@functools.lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str]:
    parts = [re.escape(t) for t in term.split()]
    return re.compile(r"(?<![\w])" + r"\W+".join(parts) + r"(?![\w])", re.IGNORECASE)


def locate_term(term: str, title: str, description: str) -> tuple[str, int, int] | None:
    """Find a word n-gram (as the vectoriser tokenised it) in the raw fields."""
    pat = _term_pattern(term)
    for field, text in (("title", title), ("description", description)):
        m = pat.search(text)
        if m:
            return field, m.start(), m.end()
    return None


def pack_vectorizer(v: TfidfVectorizer) -> dict:
    """Compact, skops-friendly form of a fitted TfidfVectorizer (terms + idf arrays)."""
    terms = np.empty(len(v.vocabulary_), dtype=object)
    for t, j in v.vocabulary_.items():
        terms[j] = t
    return {"analyzer": v.analyzer, "params": {k: v.get_params()[k] for k in ("ngram_range", "min_df", "max_df", "max_features")},
            "terms": np.array(terms.tolist(), dtype=str), "idf": np.asarray(v.idf_, dtype=np.float64)}


def unpack_vectorizer(d: dict, template: TfidfVectorizer | None = None) -> TfidfVectorizer:
    """Rebuild a vectoriser; ``template`` (unfitted, same settings) defaults to the post vectorisers."""
    if template is None:
        template = make_char_vectorizer(None) if d["analyzer"] == "char_wb" else make_word_vectorizer(None)
    v = template
    v.vocabulary_ = {str(t): i for i, t in enumerate(d["terms"].tolist())}
    v.idf_ = d["idf"]
    return v


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
        n_docs = len(texts)
        pre = self.preprocess
        if self.analyzer == "char_wb":
            # each document: "\x00 w1 \x00 w2 ... " (padded words, separated by id 0)
            parts = []
            for t in texts:
                words = pre(t).split()
                parts.append("\x00 " + " \x00 ".join(words) + " " if words else "")
            cps = np.frombuffer(("".join(parts) + "\x00").encode("utf-32-le"), dtype=np.uint32)
            ids = self.lut.take(np.minimum(cps, len(self.lut) - 1))  # beyond the alphabet: 0
            doc = np.repeat(np.arange(n_docs, dtype=np.int64), [len(p) for p in parts])
            doc = np.append(doc, max(n_docs - 1, 0))  # the final "\x00"
        else:
            tok_id, tok = self.tok_id, self.tokenize
            flat: list[int] = []
            dl = []
            for t in texts:
                ts = tok(pre(t))
                flat.extend([tok_id.get(w, 0) for w in ts])
                flat.append(0)
                dl.append(len(ts) + 1)
            ids = np.array(flat, dtype=np.int64)
            doc = np.repeat(np.arange(n_docs, dtype=np.int64), dl)
        r, c = self._ngram_hits(ids, doc) if len(ids) else (np.zeros(0, np.int64), np.zeros(0, np.int64))
        X = _count_matrix(r, c, n_docs, self.n_features)
        np.log(X.data, X.data)
        X.data += 1.0
        X.data *= self.idf[X.indices]
        from sklearn.preprocessing import normalize

        return normalize(X, norm="l2", copy=False)
