"""Transparent policy rules: each is a regex with a plain-language reason.

``find_policy_hits(text)`` returns Hits whose ``kind`` is a PolicyType value. The
off-platform rules are the contact detectors in ``rules.find_contacts``.
"""
from __future__ import annotations

import re

from models.enums import PolicyType

from .textutil import has_any


_I = re.IGNORECASE

POLICY_TYPES: tuple[str, ...] = tuple(p.value for p in PolicyType)

_MSG_APPS = r"whats\s*app|telegram|signal|viber|wechat"

RULES: dict[str, list[tuple[re.Pattern[str], str]]] = {
    # off_platform: the contact detectors (rules.find_contacts) plus requests for the
    # applicant's own number / messenger ("reply with your WhatsApp number"), which share no
    # contact detail themselves
    PolicyType.off_platform.value: [
        (re.compile(r"\b(?:send|reply\s+with|respond\s+with|share|give|drop|leave|include|provide|text|dm|pm|message|forward|submit|"
                    r"apply\s+with|post|tell)\s+(?:(?:me|us|it|them|the\s+recruiter|our\s+(?:hr|team|recruiter|manager))\s+)?"
                    r"(?:with\s+|along\s+with\s+)?(?:your|ur)\s+(?:(?:personal|private|direct|active)\s+)?"
                    r"(?:(?:" + _MSG_APPS + r")(?:\s+(?:(?:phone\s+)?number|no\b\.?|contact|handle|id|username)"
                    r"|(?!\s*(?:business|api|bot|cloud|web|desktop|app\b|group|channel|integration|chat\s*bot|template|flow|"
                    r"catalog|credentials|account)))"
                    r"|(?:phone|mobile|cell(?:\s*phone)?|telephone|contact)\s+(?:number|no\b\.?|\#)"
                    r"|(?:phone\s+|mobile\s+|cell\s+)?number\s+(?:on|via|over|through|for|to)\s+(?:" + _MSG_APPS + r"|sms|text))", _I),
         "asks applicants to send their phone or messenger number (contact off the platform)"),
    ],
    PolicyType.unpaid_work.value: [
        (re.compile(r"\b(?:free|unpaid|no[- ]pay|non[- ]paid)\s+(?:sample|test|article|design|logo|concepts?|task|translation|edit)s?\b"
                    r"|\bfree\s+trial\s+of\s+(?:one|a|two|three|\d+)\s+(?:weeks?|days?)\s+of\b", _I),
         "asks for free work as a sample or test"),
        (re.compile(r"\b(?:sample|test|trial)(?:\s+(?:task|article|work|project|period))?\s+(?:is|will\s+be)\s+(?:unpaid|free|not\s+paid)\b", _I),
         "says the test work is unpaid"),
        (re.compile(r"\b(?:won'?t|will\s+not|do\s+not|don'?t|cannot|can'?t)\s+(?:be\s+)?pay(?:ing)?\s+for\s+(?:the\s+|this\s+|your\s+)?(?:test|sample|trial)", _I),
         "says the test work will not be paid"),
        (re.compile(r"\b(?:first|initial)\s+(?:task|assignment|job)\s+is\s+(?:unpaid|free)\b", _I), "first task is unpaid"),
        (re.compile(r"\bfor\s+free\b[^.\n]{0,40}\b(?:then|before|only\s+then|if\s+we\s+like)\b"
                    r"|\b(?:translate|write|design|build|edit|do)\b[^.\n]{0,60}\bfor\s+free\b", _I),
         "asks for real deliverables for free"),
        (re.compile(r"\b(?:best|winning)\s+(?:one|entry|design|sample)\s+(?:gets|will\s+get|wins)\s+(?:the\s+)?(?:job|contract|hired)", _I),
         "spec work: only the winning entry is paid"),
    ],
    PolicyType.academic_dishonesty.value: [
        (re.compile(r"\b(?:take|do|complete|sit|pass|finish|attend)\s+my\s+(?:online\s+|final\s+|whole\s+)?(?:\w+\s+)?"
                    r"(?:exams?|tests?|quiz(?:zes)?|midterms?|finals?|class(?:es)?|course(?:work)?|homework|assignments?|"
                    r"lab\s+reports?|module|semester)\b", _I),
         "asks someone to do the poster's own graded coursework or exam"),
        (re.compile(r"\bwrite\s+my\s+(?:\w+\s+){0,2}(?:essay|thesis|dissertation|term\s+paper|research\s+paper|coursework|assignment|capstone)\b", _I),
         "asks someone to write the poster's academic paper"),
        (re.compile(r"\b(?:my|our)\s+(?:\w+(?:'s)?\s+)?(?:thesis|dissertation|coursework)\s+(?:written|done)\b"
                    r"|\bsubmit\s+(?:it\s+)?(?:under|with)\s+my\s+name\b|\bmy\s+(?:professor|lecturer|teacher|university|school)\s+(?:must\s+not|won'?t|shouldn'?t)\b"
                    r"|\bguarantee(?:d)?\s+(?:an?\s+)?['\"]?a['\"]?\s+grade\b|\bstudent\s+portal\s+login\b|\bproctored\b[^.\n]{0,60}\b(?:as\s+me|log\s+in\s+as)", _I),
         "plans to hand in someone else's work as their own"),
        (re.compile(r"\b(?:course\s+)?quizzes\s+and\s+(?:the\s+)?final\s+exam\s+for\s+me\b", _I), "asks someone to sit exams for them"),
    ],
    PolicyType.fake_reviews.value: [
        (re.compile(r"\b(?:buy|sell|purchase|need|post|write|leave|get|provide|give)\s+(?:us\s+|me\s+)?(?:\d+\s+)?"
                    r"(?:fake|paid|5[- ]?star|five[- ]?star|positive|genuine[- ]looking)\s+(?:\w+\s+)?(?:reviews?|ratings?)\b", _I),
         "asks to buy or post fake or incentivised reviews"),
        (re.compile(r"\b(?:buy|sell|selling|purchase)\s+(?:\w+\s+)?(?:reviews|ratings)\b|\bwe\s+sell\s+reviews\b", _I), "trades in reviews"),
        (re.compile(r"\b(?:review|rating)\s+(?:exchange|swap)s?\b", _I), "proposes a review swap"),
        (re.compile(r"\b(?:boost|increase|improve|pump)\s+(?:our|my|the)\s+(?:\w+\s+)?(?:rating|ratings|reviews|star\s+rating)\b[^.\n]{0,40}"
                    r"|\breviews?\b[^.\n]{0,40}\bwithout\s+(?:staying|buying|using|ordering)\b", _I),
         "asks to inflate ratings"),
        (re.compile(r"\$\s?\d+\s+(?:for\s+)?(?:every|each|per)\s+(?:5[- ]?star|five[- ]?star|positive)\s+review\b", _I), "pays per review"),
    ],
    PolicyType.account_rental.value: [
        (re.compile(r"\b(?:rent|renting|lease|leasing|buy|buying|purchase|borrow|lend\s+me|share|sharing|access\s+to)\s+(?:your|an?|aged|old|verified|their)?\s*"
                    r"(?:verified\s+|aged\s+|old\s+|us\s+|usa\s+|american\s+|freelancer\s+)?(?:upwork|fiverr|freelancer|linkedin|paypal|payoneer|stripe|"
                    r"amazon\s+seller|toptal|guru|peopleperhour|bank)?\s*(?:and\s+\w+\s+)?(?:accounts?|profiles?)\b", _I),
         "asks to rent, buy or share someone else's account"),
        (re.compile(r"\b(?:attend|take|do|give|sit|join)\s+(?:the\s+|technical\s+|my\s+)*(?:interviews?|calls?)\s+(?:on\s+my\s+behalf|for\s+me|as\s+me|in\s+my\s+place)\b"
                    r"|\bproxy\s+interviews?\b|\b(?:answer|speak)\s+(?:\w+\s+)?as\s+me\b|\buse\s+my\s+name\b", _I),
         "asks someone to impersonate them in interviews"),
        (re.compile(r"\blog\s*in\s+(?:from\s+\w+\s+\w+\s+)?(?:to|on|into|from)\s+your\s+(?:account|profile)\b|\bwe\s+log\s+in\s+from\b", _I),
         "wants to operate someone else's account"),
    ],
}

#: keyword gates, one per rule above (same order): NECESSARY literals of every match, checked
#: on ``textutil.gate_view(text)`` before the regex runs (see features.CONTACT_GATES).
_has = has_any


def _both(a, b):
    return lambda low, toks: a(low, toks) and b(low, toks)


RULE_GATES: dict[str, list] = {
    PolicyType.off_platform.value: [
        # every match contains "your"/"ur" and a messenger, phone word or "number"
        _both(_has("ur"), _has("whats", "telegram", "signal", "viber", "wechat", "phone", "mobile", "cell", "contact", "number")),
    ],
    PolicyType.unpaid_work.value: [
        _has("free", "unpaid", "no pay", "no-pay", "non paid", "non-paid"),
        _has("paid", "free"),
        _both(_has("pay"), _has("test", "sample", "trial")),
        _has("unpaid", "free"),
        _has("free"),
        _has("best", "winning"),
    ],
    PolicyType.academic_dishonesty.value: [
        _both(_has("my"), _has("exam", "test", "quiz", "midterm", "final", "class", "course", "homework", "assignment", "lab",
                              "module", "semester")),
        _both(_has("write"), _has("essay", "thesis", "dissertation", "paper", "coursework", "assignment", "capstone")),
        _has("thesis", "dissertation", "coursework", "submit", "professor", "lecturer", "teacher", "university", "school",
             "guarantee", "portal", "proctored"),
        _has("quizzes"),
    ],
    PolicyType.fake_reviews.value: [_has("review", "rating")] * 5,
    PolicyType.account_rental.value: [
        _has("account", "profile"),
        _has("interview", "call", "proxy", "answer", "speak", "name"),
        _has("log"),
    ],
}
assert all(len(RULE_GATES[t]) == len(RULES[t]) for t in RULES)

OFF_PLATFORM = PolicyType.off_platform.value


def rule_name(ptype: str, k: int) -> str:
    """Name of ``RULES[ptype][k]`` for ``rulescan`` screens."""
    return f"{ptype}:{k}"


RULE_NAMES: dict[str, list[str]] = {t: [rule_name(t, k) for k in range(len(r))] for t, r in RULES.items()}
RULES_BY_NAME = {name: (t, pat, why) for t, rules in RULES.items() for name, (pat, why) in zip(RULE_NAMES[t], rules)}
ALL_RULE_NAMES = tuple(RULES_BY_NAME)
