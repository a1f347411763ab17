"""The rule finders: contact details, scam cues and policy rules over one text, each a list of
Hits with spans and plain-language reasons. The patterns live in ``features`` (contacts, scam
cues) and ``policy_rules``; ``rulescan`` says which of them can match before any runs."""
from __future__ import annotations

import numpy as np

from . import rulescan
from .features import CONTACT_NAMES, CONTACT_WHY, CUE_NAMES, CONTACT_PATTERNS, SCAM_CUES, valid_phone
from .signals import NAMES as SIGNAL_NAMES
from .signals import SIGNALS
from .policy_rules import ALL_RULE_NAMES, RULES_BY_NAME, OFF_PLATFORM, POLICY_TYPES
from .textutil import Hit, dedupe_hits, finditer


def default_screen(text: str, screen=None, gates: bool = True):
    """The ``rulescan.Screen`` the rule finders use: the one passed in, every rule
    (``gates=False``, the reference for tests) or the fastest available."""
    if gates and screen is not None:
        return screen
    return rulescan.screen(text) if gates else rulescan.ALL



def find_contacts(text: str, screen=None, gates: bool = True) -> list[Hit]:
    """Contact details and attempts to move contact or payment off the platform.

    ``screen``: a precomputed ``rulescan.screen(text)`` (which rules can match);
    ``gates=False`` runs every regex (tests)."""
    scr = default_screen(text, screen, gates)
    if not scr:
        return []
    hits: list[Hit] = []
    low = scr.low
    for name in scr.pick(CONTACT_NAMES):
        pat = CONTACT_PATTERNS[name]
        if name == "MASKED_RE":
            for m in finditer(pat, text, low, scr.stop(name)):
                kind = text[m.start() + 1:m.start() + 6].lower()  # "#EMAIL_..." / "#PHONE_..."
                hits.append(Hit(kind, m.start(), m.end(), text[m.start():m.end()], f"shares an {kind} contact (anonymised)"))
            continue
        kind, why = CONTACT_WHY[name]
        for m in finditer(pat, text, low, scr.stop(name)):
            s = text[m.start():m.end()]
            if name == "PHONE_CAND_RE" and not valid_phone(s):
                continue
            hits.append(Hit(kind, m.start(), m.end(), s, why))
    return dedupe_hits(hits) if len(hits) > 1 else hits



def find_scam_cues(text: str, screen=None, gates: bool = True) -> list[Hit]:
    """Scam cue hits; ``screen``/``gates`` as in find_contacts."""
    hits = _find_named(text, default_screen(text, screen, gates), CUE_NAMES, SCAM_CUES.__getitem__)
    return dedupe_hits(hits) if len(hits) > 1 else hits


def _find_named(text: str, scr, names, rule_of) -> list[Hit]:
    """The spans of every named pattern the screen ``scr`` lets through; ``rule_of(name)`` is
    ``(pattern, why)``. One loop for the scam cues and the phrasing signals."""
    if not scr:
        return []
    hits: list[Hit] = []
    low = scr.low
    for name in scr.pick(names):
        pat, why = rule_of(name)
        for m in finditer(pat, text, low, scr.stop(name)):
            hits.append(Hit(name, m.start(), m.end(), text[m.start():m.end()], why))
    return hits


def find_policy_hits(text: str, contacts: list[Hit] | None = None, gates: bool = True, screen=None) -> list[Hit]:
    """All policy rule hits in ``text``; ``Hit.kind`` is the policy type.

    ``screen``: a precomputed ``rulescan.screen(text)`` (which rules can match); ``gates=False``
    runs every regex (tests)."""
    scr = default_screen(text, screen, gates)
    if not scr and contacts is None:
        return []
    hits: list[Hit] = []
    contacts = find_contacts(text, screen=scr) if contacts is None else contacts
    for h in contacts:
        hits.append(Hit(OFF_PLATFORM, h.start, h.end, h.text, h.why))
    low = scr.low
    for name in scr.pick(ALL_RULE_NAMES):
        ptype, pat, why = RULES_BY_NAME[name]
        for m in finditer(pat, text, low, scr.stop(name)):
            hits.append(Hit(ptype, m.start(), m.end(), text[m.start():m.end()], why))
    if len(hits) < 2:
        return hits
    # dedupe within a type only (one span may violate two policies)
    kinds = {h.kind for h in hits}
    if len(kinds) == 1:  # dedupe_hits sorts by start already: the final sort would change nothing
        return dedupe_hits(hits)
    out: list[Hit] = []
    for ptype in POLICY_TYPES:
        if ptype in kinds:
            out += dedupe_hits([h for h in hits if h.kind == ptype])
    return sorted(out, key=lambda h: (h.start, h.kind))


_SIGNAL_BY_NAME = {sig.name: sig for sig in SIGNALS}


def find_signals(text: str, screen=None, gates: bool = True) -> list[Hit]:
    """Every phrasing-signal span in ``text`` (``Hit.kind`` is the signal's name); ``screen`` /
    ``gates`` as in find_contacts."""
    return _find_named(text, default_screen(text, screen, gates), SIGNAL_NAMES, _signal_rule)


def _signal_rule(name: str) -> tuple:
    sig = _SIGNAL_BY_NAME[name]
    return sig.pattern, sig.why


def signal_matrix(texts: list[str]) -> tuple[np.ndarray, list[list[Hit]]]:
    """(n, len(SIGNAL_NAMES)) 0/1 float32 and the signal hits of each text (one screen per batch)."""
    S = np.zeros((len(texts), len(SIGNAL_NAMES)), dtype=np.float32)
    col = {n: j for j, n in enumerate(SIGNAL_NAMES)}
    all_hits = []
    for i, (t, scr) in enumerate(zip(texts, rulescan.screens(texts))):
        hits = find_signals(t, screen=scr) if scr else []
        for h in hits:
            S[i, col[h.kind]] = 1.0
        all_hits.append(hits)
    return S, all_hits
