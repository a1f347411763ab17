"""Text utilities shared by the rule modules (features, policy_rules, rulescan, rules): the Hit
type, case folding, keyword-gate views, span iteration and de-duplication. Imports nothing
of the package, so every rule module can import it without a cycle."""
from __future__ import annotations

import re
from typing import NamedTuple


class Hit(NamedTuple):
    """One regex match: ``text == source[start:end]`` (a named tuple: built by the thousand per
    batch, three times cheaper than a frozen dataclass)."""

    kind: str
    start: int
    end: int
    text: str
    why: str


# --------------------------------------------------------------------------------------
# keyword gates: cheap NECESSARY conditions checked before a regex is run (most posts match
# none of the rules). A gate may pass when the regex then finds nothing, never the other way
# round: each keyword below is a literal every match of that regex must contain. Gates look
# at ``gate_view(text)`` = (lower-cased text with the two non-ASCII case-insensitive
# equivalents of ASCII letters folded, set of its [a-z0-9]+ tokens); token keywords are
# used only for words the regex bounds with ``\b`` on both sides. Unit-tested: gated and
# ungated results are identical on every post of the training corpora.
# --------------------------------------------------------------------------------------
#: the only non-ASCII characters re.IGNORECASE matches to ASCII letters (checked over all of
#: Unicode): dotted capital I, dotless i, long s, Kelvin sign. Folded BEFORE lower(), because
#: "İ".lower() is two characters ("i" + combining dot) and would hide "DİRECTLY" from "directly".
_FOLD = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}
_TOKEN_RE = re.compile(r"[a-z0-9]+")


def fold_lower(text: str) -> str:
    """``text`` lower-cased with the four letters above folded first; the same length as ``text``
    whenever ``text`` holds no other character whose lower case is longer (checked by finditer)."""
    return text.lower() if text.isascii() else text.translate(_FOLD).lower()


def gate_view(text: str) -> tuple[str, set[str]]:
    low = fold_lower(text)
    return low, set(_TOKEN_RE.findall(low))


_CASE_SENSITIVE: dict[re.Pattern[str], re.Pattern[str]] = {}


def finditer(pat: re.Pattern[str], text: str, low: str | None, stop: int | None = None):
    """Matches of ``pat`` in ``text``; read spans with ``m.start()/m.end()`` and take the text
    from ``text`` itself (never ``m.group()``).

    With ``low`` (``gate_view(text)[0]``: folded, lower-cased, the SAME length as ``text``), a
    re.IGNORECASE pattern runs case-sensitively over ``low`` instead: the same spans, 2-3x faster
    (sre's case-insensitive matching is slow). Valid because every IGNORECASE pattern here is
    written in lower case and ``low`` folds the only non-ASCII letters IGNORECASE equates with
    ASCII ones; the gated-vs-ungated equality tests run the IGNORECASE originals as reference.

    ``stop`` (``Screen.stop``): no match of ``pat`` ends after this offset, so the iteration ends
    with the match that reaches it instead of searching the rest of the text (matches are
    non-empty and do not overlap: a later one would end after ``stop``).
    """
    it = _finditer(pat, text, low)
    return it if stop is None else _until(it, stop)


def _finditer(pat: re.Pattern[str], text: str, low: str | None):
    if low is None or len(low) != len(text):
        return pat.finditer(text)
    fast = _CASE_SENSITIVE.get(pat)
    if fast is None:  # the pattern itself when it is not IGNORECASE
        fast = _CASE_SENSITIVE[pat] = re.compile(pat.pattern, pat.flags & ~re.IGNORECASE) if pat.flags & re.IGNORECASE else pat
    return fast.finditer(low) if fast is not pat else pat.finditer(text)


def _until(matches, stop: int):
    for m in matches:
        yield m
        if m.end() >= stop:
            return


def _any(low: str, kws: tuple[str, ...]) -> bool:
    for k in kws:
        if k in low:
            return True
    return False


def dedupe_hits(hits: list[Hit]) -> list[Hit]:
    """Sort by position and drop hits contained in an earlier, longer hit of any kind."""
    hits = sorted(hits, key=lambda h: (h.start, -(h.end - h.start)))
    out: list[Hit] = []
    for h in hits:
        if any(o.start <= h.start and h.end <= o.end for o in out):
            continue
        out.append(h)
    return out


def has_any(*kws: str):
    """A keyword gate ``gate(low, toks)``: True when any of ``kws`` is a substring of ``low``."""
    def gate(low: str, toks: set[str]) -> bool:
        for k in kws:
            if k in low:
                return True
        return False

    return gate
