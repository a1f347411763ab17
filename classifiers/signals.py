"""Phrasing signals: who is writing, and what they ask for, in the words real people use.

The regex rules in ``policy_rules`` and ``features`` name concrete violations ("write my
essay", a phone number). These signals are broader and weaker: each is a family of
patterns for one *kind* of phrasing, read by the learned models as a 0/1 column beside the
tf-idf text (never a verdict on its own), and shown as evidence when its detector flags:

* author role: ``offer_self`` (a freelancer offering services or looking for work: "I am a
  developer with 7 years of experience", "hire me", "interested in your job") against
  ``hire_intent`` ("we are looking for a ...", "I need someone to ...");
* contact: ``contact_ask`` (asks for or gives a way to talk elsewhere, in any sentence
  form: "how can I contact you?", "what's your Discord?", "inbox me", "email me at") and
  ``contact_negated`` ("do not contact me outside the platform", "all communication stays
  on the platform"), which also cancels contact rule hits inside its span (see
  ``negated_spans``);
* one family per scheme or policy type whose real phrasing the rules miss: ``earn_scheme``
  (investment / "earn Rs 25000 per month" / "free to join" / "students, housewives"),
  ``academic`` (essay mills, "pay you to complete my classes"), ``reviews_trade``,
  ``account_use`` (proxy interviews, verified accounts for sale, remote access to an
  account), ``unpaid_ask`` (exposure, "revenue will be yours", samples before any pay).

The patterns join the rules in ``rulescan``'s screen (hyperscan, or the keyword gates below:
literals every match contains), and ``rules.find_signals`` finds the spans, so a post none of
them can match costs nothing more. The patterns are written in lower case and run
case-sensitively over the folded text (``textutil.finditer``). No signal measures length.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from .textutil import Hit, has_any

_I = re.IGNORECASE
_ROLE_NOUNS = (r"(?:developer|designer|writer|freelancer|programmer|engineer|editor|translator|artist|marketer|specialist|"
               r"expert|consultant|professional|virtual\s+assistant|va|copywriter|illustrator|animator|photographer|"
               r"videographer|tutor|coder|analyst|accountant|bookkeeper|manager|architect|student|graduate)")
#: a word that is not a hiring verb: "I am a shop owner looking for a designer" is no self-ad
_NOT_HIRING = r"(?!(?:looking|searching|seeking|hiring|need|needs|want|wants|require)\b)"
_CHANNELS = (r"(?:discord|telegram|tg|whats\s*app|wa|skype|signal|wechat|viber|instagram|insta|snapchat|snap|facebook|fb|"
             r"linkedin|e-?mail|gmail|mail|phone|mobile|number|contact|handle|id)")


class Signal(NamedTuple):
    name: str
    gate: tuple[str, ...]  # literals (lower case): at least one is in every match
    pattern: re.Pattern[str]
    why: str


#: an apostrophe as real text writes it: ASCII or the typographic right single quote ("I’ll", "don’t")
_APOS = "['\u2019]"


def _rx(pattern: str) -> re.Pattern[str]:
    """A signal pattern, case-insensitive, with every ``'`` also matching a typographic apostrophe."""
    return re.compile(pattern.replace("'", _APOS), _I)


SIGNALS: tuple[Signal, ...] = (
    Signal("offer_self", ("i", "my", "we"), _rx(
        r"\bi\s*(?:'m|am)\s+(?:(?:a|an)\s+)?(?:" + _NOT_HIRING + r"[\w+#./-]+\s+){0,4}?" + _ROLE_NOUNS + r"s?\b"
        r"|\b(?:i|we)\s+(?:have|bring|possess|got)\s+(?:over\s+|more\s+than\s+|nearly\s+|almost\s+)?\d+\+?\s*(?:years?|yrs?)\b"
        r"|\b(?:i\s*(?:'m|am)|we\s*(?:'re|are))\s+(?:a|an)\s+(?:" + _NOT_HIRING + r"[\w-]+\s+){0,3}?(?:freelancer|agency)\b"
        r"|\bwe\s*(?:'re|are)\s+a\s+team\s+of\b"
        r"|\bhire\s+me\b|\b(?:see|check(?:\s+out)?|view|visit|look\s+at|browse)\s+my\s+(?:portfolio|profile|work|gigs?|services|resume|cv)\b"
        r"|\bmy\s+(?:services|expertise|hourly\s+rate|rates?)\s+(?:include|includes|are|is|start|:)"
        r"|\bi\s+(?:can|will|could|would\s+love\s+to)\s+(?:help|build|create|design|develop|write|do|make|fix|offer|provide|deliver|rank|"
        r"optimi[sz]e|boost|grow|promote|redesign|edit|translate)\s+"
        r"(?:you|your|it\s+for\s+you)\b"
        r"|\b(?:i\s*(?:'m|am)|we\s*(?:'re|are))\s+(?:currently\s+)?(?:available|open)\s+(?:for|to)\s+(?:new\s+|freelance\s+|remote\s+)?"
        r"(?:work|projects?|hire|freelance|opportunit\w+|collaborat\w+|jobs?|clients?)\b"
        r"|\bi\s*(?:'m|am)\s+(?:currently\s+|actively\s+)?(?:looking|searching|seeking)\s+(?:for\s+)?(?:a\s+|an\s+|new\s+|some\s+|remote\s+|"
        r"freelance\s+|part[- ]time\s+|full[- ]time\s+)*(?:jobs?|work|projects?|clients?|gigs?|opportunit\w+|employment|positions?|roles?|"
        r"internships?|team)\b"
        r"|\bi\s*(?:'m|am)\s+(?:very\s+|really\s+)?interested\s+in\s+(?:your|this)\s+(?:job|project|post|offer|position|work|task)\b"
        r"|\bi\s+(?:have\s+)?(?:carefully\s+)?read\s+(?:your|the)\s+(?:(?:job|project)\s+(?:description|post|details)|requirements?|brief)\b"
        r"|\b(?:kindly\s+)?award\s+(?:me|us)\s+(?:the|this|your)\s+(?:job|project|contract|task)\b|\bdear\s+(?:client|hiring\s+manager)\b"
        r"|\bmy\s+name\s+is\b[^.\n]{0,40}\b(?:i\s*(?:'m|am)|and\s+i)\b"
        r"|(?:(?<![\s\S])|[.!?\n]\s*)i\s+(?:offer|provide|specialize|specialise|deliver)\b"
        r"|\bsend\s+me\s+your\s+(?:script|text|files?|project|documents?|requirements?|details)\b[^.\n]{0,30}\b(?:free\s+)?(?:quote|estimate)\b"),
        "the author offers their own services or looks for work"),
    Signal("hire_intent", ("look", "search", "seek", "need", "hiring", "hire", "want", "requir"), _rx(
        r"\b(?:we\s*(?:'re|are)|i\s*(?:'m|am))\s+(?:currently\s+|now\s+)?(?:looking|searching|seeking)\s+(?:for\s+)?"
        r"(?:a|an|someone|somebody|experienced|skilled|talented|\d+|freelancers?|developers?|designers?|writers?)\b"
        r"|\b(?:i|we)\s+(?:need|want|require)\s+(?:a|an|someone|somebody|help|an?\s+experienced)\b"
        r"|\b(?:need|needed|seeking|hiring)\s+(?:a|an)\s+(?:\w+\s+){0,3}?(?:developer|designer|writer|expert|freelancer|editor|"
        r"specialist|assistant|programmer|engineer|translator|marketer|consultant|tutor)\b"
        r"|\bwe\s*(?:'re|are)\s+hiring\b|\blooking\s+to\s+hire\b"),
        "the author is hiring"),
    Signal("contact_ask", ("contact", "reach", "inbox", "me", "you", "ur", "my", "discord", "telegram", "skype", "whats", "wechat", "instagram", "let", "can", "address", "private", "escrow"), _rx(
        r"\b(?:how|where)\s+(?:can|could|do|should)\s+(?:i|we)\s+(?:contact|reach|message|text|call|talk\s+to|get\s+in\s+touch\s+with)\s+you\b"
        r"|\b(?:send|give|share|drop|tell|dm|pm|text)\s+(?:me|us)\s+(?:your|ur)\s+(?:personal\s+|private\s+)?" + _CHANNELS +
        r"|\b(?:what(?:'s|\s+is)|whats)\s+(?:your|ur)\s+" + _CHANNELS +
        r"|\b(?:do|can|could)\s+you\s+(?:have|use|got)\s+(?:a\s+|an\s+)?" + _CHANNELS +
        r"|\b(?:inbox|dm|pm)\s+me\b"
        r"|\b(?:e-?mail|mail|text|call|whats\s*app|telegram|ping|message|msg|reach|contact|add)\s+me\s+(?:at|on|@|via|through|privately|"
        r"directly|personally|in\s+private)\b"
        r"|\b(?:my|our)\s+(?:discord|telegram|whats\s*app|skype|wechat|signal|instagram|snapchat)\b"
        r"|\b(?:discord|telegram|skype|whats\s*app|wechat|instagram)\s*(?:id|tag|handle|username|user\s*name|number)\b"
        r"|\b(?:send|give|share|tell)\s+(?:me|us)\s+(?:some\s+|a\s+|any\s+|another\s+)?(?:way|means|place)\s+to\s+(?:privately\s+)?"
        r"(?:talk|chat|contact|reach|message|speak)\b"
        r"|\b(?:talk|chat|speak|discuss\s+\w+)\s+(?:privately|in\s+private)\b|\bprivately\s+(?:talk|chat|message|contact)\b"
        r"|\b(?:your|ur)\s+contact\s+(?:information|info|details)\b"
        r"|\bget\s+back\s+to\s+me\s+(?:on|at|via|through)\b"
        r"|[\w.]{2,32}#\d{4}\b[^.\n]{0,20}\bdiscord\b|\bdiscord\b[^.\n]{0,30}?[\w.]{2,32}#\d{4}\b"
        r"|\b(?:third[- ]party|external|independent|outside|private)\s+(?:\w+\s+){0,2}?escrow\b|\bescrow\s+(?:company|agent|firm)\b"
        r"|\bcontact\s+address\b|\b(?:let'?s|we\s+can|can\s+we)\s+(?:talk|chat|discuss|continue)\s+(?:on|via|over|outside|privately)\b"),
        "asks for or offers a way to talk outside the platform"),
    Signal("contact_negated", ("not", "n't", "n\u2019t", "dont", "never", "no", "all", "only", "exclusive"), _rx(
        r"\b(?:do\s+not|don'?t|never|please\s+don'?t|no\s+need\s+to)\s+(?:\w+\s+){0,3}?(?:contact|message|e-?mail|call|reach|text|add|ask)\b"
        r"[^.\n]{0,60}?\b(?:outside|off|via|through|on)\b[^.\n]{0,40}"
        r"|\ball\s+(?:communication|communications|messages|payments?|work|contact)\s+(?:must\s+|will\s+|should\s+|has\s+to\s+)?"
        r"(?:stays?|be\s+kept|remains?|happens?|go(?:es)?|be\s+done|take\s+place)\s+(?:\w+\s+){0,2}?(?:on|through|via|within|inside)\s+"
        r"(?:the\s+)?(?:platform|upwork|fiverr|site|marketplace|app|here)\b"
        r"|\b(?:only|exclusively)\s+(?:communicate|talk|chat|work|pay|message)\s+(?:\w+\s+){0,2}?(?:through|on|via|within)\s+"
        r"(?:the\s+)?(?:platform|upwork|fiverr|site|marketplace|app|here)\b"
        r"|\bno\s+(?:off[- ]platform|outside|external)\s+(?:contact|communication|payments?|messag\w+)"),
        "keeps contact and payment on the platform (negated)"),
    Signal("earn_scheme", ("earn", "profit", "invest", "join", "income", "housewi", "student", "mining", "return", "commission", "payout", "roi", "withdraw", "make", "get", "doubl", "registration", "seeker", "retiree", "mother"),
           _rx(
        r"\b(?:invest(?:ment|ing)?|trading|mining|forex|crypto(?:currency)?|bitcoin|btc|usdt|binary\s+options?)\b[^\n]{0,80}?"
        r"\b(?:earn|profits?|returns?|income|payouts?|roi|withdraw\w*)\b"
        r"|\b(?:earn|make|get)\s+(?:up\s+to\s+|over\s+|from\s+)?(?:rs\.?\s*|inr\s*|₹\s*|\$\s*|usd\s*|£\s*|€\s*)?\d[\d,]*k?(?:\s*/-)?\s*(?:usd|dollars|rs|rupees)?"
        r"\s*(?:per|a|every|each|/)\s*(?:day|week|month|hour)\b"
        r"|\b(?:free\s+to\s+join|join\s+(?:for\s+)?free|no\s+(?:joining|registration)\s+fee)\b"
        r"|\binvest(?:ed|ing)?\s+(?:(?:a\s+)?minimum\s+(?:of\s+)?|only\s+|just\s+)?(?:rs\.?\s*|\$\s*|£\s*|€\s*)?\d[\d,.]*k?\s*"
        r"(?:usd|dollars|rs|php|usdt|btc)?\s*(?:and\s+|to\s+|,\s*)?(?:get|earn|receive|make|withdraw)\s+(?:back\s+)?(?:rs\.?\s*|\$\s*|£\s*|€\s*)?\d"
        r"|\bdoubl(?:e|ed|es|ing)\s+(?:your\s+|the\s+|their\s+)?(?:money|investment|capital|deposit|bitcoins?|btc|funds)\b"
        r"|\b(?:withdraw\w*|payouts?)\s+(?:your\s+)?(?:profits?\s+)?(?:daily|weekly|anytime|instantly|every\s+day)\b"
        r"|\b(?:daily|weekly|monthly|guaranteed)\s+(?:profits?|returns?|income|earnings?|payouts?|commissions?)\b"
        r"|\b(?:students?|housewi(?:fe|ves)|job\s*seekers?|retirees?|mothers?)\s*[,/&]\s*(?:\w+\s+){0,2}?(?:students?|housewi(?:fe|ves)|"
        r"job\s*seekers?|retirees?|mothers?)\b"),
        "promises earnings from an investment or a join-for-free scheme"),
    Signal("academic", ("essay", "paper", "assignment", "homework", "thesis", "dissertation", "coursework", "class", "course", "exam", "grade", "university", "college", "school", "semester", "quiz", "test", "project", "pay", "professor", "degree", "lecturer", "instructor", "teacher", "tutor", "report", "study", "plagiarism"), _rx(
        r"\b(?:essay|paper|assignment|homework|dissertation|thesis|coursework|research\s+paper|term\s+paper)s?\s+(?:writing\s+)?"
        r"(?:service|help|writers?|mill|experts?|company)\b"
        r"|\b(?:write|do|complete|take|finish|handle)\s+(?:my|our)\s+(?:\w+\s+){0,2}?(?:class(?:es)?|course(?:s|work)?|exams?|essays?|papers?|"
        r"homework|assignments?|thesis|dissertation|quiz(?:zes)?|tests?|project\s+for\s+(?:school|class|university|college))\b"
        r"|\bpay\s+(?:you|someone|somebody)\s+to\s+(?:complete|do|take|finish|write)\b"
        r"|\b(?:for|in)\s+my\s+(?:university|college|school|class|course|professor|degree|semester|grade)\b"
        r"|\b(?:guaranteed?|get)\s+(?:an?\s+)?(?:a\+?|good|high|top)\s+grades?\b|\bplagiarism[- ]free\b"
        r"|\bstudents?'?\b[^.\n]{0,80}\b(?:essays?|assignments?|coursework|homework)\b|\b(?:essays?|assignments?|coursework|homework)\b[^.\n]{0,80}\bstudents?\b"
        r"|\bpay\s+(?:you|someone|somebody)\b[^.\n]{0,40}\b(?:write|do|complete|finish|solve)\s+(?:the|this|my)\s+(?:\w+\s+)?"
        r"(?:project|assignment|homework|essay|paper|course|class|exam|test)\s+for\s+me\b"
        r"|\bneed\s+(?:my|our)\s+(?:\w+\s+){0,4}?(?:assignment|homework|coursework|essay|paper|lab\s+report|case\s+study|thesis|"
        r"dissertation)s?\s+(?:done|completed|written|finished|solved)\b"
        r"|\bmy\s+(?:professor|lecturer|instructor|teacher|tutor)\s+(?:is\s+strict|checks|will\s+check|uses\s+turnitin)\b"),
        "academic work done for a student to hand in"),
    Signal("reviews_trade", ("review", "rating", "star", "feedback"), _rx(
        r"\b(?:\d+|five|5)[- ]?stars?\s+(?:reviews?|ratings?|feedback)\b"
        r"|\b(?:buy|buying|sell|selling|purchase|order|get|need|post|leave|write|provide|give)\s+(?:us\s+|me\s+)?(?:\d+\s+)?"
        r"(?:positive\s+|5[- ]?star\s+|five[- ]?star\s+|fake\s+|genuine\s+|real\s+|honest\s+|verified\s+|negative\s+)?"
        r"(?:google|trustpilot|yelp|amazon|tripadvisor|app\s*store|play\s*store|facebook|gmb|maps)\s+(?:reviews?|ratings?)\b"
        r"|\breviews?\s+(?:on|for|to)\s+(?:google|trustpilot|yelp|amazon|tripadvisor|my\s+(?:gig|shop|store|app|business|listing))\b"
        r"|\b(?:leave|post|write|give|buy|sell|order|get)\s+(?:us\s+|me\s+)?(?:a\s+|an\s+)?(?:\d+\s+)?(?:positive\s+|negative\s+|good\s+|honest\s+)?reviews?\b"
        r"[^.\n]{0,60}\b(?:exchange|return|pay|paid|\$|per|each|for\s+(?:my|our)|refund\w*|reimburs\w*|commission)"
        r"|\b(?:giv(?:e|ing)|leav(?:e|ing)|post(?:ing)?|writ(?:e|ing))\s+(?:\w+\s+){0,2}?(?:good|great|positive|excellent|5[- ]?star|five[- ]?star)\s+"
        r"(?:reviews?|ratings?|feedback)\b[^\n]{0,120}?\b(?:in\s+return|in\s+exchange|each\s+other|swap|for\s+mine)\b"
        r"|\bin\s+(?:return|exchange)\b[^\n]{0,120}?\b(?:leave|give|post|write)\s+(?:\w+\s+){0,2}?(?:reviews?|ratings?)\b"),
        "trades in reviews or ratings"),
    Signal("account_use", ("account", "profile", "interview", "remote", "anydesk", "teamviewer", "identity", "behalf", "your"),
           _rx(
        r"\b(?:verified|aged|old)\s+(?:\w+\s+){0,2}?(?:accounts?|profiles?)\b"
        r"|\b(?:attend|take|give|do|pass|clear|handle|join|sit)\s+(?:the\s+|technical\s+|my\s+|his\s+|her\s+|client\s+|job\s+|video\s+|zoom\s+|online\s+)*interviews?\b"
        r"[^.\n]{0,40}\b(?:behalf|for\s+(?:me|him|her|them|us)|as\s+(?:me|him|her)|in\s+(?:my|his|her)\s+(?:place|stead|name)|instead\s+of\s+(?:me|him|her))\b"
        r"|\binterview\s+(?:support|proxy|assistance)\b"
        r"|\b(?:remote\s+desktop|anydesk|teamviewer)\b[^.\n]{0,60}\b(?:account|profile|log\s*in)\b"
        r"|\b(?:account|profile)\b[^.\n]{0,60}\b(?:remote\s+desktop|anydesk|teamviewer)\b"
        r"|\b(?:use|using|rent|borrow|share)\s+(?:your|ur)\s+(?:account|profile|identity|name|id|details)\b"
        r"|\b(?:open|create|register|make|set\s+up)\s+(?:a\s+|an\s+)?(?:\w+\s+){0,2}?(?:account|profile)\s+(?:in|under|with)\s+(?:your|ur)\s+"
        r"(?:name|id|identity|details|documents)\b"),
        "someone else's account or identity is to be used"),
    Signal("unpaid_ask", ("exposure", "portfolio", "folio", "revenue", "sample", "piece", "test", "unpaid", "free", "later", "credit", "visib", "equity", "article", "trial", "pay", "hire", "draft", "story", "royalt", "profit", "compensation", "payment"), _rx(
        r"\b(?:for|in\s+exchange\s+for|get|gain)\s+(?:the\s+|great\s+|good\s+|some\s+)?(?:exposure|credit|visibility)\b"
        r"|\b(?:grow|build)\s+(?:your|ur)\s+(?:portfolio|folio)\b"
        r"|\brevenue\s+(?:share|will\s+be\s+(?:yours|shared)|sharing)\b|\bequity\s+(?:only|instead)\b"
        r"|\b(?:send|write|do|mail|submit)\s+(?:me|us)?\s*(?:over\s+)?(?:a|the|one|your)\s+(?:full\s+|complete\s+|finished\s+)?"
        r"(?:sample|piece|article|test|draft|story)\b[^.\n]{0,40}"
        r"\b(?:first|before|then|and\s+(?:i|we)(?:'ll|\s+will)\s+(?:look|decide|see|read))"
        r"|\b(?:send|submit|do|make|create|design)\s+(?:me|us)?\s*(?:\d+|two|three|four|five|several|some|a\s+few)\s+"
        r"(?:full\s+|complete\s+|finished\s+)?(?:\w+\s+)?(?:samples?|concepts?|designs?|mock-?ups?|logos?|drafts?|articles?)\b"
        r"[^.\n]{0,30}\bbefore\s+(?:i|we)\s+(?:hire|pay|choose|decide|pick)"
        r"|\bonly\s+pay\s+(?:for\s+)?the\s+(?:one|ones|design|logo|entry|article)s?\s+(?:i|we)\s+(?:pick|choose|select|like|use)\b"
        r"|\b(?:others|the\s+rest)\s+(?:are|will\s+be|go)\s+unpaid\b"
        r"|\b(?:unpaid|free)\s+(?:trial|test|internship|sample|work|article|piece)s?\b"
        r"|\b(?:this|it|the\s+(?:role|position|work|job|project))\s+(?:is|will\s+be)\s+unpaid\b|\bunpaid\s+(?:for\s+now|at\s+first|initially|until)\b"
        r"|\bas\s+a\s+(?:test|trial)\b(?![^.\n]{0,60}\bpaid\b)[^.\n]{0,60}\b(?:write|article|piece|design|translate|task|post)"
        r"|\b(?:if|once)\s+(?:we|i)\s+(?:like|love|approve|use|accept)\s+(?:it|your\s+\w+|the\s+\w+)\b[^.\n]{0,40}\b(?:pay|paid|hire)"
        r"|\bpay(?:ment)?\s+(?:you\s+)?(?:later|only\s+(?:if|when|after))\b"
        r"|\b(?:no|not\s+any|without\s+any)\s+(?:way|means|money|budget|funds)\s+(?:of|to|for)\s+pay(?:ing)?\b"
        r"|\b(?:can(?:not|'t|\s+not)|unable\s+to|not\s+able\s+to)\s+(?:offer\s+|afford\s+to\s+)?pay(?:ing|ment)?\b"
        r"[^.\n]{0,30}?\b(?:you|for\s+(?:this|it|now|the\s+moment)|right\s+now|at\s+the\s+moment|yet|up\s*front|cash)\b"
        r"|\b(?:revenue|profits?|royalt(?:y|ies))\b[^.\n]{0,40}\b(?:will\s+be\s+(?:all\s+)?(?:yours|shared|split)|once\s+(?:it|the\s+\w+)\s+(?:sells|makes))\b"
        r"|\b(?:compensation|payment)\s+(?:is|will\s+be)\s+(?:in\s+)?(?:shares|equity|exposure|credit)\b"),
        "asks for work before or without pay"),
)
NAMES: tuple[str, ...] = tuple(s.name for s in SIGNALS)
_BY_NAME = {s.name: s for s in SIGNALS}

#: signals that are evidence for each detector (the learned models read all of them)
EVIDENCE_FOR: dict[str, tuple[str, ...]] = {
    "scam": ("earn_scheme",),
    "not_a_job": ("offer_self",),
    "off_platform": ("contact_ask",),
    "academic_dishonesty": ("academic",),
    "fake_reviews": ("reviews_trade",),
    "account_rental": ("account_use",),
    "unpaid_work": ("unpaid_ask",),
}


def gate(sig: Signal):
    """The signal's keyword gate, as ``rulescan`` takes them: ``gate(low, toks)``."""
    return has_any(*sig.gate)


def negated_spans(hits: list[Hit]) -> list[tuple[int, int]]:
    return [(h.start, h.end) for h in hits if h.kind == "contact_negated"]


def drop_negated(contact_hits: list[Hit], spans: list[tuple[int, int]]) -> list[Hit]:
    """Contact hits that do not sit inside a negation ("do not contact me outside the platform")."""
    if not spans:
        return contact_hits
    return [h for h in contact_hits if not any(a <= h.start and h.end <= b for a, b in spans)]
