"""The rule screens (classifiers.rulescan) must never change what the rules find: hyperscan's
prefilter and the keyword gates only decide which regexes run, and from where."""
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers import rulescan
from classifiers.rules import find_contacts, find_policy_hits, find_scam_cues

from .test_features import _corpus_texts

needs_hyperscan = pytest.mark.skipif(not rulescan.hyperscan_available(), reason="hyperscan has no wheel for this platform")


def _all_hits(text: str, scr) -> tuple:
    return (find_contacts(text, screen=scr), find_policy_hits(text, screen=scr), find_scam_cues(text, screen=scr))


def _reference(text: str) -> tuple:
    return (find_contacts(text, gates=False), find_policy_hits(text, gates=False), find_scam_cues(text, gates=False))


@needs_hyperscan
def test_hyperscan_and_gates_find_exactly_what_every_regex_finds_on_the_corpora():
    fired = 0
    for text in _corpus_texts():
        ref = _reference(text)
        assert _all_hits(text, rulescan.scan_screen(text)) == ref, text
        assert _all_hits(text, rulescan.GateScreen(text)) == ref, text
        fired += any(ref)
    assert fired > 500  # the corpora exercise the rules, not only their absence



@needs_hyperscan
def test_batch_screens_find_exactly_what_every_regex_finds_on_the_corpora():
    texts = _corpus_texts()
    for k in range(0, len(texts), 61):
        batch = texts[k:k + 61]
        for text, scr in zip(batch, rulescan.screens(batch)):
            assert rulescan.scan_screen(text).names <= scr.names, text  # the join loses no candidate
            assert _all_hits(text, scr) == _reference(text), text


@needs_hyperscan
def test_batch_screens_stop_offsets_bound_every_real_match():
    """``Screen.stop``: no real match of a candidate rule ends after its last prefilter end (the
    rule finders stop searching there)."""
    texts = _corpus_texts()
    bounded = 0
    for k in range(0, len(texts), 61):
        batch = texts[k:k + 61]
        for text, scr in zip(batch, rulescan.screens(batch)):
            for name in scr.names:
                ends = [m.end() for m in rulescan.TABLE[name][0].finditer(text)]
                assert all(e <= scr.stop(name) for e in ends), (name, text)
                bounded += bool(ends)
    assert bounded > 500
    assert rulescan.scan_screen("send your whatsapp number").stop("off_platform:0") is None  # single scans: unknown


@needs_hyperscan
def test_batch_screen_rejects_anchored_rules():
    import re

    assert rulescan._anchors(re._parser.parse(r"\bpay\B")) <= rulescan._BOUNDARIES
    for pat in (r"^pay", r"pay$", r"(?:x|\Apay)", r"(?<=a)(?:pay\Z)+"):
        assert rulescan._anchors(re._parser.parse(pat)) - rulescan._BOUNDARIES, pat


# fragments that make rules fire, near-miss, or stress the projection (case-equivalent letters,
# Unicode spaces and digits, the ASCII separators Python's \s matches, currency signs)
_FRAGMENTS = [
    "pay", "for the training", "starter kit", "registration fee", "cheque", "deposit the check", "send back the remaining",
    "reshipping", "forward the packages", "social security number", "bank account details", "interview", "on telegram",
    "contact the hiring manager", "no experience needed", "earn $500 per week", "£300 a day", "earn €1,000 weekly",
    "gift cards", "data entry from home", "bit.ly/x1", "verify your account", "crypto wallet", "commission per task",
    "john@gmail.com", "john [at] gmail [dot] com", "gmail dot com", "#EMAIL_0123abcd#", "+44 7700 900123",
    "555-123-4567", "5 5 5 1 2 3 4 5 6 7", "whatsapp +1 555 123 4567", "t.me/abc", "discord.gg/xyz", "skype: live:bob",
    "I will PayPal you directly", "outside the platform", "free sample", "unpaid test", "write my essay",
    "take my online exam", "buy 5-star reviews", "review swap", "rent your upwork account", "proxy interview",
    "send your WhatsApp number", "reply with your phone number", "version 2.10.3", "2024-05-01", "$1,500",
    "İ", "ı", "ſ", "\u212a", "DİRECTLY", "ſkype", "\u00a0", "\u2003", "\x1c", "\x1f", "\x0b", "\x85", "\u0663\u0664\u0665",
    "\u2019", "—", "🙂", "é", "ß", "\n", " ", ". ", ", ", "-", "(", ")", "@", "#", "/", ":", "0", "7",
]


@needs_hyperscan
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=6)), max_size=14))
def test_screens_never_lose_a_match_on_generated_texts(parts):
    text = " ".join(parts) if len(parts) % 2 else "".join(parts)
    ref = _reference(text)
    assert _all_hits(text, rulescan.scan_screen(text)) == ref
    assert _all_hits(text, rulescan.GateScreen(text)) == ref
    # the same text inside a batch, between texts that end and start with rule fragments
    batch = [" ".join(parts[:2]), text, "".join(parts[-2:]), text]
    assert all(_all_hits(text, scr) == ref for scr in rulescan.screens(batch)[1::2])


@given(st.text(max_size=200))
def test_projection_is_one_ascii_byte_per_character(text):
    b = rulescan.project(text)
    assert len(b) == len(text) and b.isascii()


def test_projection_keeps_what_pythons_regex_classes_see():
    p = rulescan.project_char
    assert p("\u0663") == "0"  # ARABIC-INDIC DIGIT THREE: \d
    assert p("é") == "a" and p("ß") == "a"  # \w
    assert p("\u00a0") == " " and p("\u2003") == " " and p("\x85") == " "  # \s
    assert p("\u2019") == "\x01" and p("£") == "\x01" and p("🙂") == "\x01"  # none of them
    assert [p(c) for c in "İıſ\u212a"] == ["i", "i", "s", "k"]  # re.IGNORECASE equates them with ASCII letters
    assert rulescan.project("a\x1cb\x0bc") == b"a b c"  # Python's \s, not PCRE's
    assert rulescan.project_pattern(r"[$£€]\s?\d{1,3}x{0,50}?") == r"[$\x01\x01]\s?\d{1,}x{0,}"


@needs_hyperscan
def test_scan_screen_names_the_candidate_rules():
    text = "Nice project. " * 20 + "Contact me on WhatsApp: +44 7700 900123"
    scr = rulescan.scan_screen(text)
    assert {"MESSENGER_HANDLE_RE", "PHONE_CAND_RE"} <= scr.names and "EMAIL_RE" not in scr.names
    assert scr.pick(("EMAIL_RE", "PHONE_CAND_RE", "MESSENGER_HANDLE_RE")) == ["PHONE_CAND_RE", "MESSENGER_HANDLE_RE"]
    assert not rulescan.scan_screen("Need a logo for my bakery. Budget $50.")


@needs_hyperscan
def test_scan_screen_is_safe_across_threads():
    texts = _corpus_texts()[:200]
    expected = [rulescan.scan_screen(t).names for t in texts]
    errors, results = [], {}

    def work(k):
        try:
            results[k] = [rulescan.scan_screen(t).names for t in texts]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(r == expected for r in results.values())


def test_without_hyperscan_the_keyword_gates_are_used(monkeypatch):
    monkeypatch.setattr(rulescan, "_hs", None)
    text = "I will PayPal you directly, email john@gmail.com"
    assert isinstance(rulescan.screen(text), rulescan.GateScreen)
    assert _all_hits(text, None) == _reference(text) and any(_all_hits(text, None))
    with pytest.raises(RuntimeError, match="hyperscan is not installed"):
        rulescan.scan_screen(text)


@needs_hyperscan
def test_scorer_gives_the_same_results_with_either_screen(scorer, monkeypatch):
    import json

    from classifiers import PostInput
    from classifiers import scorer as scorer_mod
    from classifiers.data import DATA_DIR

    rows = [json.loads(x) for x in (DATA_DIR / "seed" / "marketplace_posts.jsonl").read_text().splitlines()][1::4]
    posts = [PostInput(id=r["id"], title=r["title"], description=r["description"], category=r["category"]) for r in rows]
    with_hyperscan = [r.to_json() for r in scorer.score_posts(posts)]
    monkeypatch.setattr(scorer_mod, "rule_screens", lambda texts: [rulescan.GateScreen(t) for t in texts])
    with_gates = [r.to_json() for r in scorer.score_posts(posts)]
    assert with_hyperscan == with_gates
    assert sum(bool(r["flags"]) for r in with_gates) > 100
