"""Which rule regexes can match a text, found before any of them runs.

Every rule (contact detectors, scam cues, policy rules) has a name. ``screen(text)`` returns a
``Screen`` whose ``pick(names)`` drops only rules whose regex certainly finds nothing in
``text``, so they need not run. Two engines, same contract:

* **Hyperscan** (``hyperscan`` wheel; Linux x86-64 and macOS): every rule compiled once into
  one multi-pattern automaton in *prefilter* mode, which reports a superset of the real
  matches (look-arounds are dropped, the rest is matched exactly). One pass over the text
  names the candidate rules, typically none; only those then run as Python regexes, which
  produce the spans. About 4 us per post instead of ~60 us of gated regexes.
  ``screens(texts)`` scans a whole batch at once (see ``_Hyperscan.batch_candidates``).
* **Keyword gates** (everywhere; the fallback when hyperscan cannot be imported): per rule, a
  cheap check for literals every match must contain (``features.CONTACT_GATES``,
  ``features.SCAM_CUE_GATES``, ``policy_rules.RULE_GATES``).

Hyperscan matches bytes with PCRE's ASCII classes, Python's ``re`` matches ``str`` with
Unicode classes. The text is therefore scanned as an ASCII *projection* that keeps, for every
character, what Python's regex engine sees in it: a non-ASCII character becomes ``0`` if
Python's ``\\d`` matches it, ``a`` if ``\\w`` does, a space if ``\\s`` does, and ``\\x01``
otherwise; the four non-ASCII letters ``re.IGNORECASE`` equates with ASCII ones become those
letters; the ASCII characters Python's ``\\s`` matches but PCRE's does not (``\\x1c``-``\\x1f``)
become spaces. A projected character matches every pattern element its original matches, so
the projection can only add candidates, never lose a match. Non-ASCII literals in the
patterns (``£``, ``€``) are projected the same way. Unit-tested: on every corpus post and on
generated hostile texts, the rules give identical hits with hyperscan, with the gates and
with every regex run.
"""
from __future__ import annotations

import bisect
import codecs
import functools
import re
import threading
from collections.abc import Callable, Sequence

from .features import CONTACT_GATES, CONTACT_PATTERNS, SCAM_CUE_GATES, SCAM_CUES
from .textutil import _FOLD, fold_lower, gate_view
from .policy_rules import RULE_GATES, RULE_NAMES, RULES
from .signals import SIGNALS
from .signals import gate as signal_gate

try:  # optional: wheels exist for Linux x86-64 and macOS; elsewhere the keyword gates are used
    import hyperscan as _hs
except ImportError:  # pragma: no cover - depends on the platform
    _hs = None


def _table() -> dict[str, tuple[re.Pattern[str], Callable]]:
    table: dict[str, tuple[re.Pattern[str], Callable]] = {}
    for name, pat in CONTACT_PATTERNS.items():
        table[name] = (pat, CONTACT_GATES[name])
    for name, (pat, _) in SCAM_CUES.items():
        table[name] = (pat, SCAM_CUE_GATES[name])
    for ptype, rules in RULES.items():
        for (pat, _), gate, name in zip(rules, RULE_GATES[ptype], RULE_NAMES[ptype]):
            table[name] = (pat, gate)
    for sig in SIGNALS:
        table[sig.name] = (sig.pattern, signal_gate(sig))
    return table


#: every named rule: name -> (compiled Python regex, keyword gate)
TABLE: dict[str, tuple[re.Pattern[str], Callable]] = _table()
NAMES: tuple[str, ...] = tuple(TABLE)
_GATES = {name: gate for name, (_, gate) in TABLE.items()}



class Screen:
    """Which rules can match one text.

    ``pick(names)``: those of ``names`` (in their order) that can match; ``low``: the folded, lower-cased text of the same length for ``textutil.finditer`` (None: run the
    patterns as they are). Falsy when no rule can match."""

    __slots__ = ()
    low: str | None = None

    def pick(self, names: tuple[str, ...]) -> list[str] | tuple[str, ...]:
        return names

    def stop(self, name: str) -> int | None:
        """An offset no match of rule ``name`` ends after (None: unknown); see ``textutil.finditer``."""
        return None

    def __bool__(self) -> bool:
        return True


#: every rule runs (the reference the fast screens are tested against)
ALL = Screen()


class GateScreen(Screen):
    __slots__ = ("low", "_toks")

    def __init__(self, text: str, view: tuple[str, set[str]] | None = None):
        self.low, self._toks = view or gate_view(text)

    def pick(self, names: tuple[str, ...]) -> list[str]:
        low, toks = self.low, self._toks
        return [n for n in names if _GATES[n](low, toks)]


class ScanScreen(Screen):
    """``names``: the rules hyperscan's prefilter matched; ``ends`` (batch scans): the offset of
    the last prefilter match of each, which no real match can end after."""

    __slots__ = ("_text", "_low", "names", "_ends")

    def __init__(self, text: str, names: set[str], ends: dict[str, int] | None = None):
        self._text, self._low, self.names, self._ends = text, None, names, ends

    def pick(self, names: tuple[str, ...]) -> list[str]:
        found = self.names
        return [n for n in names if n in found]

    def stop(self, name: str) -> int | None:
        return self._ends[name] if self._ends is not None else None

    def __bool__(self) -> bool:
        return bool(self.names)

    @property
    def low(self) -> str:
        if self._low is None:
            self._low = fold_lower(self._text)
        return self._low


# ------------------------------------------------------------------ the ASCII projection
_ERRORS = "trustdesk.rulescan.project"


@functools.lru_cache(maxsize=4096)
def project_char(c: str) -> str:
    """The ASCII stand-in for a non-ASCII character (see the module docstring)."""
    if ord(c) in _FOLD:
        return _FOLD[ord(c)]
    if c.isdecimal():
        return "0"
    if c.isalnum():
        return "a"
    if c.isspace():
        return " "
    return "\x01"


def _project_error(exc: UnicodeEncodeError) -> tuple[str, int]:
    return "".join(project_char(c) for c in exc.object[exc.start:exc.end]), exc.end


codecs.register_error(_ERRORS, _project_error)
#: ASCII characters Python's \s matches and PCRE's does not (plus \v, whose PCRE status varies)
_SPACES = bytes.maketrans(b"\x0b\x1c\x1d\x1e\x1f", b"     ")


def project(text: str) -> bytes:
    """The text as the bytes hyperscan scans."""
    return text.encode("ascii", _ERRORS).translate(_SPACES)


_BOUNDED = re.compile(r"\{(\d+),\d+\}\??")


def project_pattern(pattern: str) -> str:
    """A Python pattern for hyperscan: non-ASCII literals replaced by their projection, and
    bounded repeats ``{m,n}`` widened to ``{m,}`` (a superset: still a valid prefilter, and
    hyperscan scans unbounded repeats faster)."""
    pattern = _BOUNDED.sub(r"{\1,}", pattern)
    return "".join(c if c.isascii() else f"\\x{ord(project_char(c)):02x}" for c in pattern)


# ------------------------------------------------------------------ hyperscan database
class _Hyperscan:
    """Two databases of the same prefilters: ``db`` reports each rule once (one text per scan),
    ``db_all`` every match end (a whole batch per scan, see ``batch_candidates``). Each is
    compiled on first use (~0.4 s each): a scoring process scans batches only."""

    def __init__(self):
        flags = []
        for pat, _ in TABLE.values():
            if pat.flags & ~(re.IGNORECASE | re.UNICODE):
                raise ValueError(f"rule flags not supported by the prefilter: {pat.pattern[:40]!r}")
            tree = re._parser.parse(pat.pattern, pat.flags)
            if _anchors(tree) - _BOUNDARIES:
                raise ValueError(f"anchors are not supported by the batch screen: {pat.pattern[:40]!r}")
            if tree.getwidth()[0] == 0:  # the stop offsets (Screen.stop) assume non-empty matches
                raise ValueError(f"rules that can match the empty string are not supported: {pat.pattern[:40]!r}")
            flags.append(_hs.HS_FLAG_PREFILTER | (_hs.HS_FLAG_CASELESS if pat.flags & re.IGNORECASE else 0))
        self._exprs = [project_pattern(p.pattern).encode("ascii") for p, _ in TABLE.values()]
        self._flags = {"db": [f | _hs.HS_FLAG_SINGLEMATCH for f in flags], "db_all": flags}
        self._compiled: dict[str, object] = {}
        self._compiling = threading.Lock()
        self._local = threading.local()

    def _database(self, which: str):
        database = self._compiled.get(which)
        if database is None:
            with self._compiling:
                if which not in self._compiled:
                    database = _hs.Database(mode=_hs.HS_MODE_BLOCK)
                    database.compile(expressions=self._exprs, ids=list(range(len(TABLE))),
                                     elements=len(TABLE), flags=self._flags[which])
                    self._compiled[which] = database
                database = self._compiled[which]
        return database

    @property
    def db(self):
        return self._database("db")

    @property
    def db_all(self):
        return self._database("db_all")

    def _scratch(self, which: str):
        scratch = getattr(self._local, which, None)
        if scratch is None:
            scratch = _hs.Scratch(getattr(self, which))
            setattr(self._local, which, scratch)
        return scratch

    def candidates(self, text: str) -> set[str]:
        found: set[int] = set()
        self.db.scan(project(text), match_event_handler=_on_match, context=found, scratch=self._scratch("db"))
        return {NAMES[i] for i in found}

    def batch_candidates(self, texts: Sequence[str]) -> list[dict[str, int]]:
        """For each text, its candidate rules, each with the end (in that text) of its last
        prefilter match: ``candidates(t)`` in one scan of the texts joined by "\\n" (the per-scan
        call costs more than scanning a short post). Every match of a rule in one text is still a
        match in the joined buffer, with its end inside that text: no rule has an anchor (checked
        above) and the only context a rule reads around a match, ``\b`` (and the look-arounds the
        prefilter drops anyway), sees the non-word "\\n" as it sees a text's start or end. A
        prefilter match across the join can only add a candidate (or a later end). Without
        SINGLEMATCH hyperscan reports every end offset of a prefilter match, and a real match is a
        prefilter match: so no real match ends after the last end reported."""
        starts, pos = [], 0
        for t in texts:
            starts.append(pos)
            pos += len(t) + 1
        ends: list[tuple[int, int]] = []
        # project() maps character by character: projecting the joined texts = joining the projections
        self.db_all.scan(project("\n".join(texts)), match_event_handler=_on_any_match, context=ends,
                         scratch=self._scratch("db_all"))
        found: list[dict[str, int]] = [_NO_ENDS] * len(texts)
        for end, i in ends:
            k = bisect.bisect_right(starts, end - 1) - 1  # the text the match ends in
            if found[k] is _NO_ENDS:
                found[k] = {}
            name, end = NAMES[i], end - starts[k]
            if found[k].get(name, -1) < end:
                found[k][name] = end
        return found


_NONE: set[str] = frozenset()  # type: ignore[assignment]  # shared, never mutated
_NO_ENDS: dict[str, int] = {}  # shared, never mutated
_BOUNDARIES = {re._constants.AT_BOUNDARY, re._constants.AT_NON_BOUNDARY}


def _anchors(tree) -> set:
    """The AT codes (``^``, ``$``, ``\\b``, ...) anywhere in a parsed pattern."""
    out = set()
    for op, av in tree:
        if op is re._constants.AT:
            out.add(av)
        elif op is re._constants.BRANCH:
            for branch in av[1]:
                out |= _anchors(branch)
        elif isinstance(av, tuple):  # groups, repeats, look-arounds: the sub-pattern is the last item
            if isinstance(av[-1], re._parser.SubPattern):
                out |= _anchors(av[-1])
    return out


def _on_match(i: int, start: int, end: int, flags: int, found: set[int]) -> None:
    found.add(i)


def _on_any_match(i: int, start: int, end: int, flags: int, ends: list[tuple[int, int]]) -> None:
    ends.append((end, i))


_engine: _Hyperscan | None = None
_engine_lock = threading.Lock()


def hyperscan_available() -> bool:
    return _hs is not None


def _hyperscan() -> _Hyperscan:
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = _Hyperscan()
    return _engine


def scan_screen(text: str) -> ScanScreen:
    """The hyperscan screen (raises RuntimeError where hyperscan is not installed)."""
    if _hs is None:
        raise RuntimeError("hyperscan is not installed")
    return ScanScreen(text, _hyperscan().candidates(text))


def screen(text: str) -> Screen:
    """The fastest screen available here."""
    return scan_screen(text) if _hs is not None else GateScreen(text)


def screens(texts: Sequence[str]) -> list[Screen]:
    """``[screen(t) for t in texts]``, with one hyperscan scan for the whole batch."""
    if _hs is None:
        return [GateScreen(t) for t in texts]
    return [ScanScreen(t, set(ends), ends) if ends else ScanScreen(t, _NONE) for t, ends in
            zip(texts, _hyperscan().batch_candidates(texts))]
