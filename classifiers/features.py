"""Transparent text features: regex detectors that return character spans with reasons.

Everything here is pure and deterministic. Offsets are Python ``str`` indices into the
string that was passed in (the scorer runs them separately over a post's ``title`` and
``description`` and records which ``field`` a span belongs to).

No feature here measures length: every hand feature is a 0/1 presence indicator.
"""
from __future__ import annotations

import re

from .textutil import Hit, _any  # noqa: F401  (Hit: the type of every finder's result)


_I = re.IGNORECASE

# --------------------------------------------------------------------------------------
# contact details (emails, phones, messenger handles, off-platform payment)
# --------------------------------------------------------------------------------------
_PROVIDERS = (
    r"gmail|googlemail|yahoo|hotmail|outlook|live|msn|proton(?:mail)?|icloud|aol|"
    r"yandex|gmx|mail|zoho|qq|163"
)
_AT = r"(?:\s*[\[\(\{<]\s*(?:at|@)\s*[\]\)\}>]\s*|\s+at\s+|\s*@\s*)"
_DOT = r"(?:\s*[\[\(\{<]\s*(?:dot|\.)\s*[\]\)\}>]\s*|\s+dot\s+|\s*\.\s*)"
_TLD = r"(?:com|net|org|co\s*\.\s*uk|co|io|me|ru|de|fr|in|info|biz)"

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# "john [at] gmail", "john at gmail dot com", "john(at)company(dot)com"
OBF_EMAIL_RE = re.compile(
    r"\b[A-Za-z0-9][\w.+-]*"
    r"(?:" + _AT + r"(?:" + _PROVIDERS + r")(?:" + _DOT + _TLD + r")?"
    r"|\s*[\[\(\{<]\s*at\s*[\]\)\}>]\s*[A-Za-z0-9-]+" + _DOT + _TLD + r")\b",
    _I,
)
# bare "gmail dot com" / "gmail . com"
PROVIDER_DOT_RE = re.compile(
    r"\b(?:" + _PROVIDERS + r")(?:\s*[\[\(\{<]\s*(?:dot|\.)\s*[\]\)\}>]\s*|\s+dot\s+|\s+\.\s*|\s*\.\s+)com\b", _I
)
MASKED_RE = re.compile(r"#(EMAIL|PHONE)_[0-9a-f]{6,}#")  # EMSCAD anonymised contacts

# phone candidates: a run of digits and separators; validated in valid_phone
PHONE_CAND_RE = re.compile(r"(?<![\w$£€.,/:#-])(\+\s?\d|\(\d|\d)[\d\s().-]{5,24}\d(?![\w%/:$£€-]|[.,]\d)")
_PHONE_GROUPS = {
    (3, 3, 4), (3, 4, 4), (5, 6), (4, 3, 4), (4, 3, 3), (2, 4, 4), (3, 3, 3, 3),
    (3, 7), (5, 3, 3), (2, 3, 3, 3), (2, 2, 2, 2, 2), (4, 6), (3, 8),
}
_DATE_LIKE = re.compile(r"^\d{4}[-.]\d{1,2}[-.]\d{1,2}$|^\d{1,2}[-.]\d{1,2}[-.]\d{2,4}$")
_IP_LIKE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_RANGE_LIKE = re.compile(r"^[1-9]\d{2,6}\s*-\s*[1-9]\d{2,6}$")


def valid_phone(s: str) -> bool:
    s = s.strip()
    digits = re.sub(r"\D", "", s)
    if not 9 <= len(digits) <= 15:
        return False
    if _DATE_LIKE.match(s) or _IP_LIKE.match(s) or _RANGE_LIKE.match(s):
        return False
    groups = tuple(len(g) for g in re.findall(r"\d+", s))
    if s.startswith("+") or s.startswith("("):
        return len(groups) <= 6
    if all(g == 1 for g in groups):  # "5 5 5 1 2 3 4 5 6 7"
        return len(groups) >= 9
    if "." in s and not re.fullmatch(r"\d{3}\.\d{3}\.\d{4}", s):
        return False  # versions / decimals; only 555.123.4567 style with dots
    if len(groups) == 1:
        return 10 <= groups[0] <= 12 and digits[0] in "0123456789"
    if digits[0] == "0" and len(digits) in (10, 11) and len(groups) <= 4:
        return True  # UK/EU trunk-prefixed numbers: 07700 900123, 020 7946 0958
    return groups in _PHONE_GROUPS


_MESSENGERS = (
    r"whats\s*app|whatsapp|wa|telegram|tele\s*gram|tg|skype|discord|signal|wechat|we\s*chat|"
    r"viber|kik|snapchat|snap|instagram|insta|ig|line|hangouts|google\s*chat|wickr|imo"
)
_HANDLE = (
    r"(?:@\s?[A-Za-z0-9_.]{3,}|\+\s?\d[\d\s().-]{6,}\d|live:[\w.\-]+|[A-Za-z][\w.]{2,}#\d{4}"
    r"|\d[\d\s().-]{7,}\d)"
)
MESSENGER_HANDLE_RE = re.compile(
    r"\b(?:" + _MESSENGERS + r")\b(?:\s+(?:me|us|id|number|no\.?|handle|username|user|at|on|is|:))*\s*[:\-]?\s*"
    + _HANDLE,
    _I,
)
_CONTACT_VERB = (
    r"contact|message|msg|text|reach|add|ping|dm|chat|talk|hit\s+me\s+up|write|call|send|continue|"
    r"move|discuss|interview|connect|speak|get\s+in\s+touch|communicate|join|find"
)
MESSENGER_VERB_RE = re.compile(
    r"\b(?:" + _CONTACT_VERB + r")(?:\s+(?:me|us|him|her|them|the\s+hiring\s+manager|our\s+(?:hr|team|manager)|directly))?"
    r"\s+(?:on|via|through|over|at|in|using|by)\s+(?:my\s+|our\s+)?(?:" + _MESSENGERS.replace("|line", "").replace("|snap|", "|")
    + r")\b",
    _I,
)
# a channel's name spelled out letter by letter to dodge filters ("t e l e g r a m", "w.h.a.t.s.a.p.p"),
# and a provider split in two before "dot com" ("g mail dot com")
_SPELL_SEP = r"[\s._*\-]+"
_SPELLED = ("telegram", "whatsapp", "skype", "discord", "signal", "gmail", "email", "wechat")
SPELLED_RE = re.compile(
    r"\b(?:" + "|".join(_SPELL_SEP.join(w) for w in _SPELLED) + r")\b"
    r"|\bg[\s._\-]+mail\s*(?:\.|dot|\(dot\)|\[dot\])\s*com\b", _I)
SHORTLINK_RE = re.compile(r"\b(?:t|wa)\s*\.\s*me\s*/\s*\+?[\w]+|\bdiscord\s*\.\s*gg\s*/\s*\w+|\bskype\s*:\s*[\w.:\-]{3,}", _I)
OFF_PAYMENT_RE = re.compile(
    r"\b(?:i(?:'ll|\s+will)|we(?:'ll|\s+will)|can)\s+(?:paypal|venmo|zelle|wise|cash\s*app|revolut)\s+(?:you|the\s+money)(?:\s+directly)?"
    r"|\b(?:pay|paying|paid|payment|send\s+(?:you\s+)?(?:the\s+)?money)\s+(?:you\s+)?(?:directly\s+)?(?:via|through|by|with|on|to\s+your)\s+"
    r"(?:paypal|venmo|zelle|cash\s*app|western\s+union|moneygram|wise|payoneer\s+directly|bank\s+transfer|wire\s+transfer|"
    r"crypto|bitcoin|btc|usdt|gift\s*cards?|revolut)"
    r"|\bpay(?:ing)?\s+(?:you\s+)?directly\b"
    r"|\b(?:outside|off)\s+(?:of\s+)?(?:the\s+)?(?:platform|upwork|fiverr|marketplace)\b"
    # "off site" / "off-site" without "the" is a place of work ("meetings on and off site"), not the platform
    r"|\boutside\s+(?:of\s+)?(?:the\s+)?(?:site|website|app)\b|\boff\s+(?:of\s+)?the\s+(?:site|website|app)\b"
    r"|\bavoid(?:ing)?\s+(?:the\s+)?(?:platform\s+|upwork\s+|site\s+|service\s+|marketplace\s+)?fees?\b"
    r"|\b(?:skip|bypass|around)\s+(?:the\s+)?(?:platform|upwork|fiverr)(?:'s)?\s*(?:fees?)?"
    r"|\b(?:move|switch|go|continue)\s+(?:on\s+)?to\s+direct\s+(?:payments?|pay|bank\s+transfers?|deals?)\b"
    r"|\b(?:no\s+need\s+to|don'?t|never|avoid|skip|save\s+(?:on\s+)?)\s+(?:pay(?:ing)?\s+)?(?:the\s+)?(?:site|platform|upwork|fiverr|"
    r"marketplace|website)(?:'s)?\s+(?:fees?|commission|cut)\b",
    _I,
)


# --------------------------------------------------------------------------------------
_PROV_KW = ("mail", "yahoo", "outlook", "live", "msn", "proton", "icloud", "aol", "yandex", "gmx", "zoho", "qq", "163")
_MSG_SUB = ("whats", "tele", "skype", "discord", "signal", "chat", "viber", "snap", "insta", "hangouts", "wickr")
_MSG_TOK = frozenset({"wa", "tg", "kik", "ig", "line", "imo"})
_PAY_KW = ("paypal", "venmo", "zelle", "wise", "cash", "revolut", "western", "moneygram", "payoneer", "transfer", "crypto",
           "bitcoin", "btc", "usdt", "gift", "directly", "outside", "avoid", "platform", "upwork", "fiverr", "direct", "fee",
           "commission", "cut")


def _gate_messenger(low: str, toks: set[str]) -> bool:
    return _any(low, _MSG_SUB) or not _MSG_TOK.isdisjoint(toks)


CONTACT_GATES = {
    "EMAIL_RE": lambda low, toks: "@" in low,
    # alternative 1: _AT ("@", " at " or a bracketed at/@) then a provider; alternative 2: a bracketed "at"
    "OBF_EMAIL_RE": lambda low, toks: ((("@" in low or "at" in toks) and _any(low, _PROV_KW))
                                       or ("at" in low and _any(low, ("[", "(", "{", "<")))),
    "PROVIDER_DOT_RE": lambda low, toks: "com" in low and _any(low, _PROV_KW),
    "MASKED_RE": lambda low, toks: "#" in low,
    "PHONE_CAND_RE": lambda low, toks: True,
    "MESSENGER_HANDLE_RE": _gate_messenger,
    "MESSENGER_VERB_RE": _gate_messenger,
    "SHORTLINK_RE": lambda low, toks: ("/" in low and "me" in low) or "discord" in low or "skype" in low,
    # every match starts with a one-letter word: t, w, s, d, g, e
    "SPELLED_RE": lambda low, toks: not toks.isdisjoint(("t", "w", "s", "d", "g", "e")),
    "OFF_PAYMENT_RE": lambda low, toks: "off" in toks or _any(low, _PAY_KW),
}


CONTACT_PATTERNS: dict[str, re.Pattern[str]] = {
    "EMAIL_RE": EMAIL_RE, "OBF_EMAIL_RE": OBF_EMAIL_RE, "PROVIDER_DOT_RE": PROVIDER_DOT_RE, "MASKED_RE": MASKED_RE,
    "PHONE_CAND_RE": PHONE_CAND_RE, "MESSENGER_HANDLE_RE": MESSENGER_HANDLE_RE, "MESSENGER_VERB_RE": MESSENGER_VERB_RE,
    "SHORTLINK_RE": SHORTLINK_RE, "SPELLED_RE": SPELLED_RE, "OFF_PAYMENT_RE": OFF_PAYMENT_RE,
}
assert set(CONTACT_PATTERNS) == set(CONTACT_GATES)
CONTACT_NAMES = tuple(CONTACT_PATTERNS)
CONTACT_WHY = {
    "EMAIL_RE": ("email", "shares an email address"),
    "OBF_EMAIL_RE": ("email", "shares a disguised email address"),
    "PROVIDER_DOT_RE": ("email", "spells out an email domain to dodge filters"),
    "PHONE_CAND_RE": ("phone", "shares a phone number"),
    "MESSENGER_HANDLE_RE": ("messenger", "gives a messenger handle or number"),
    "MESSENGER_VERB_RE": ("messenger", "asks to continue on an outside messenger"),
    "SHORTLINK_RE": ("messenger", "links to an outside messenger"),
    "SPELLED_RE": ("messenger", "spells out a messenger or e-mail name to dodge filters"),
    "OFF_PAYMENT_RE": ("payment", "offers to pay or deal outside the platform"),
}


# --------------------------------------------------------------------------------------
# scam cues (binary features for the scam model, and evidence spans)
# --------------------------------------------------------------------------------------
SCAM_CUES: dict[str, tuple[re.Pattern[str], str]] = {
    "money_upfront": (
        re.compile(
            r"\b(?:pay|purchase|buy|deposit|send)\b[^.\n]{0,50}?\b(?:for\s+(?:the\s+|your\s+)?(?:training|starter\s+kit|kit|equipment|"
            r"software\s+licen[cs]e|registration|certification|background\s+check|onboarding\s+materials?))"
            r"|\b(?:registration|training|application|processing|activation|onboarding|membership|enrol(?:l)?ment|"
            r"starter[- ]kit|verification|security)\s+(?:fee|deposit|cost)s?\b"
            r"|\brefundable\s+(?:fee|deposit)\b|\bupfront\s+(?:fee|payment|deposit)\b"
            r"|\b(?:buy|purchase|order|pay\s+for)\s+(?:the\s+|our\s+|a\s+|your\s+)?(?:training|starter|onboarding|tester|welcome)\s+"
            r"(?:kit|pack(?:age)?|course|bundle|certification|materials?)\b",
            _I,
        ),
        "asks the worker to pay money up front",
    ),
    "fake_check": (
        re.compile(
            r"\b(?:cheque|check)s?\b[^.\n]{0,50}\b(?:deposit|cash(?:\s+it)?|mobile\s+deposit|clear)"
            r"|\bdeposit\s+(?:the|a|our)\s+(?:cheque|check)\b"
            r"|\b(?:send|wire|transfer|return|forward)\s+(?:back\s+)?the\s+(?:remaining|remainder|balance|excess|rest|difference)\b"
            r"|\bcashier'?s?\s+(?:cheque|check)\b|\b(?:mystery|secret)\s+shoppers?\b[^\n]{0,120}\b(?:cheque|check|wire|money\s+order|western\s+union)"
            r"|\b(?:purchase|buy)\s+(?:the\s+)?(?:equipment|supplies|software)\s+from\s+(?:our|the|a)\s+(?:approved\s+|designated\s+)?vendor",
            _I,
        ),
        "describes a cheque-and-forward payment pattern",
    ),
    "reshipping": (
        re.compile(
            r"\b(?:re-?ship(?:ping)?|repackag\w*|package\s+(?:handling|forwarding|inspector|processing)|"
            r"receive\s+(?:and\s+\w+\s+)?(?:packages|parcels|shipments)\s+(?:at|to)\s+(?:your|home)|"
            r"forward\s+(?:the\s+)?(?:packages|parcels|items|shipments))",
            _I,
        ),
        "asks the worker to receive and forward parcels",
    ),
    "personal_data": (
        re.compile(
            r"\b(?:social\s+security(?:\s+number)?|ssn|bank\s+(?:account\s+)?(?:details|number|login|information|info)|"
            r"routing\s+number|online\s+banking\s+(?:login|details)|(?:copy|photo|picture|scan|selfie)\s+(?:of\s+|with\s+)?(?:your\s+)?(?:id|passport|driver'?s?\s+licen[cs]e|national\s+id)|"
            r"(?:bank|paypal|banking|email)\s+(?:login|password|credentials|username\s+and\s+password)|"
            r"credit\s+card\s+(?:details|number|info)|date\s+of\s+birth\s+and)",
            _I,
        ),
        "asks for identity or banking details",
    ),
    "chat_interview": (
        re.compile(
            r"\b(?:interview|onboarding|screening)\b[^.\n]{0,60}?\b(?:telegram|whatsapp|google\s+hangouts?|hangouts|signal|wickr|"
            r"yahoo\s+messenger|text\s+message|wire\s+app)\b"
            r"|\b(?:telegram|whatsapp|google\s+hangouts?|signal|wickr)\b[^.\n]{0,60}?\b(?:interview|onboarding|screening)\b"
            r"|\b(?:contact|message|text|add|reach|write\s+to)\s+(?:the\s+|our\s+|my\s+)?(?:hiring|recruiting|recruitment|hr|talent)\s+"
            r"(?:manager|team|officer|agent|coordinator|lead)\b",
            _I,
        ),
        "runs the interview or hiring over a chat app",
    ),
    "easy_money": (
        re.compile(
            r"\bno\s+(?:prior\s+|previous\s+|advanced\s+|special\s+|relevant\s+|technical\s+)?(?:experience|skills?|qualifications?)\s+"
            r"(?:is\s+|are\s+)?(?:needed|required|necessary)\b"
            r"|\b(?:attractive|huge|massive|passive|extra|unlimited)\s+(?:income|earnings?|commissions?)\b"
            r"|\b(?:simple|easy)\s+(?:online\s+|home[- ]based\s+|copy[- ]paste\s+|typing\s+|part[- ]time\s+)+(?:jobs?|work|tasks?)\b"
            r"|\bearn\s+(?:up\s+to\s+|over\s+|from\s+)?[$£€]\s?\d[\d,]*(?:\.\d+)?\s*(?:\+\s*)?(?:k\s+)?(?:per|a|/|each|every)\s*(?:day|week|wk|hour|hr)\b"
            r"|\bguaranteed\s+(?:income|pay|earnings|salary)\b|\beasy\s+money\b|\bquick\s+cash\b|\bextra\s+(?:cash|income)\s+from\s+home\b"
            r"|\bwork\s+from\s+(?:home|anywhere)\b[^.\n]{0,40}\b(?:earn|income|\$)"
            r"|\b(?:weekly|daily)\s+pay(?:outs?)?\b|\bunlimited\s+(?:earning|income)\b",
            _I,
        ),
        "promises easy or guaranteed money",
    ),
    "crypto_task": (
        re.compile(
            r"\b(?:crypto(?:currency)?\s+(?:wallet|deposit|investment|trading\s+account)|usdt|binance\s+account|trading\s+account|"
            r"investment\s+platform|recharge\s+(?:your\s+)?(?:account|balance)|top[\s-]+up\s+(?:your\s+|their\s+|the\s+)?(?:account|balance|wallet)|"
            r"(?:unlock|complete)\s+(?:\w+\s+)?(?:tasks?|orders?|sets?)\s+(?:to\s+)?(?:earn|unlock|get)\s+(?:commission|bonus)|"
            r"(?:rat(?:e|ing)|lik(?:e|ing)|optimi[sz](?:e|ing)|review(?:ing)?)\s+(?:\w+\s+)?(?:apps|products|videos|hotels)\s+(?:and|to)\s+(?:earn|get\s+paid)|"
            r"commission\s+per\s+task)\b",
            _I,
        ),
        "describes a prepaid task or crypto scheme",
    ),
    "phishing_link": (
        re.compile(
            r"\b(?:bit\.ly|tinyurl\.com|forms\.gle|goo\.gl|cutt\.ly|rebrand\.ly)/\S+"
            r"|\b(?:click|visit|open|fill\s+(?:out|in)|complete)\b[^.\n]{0,40}\b(?:link|form)\b[^.\n]{0,40}\b(?:interview|verify|verification|apply|onboard|get\s+started|confirm)"
            r"|\b(?:verify|confirm)\s+your\s+(?:account|identity|details|email|wallet)\b"
            r"|\blog\s*in\s+with\s+your\s+(?:email|upwork|paypal|bank)\s+(?:password|credentials)",
            _I,
        ),
        "sends applicants to an outside link or form",
    ),
    "gift_cards": (
        re.compile(r"\b(?:gift\s*cards?|itunes\s+cards?|google\s+play\s+cards?|steam\s+cards?)\b", _I),
        "mentions gift cards as payment",
    ),
    "home_data_entry": (
        re.compile(
            r"\b(?:data\s+entry|typing|copy[- ]paste|form\s+filling|ad\s+posting|survey)\b[^.\n]{0,40}\b(?:from\s+home|at\s+home|home[- ]based|remote(?:ly)?)\b"
            r"|\b(?:home[- ]based|from\s+home)\b[^.\n]{0,30}\b(?:data\s+entry|typing|copy[- ]paste|form\s+filling)\b"
            r"|\b(?:data\s+entry|typing|copy[- ]paste|form[- ]filling|data\s+conversion)\b[^#]{0,600}?\b(?:sign\s+up\s+with\s+us|registration|"
            r"enrol(?:l)?ment|become\s+(?:an?\s+|our\s+)?(?:associate|franchisee?|partner))\b",
            _I,
        ),
        "generic data-entry-from-home offer",
    ),
}

#: keyword gates for SCAM_CUES (same contract as CONTACT_GATES: literals every match contains)
SCAM_CUE_GATES = {
    "money_upfront": lambda low, toks: _any(low, ("pay", "purchas", "buy", "deposit", "send", "fee", "cost", "upfront", "order")),
    "fake_check": lambda low, toks: _any(low, ("cheque", "check", "send", "vendor", "wire", "transfer", "return", "forward")),
    "reshipping": lambda low, toks: _any(low, ("ship", "repackag", "package", "parcel", "forward")),
    "personal_data": lambda low, toks: _any(low, ("social", "ssn", "bank", "routing", "copy", "credit", "birth", "photo", "picture",
                                                    "scan", "selfie", "paypal", "login", "password", "credential")),
    "chat_interview": lambda low, toks: _any(low, ("interview", "onboarding", "screening", "hiring", "recruit", "talent")) or "hr" in toks,
    "easy_money": lambda low, toks: (_any(low, ("experience", "earn", "guaranteed", "easy", "quick", "extra", "weekly", "daily",
                                                 "unlimited", "skill", "qualification", "income", "commission", "simple")) or ("work" in low and "from" in low)),
    "crypto_task": lambda low, toks: _any(low, ("crypto", "usdt", "binance", "trading", "investment", "recharge", "top", "commission",
                                                 "bonus", "earn", "paid")),
    "phishing_link": lambda low, toks: _any(low, ("bit.ly", "tinyurl", "goo.gl", "cutt.ly", "rebrand.ly", "link", "form", "verify",
                                                   "confirm", "log")),
    "gift_cards": lambda low, toks: "card" in low,
    "home_data_entry": lambda low, toks: (_any(low, ("home", "remote", "sign up with us", "registration", "enrol", "become"))
                                          and _any(low, ("data", "typing", "copy", "form", "posting", "survey"))),
}
assert set(SCAM_CUE_GATES) == set(SCAM_CUES)
CUE_NAMES = tuple(SCAM_CUES)
