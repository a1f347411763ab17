"""Feedback text helpers: sentence splitting, the VADER lexicon features and the language check.

Nothing here is learned: the same text always gives the same sentences, lexicon scores and
language decision, so they are computed once per text and shared by every fold of the
cross-validation (``classifiers.feedback_cv``).

- Sentences: a small regex splitter (sentence-final punctuation followed by a space, line
  breaks, semicolons). Feedback is informal (no capital after a full stop, emoticons, "!!!"),
  and the splitter only has to give units the sentence model can score.
- Lexicon: VADER (vaderSentiment 3.3.2, MIT; the lexicon ships inside the package, no download)
  scores every sentence; per feedback we keep the most negative, the mean and the most positive
  compound score and the largest negative share.
- Negation scope: ``mark_negation`` rewrites the words after a negation ("not", "never", "no",
  "n't", "without", ...) up to the next punctuation mark as ``neg_<word>``, so the word model
  sees "wasn't worth the money" as a negated "worth" instead of a positive one. It is applied to
  what the word vectoriser reads (the char n-grams read the text as written).
- Language: ``is_foreign`` marks text that is clearly NOT English (the only language the
  feedback models were trained on). Conservative by design: text with few letters ("ok", "A+++",
  "10/10") or mostly known English words is English; Latin-script text is only called foreign
  when few of its words are known English words AND py3langid (BSD, ships its model; loaded
  lazily, only for such texts) names another language with confidence, or when almost none of
  its words (under 30 %, at least 3 words) is English whatever langid's confidence. Text that is
  mostly in a non-Latin script (Cyrillic, CJK, Arabic, ...) is foreign.
"""
from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

#: sentence boundaries: . ! ? (and runs of them, with closing quotes/brackets) before a space,
#: line breaks, semicolons
_SPLIT_RE = re.compile(r"(?<=[.!?\u2026])\s+|(?<=[.!?\u2026][\"'\u201d\u2019)\]])\s+|\s*[\r\n]+\s*|\s*;\s+")
_HAS_WORD_RE = re.compile(r"[^\W\d_]", re.UNICODE)
MAX_SENTENCES = 40  # longer feedback: the first 39 sentences, then the rest as one unit

#: lexicon features per feedback, in this order
LEXICON_FEATURES = ("vader_min", "vader_mean", "vader_max", "vader_neg_max")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (stripped, each with at least one letter); the whole stripped text
    when it has none; [""] for empty text. Pieces without letters ("!!", ":)") join the sentence
    before them."""
    text = (text or "").strip()
    if not text:
        return [""]
    out: list[str] = []
    for piece in _SPLIT_RE.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if out and not _HAS_WORD_RE.search(piece):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    if not out:
        return [text]
    if len(out) > MAX_SENTENCES:
        out = out[: MAX_SENTENCES - 1] + [" ".join(out[MAX_SENTENCES - 1:])]
    return out


#: words of freelancer feedback about clients that VADER's general lexicon lacks, with a valence on
#: its -4..+4 scale (hand-written, generic words, not taken from any feedback text). Without them
#: VADER reads "No issues whatsoever" as negative ("no" before an unknown word keeps its own -1.2)
#: and "paid late twice" as neutral; with them "no issues" / "never late" are negated negatives
DOMAIN_LEXICON = {
    "late": -1.0, "issue": -1.0, "issues": -1.0, "hassle": -1.5, "hassles": -1.5, "delays": -1.3,
    "excuses": -1.2, "drama": -1.5, "unpaid": -2.0, "unresponsive": -1.8, "ghosted": -2.0,
    "micromanage": -1.5, "micromanages": -1.5, "micromanaging": -1.5, "micromanager": -1.5,
    "overdue": -1.2, "scammer": -2.7, "scammed": -2.7,
}


@functools.lru_cache(maxsize=1)
def vader():
    """The VADER analyser (lexicon read from the installed package, ~50 ms, once per process),
    with ``DOMAIN_LEXICON`` added."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    analyser.lexicon.update(DOMAIN_LEXICON)
    return analyser


#: "can't recommend him enough", "cannot thank her enough", "couldn't praise them enough": a
#: modal negation closed by "enough" is a superlative, not a negation; read as "highly <verb> ..."
_NOT_ENOUGH_RE = re.compile(r"\b(?:can't|cant|cannot|can not|couldn't|couldnt|could not)\s+"
                            r"((?:recommend|thank|praise|rate|endorse|say)\b[^.!?;,]{0,40}?)\s+enough\b", re.IGNORECASE)


def normalise_idioms(text: str) -> str:
    """Fixed English idioms whose surface negation reverses their sense, rewritten before the
    lexicon and the negation marking see them (the char n-grams read the text as written)."""
    if "enough" not in text.lower():
        return text
    return _NOT_ENOUGH_RE.sub(lambda m: "highly " + m.group(1), text)


@functools.lru_cache(maxsize=50_000)
def _vader_one(sentence: str) -> tuple[float, float]:
    d = vader().polarity_scores(normalise_idioms(sentence))
    return d["compound"], d["neg"]


def vader_sentences(sentences: list[str]) -> np.ndarray:
    """(n, 2): VADER compound and negative share of each sentence (repeated sentences, e.g.
    "Great client!", are looked up once per process)."""
    out = np.zeros((len(sentences), 2), dtype=np.float64)
    for i, s in enumerate(sentences):
        if s:
            out[i] = _vader_one(s)
    return out


def lexicon_features(per_sentence: np.ndarray) -> np.ndarray:
    """``LEXICON_FEATURES`` of one feedback from its ``vader_sentences`` rows."""
    c, neg = per_sentence[:, 0], per_sentence[:, 1]
    return np.array([c.min(), c.mean(), c.max(), neg.max()], dtype=np.float64)


# ---------------------------------------------------------------------------------- negation
#: a negation cue (the contractions also written without an apostrophe: "dont", "wasnt"; not
#: "cant", which is also a word): its scope runs to the next punctuation mark
_NEG_CUE = (r"(?:not|no|never|nothing|nobody|none|nowhere|neither|nor|cannot|without|hardly|barely|"
            r"dont|doesnt|didnt|isnt|wasnt|werent|arent|wont|wouldnt|couldnt|shouldnt|havent|hasnt|hadnt|"
            r"aint|neednt|mustnt|\w+n't)")
_NEG_SCOPE_RE = re.compile(rf"\b({_NEG_CUE})\b([^.,;:!?()\"\u2026]*)")
_SCOPE_WORD_RE = re.compile(r"\w[\w']*")
NEG_PREFIX = "neg_"


#: a lexicon word with a valence at least this far from 0 (VADER's -4..+4 scale) counts as a
#: negative or positive word inside a negation scope ("pay", -0.4, does not)
POLARITY_MIN = 1.0
#: words the VADER lexicon lacks that, negated, are praise of a client ("never late", "no issues"):
#: hand-written, a short list of generic words, not taken from any feedback text
EXTRA_NEGATIVE = frozenset({"late", "issue", "issues", "hassle", "hassles", "delays", "excuses", "drama"})
#: negated, still a complaint ("couldn't be bothered to reply")
NO_FLIP = frozenset({"bothered", "bother"})
#: the token added after a negated negative word ("not bad", "no complaints") and after a negated
#: positive word ("not good", "never happy"); the underscore keeps them out of the English-word list
NEG_NEGATIVE, NEG_POSITIVE = "negx_negative", "negx_positive"


@functools.lru_cache(maxsize=1)
def _polarity() -> dict[str, str]:
    """word -> the token its negation adds (``NEG_NEGATIVE`` / ``NEG_POSITIVE``), from VADER's
    lexicon (single words with |valence| >= ``POLARITY_MIN``) plus ``EXTRA_NEGATIVE``."""
    out = {w: (NEG_NEGATIVE if v < 0 else NEG_POSITIVE) for w, v in vader().lexicon.items()
           if " " not in w and abs(v) >= POLARITY_MIN}
    out.update(dict.fromkeys(EXTRA_NEGATIVE, NEG_NEGATIVE))
    for w in NO_FLIP:
        out.pop(w, None)
    return out


def _mark_scope(m: re.Match) -> str:
    return m.group(1) + _SCOPE_WORD_RE.sub(lambda w: NEG_PREFIX + w.group(), m.group(2))


#: a polarity token is added only for a lexicon word among the first ``POLARITY_WINDOW`` words of
#: a scope and before a word that starts another clause: "not in the contract and threatened a
#: bad rating" negates "in the contract", not "threatened" or "bad"
POLARITY_WINDOW = 5
_CLAUSE_WORDS = frozenset({"and", "but", "or", "so", "because", "although", "though", "while", "yet", "then"})
#: "don't" / "do not" opening a sentence is a warning ("don't waste your time"), not praise
_IMPERATIVE_RE = re.compile(r"(?:^|[.!?;:\n]\s*|\b(?:please|just)\s+)$")


#: "couldn't be happier" / "can't be worse": a comparative after "could not be" is a superlative,
#: not negated (the scope is left unmarked)
_COMPARATIVE_RE = re.compile(r"\s*be\s+(?:any\s+|much\s+)?(?:more\s+\w+|less\s+\w+|better|worse|\w{3,}er)\b")
_MODAL_CUES = frozenset({"couldn't", "couldnt", "cannot", "can't", "not"})


def _mark_scope_polarity(m: re.Match) -> str:
    cue = m.group(1)
    before = m.string[:m.start()]
    if cue in ("don't", "dont") and _IMPERATIVE_RE.search(before) or (
            cue == "not" and before.endswith("do ") and _IMPERATIVE_RE.search(before[:-3])):
        return _mark_scope(m)
    if cue in _MODAL_CUES and (cue != "not" or re.search(r"\b(?:could|can)\s+$", before)) \
            and _COMPARATIVE_RE.match(m.group(2)):
        return m.group(0)
    pol = _polarity()
    seen = 0
    open_ = True

    def one(w: re.Match) -> str:
        nonlocal seen, open_
        word = w.group()
        seen += 1
        if word in _CLAUSE_WORDS:
            open_ = False
        tok = pol.get(word) if open_ and seen <= POLARITY_WINDOW else None
        return f"{NEG_PREFIX}{word} {tok}" if tok else NEG_PREFIX + word

    return cue + _SCOPE_WORD_RE.sub(one, m.group(2))


@functools.lru_cache(maxsize=50_000)
def mark_negation(text: str, polarity: bool = False) -> str:
    """``text`` lower-cased (typographic apostrophes made plain), every word inside a negation
    scope prefixed with ``NEG_PREFIX``: "It was not very good, but ok" -> "it was not neg_very
    neg_good, but ok". A scope starts after a cue and ends at the next punctuation mark; a cue
    inside a scope is marked too and the scope goes on. With ``polarity`` a negated lexicon word
    is also followed by a token for its flipped polarity, shared by every word of that polarity:
    "not bad at all" -> "not neg_bad negx_negative neg_at neg_all", "not good" -> "not neg_good
    negx_positive", so what the models learn about one negated negative word ("no complaints")
    carries to the others ("never late", "nothing to complain about"). Cached: the stage-1 and
    the general model read the same texts and sentences."""
    text = normalise_idioms(text.lower().replace("\u2019", "'"))
    return _NEG_SCOPE_RE.sub(_mark_scope_polarity if polarity else _mark_scope, text)


def vectoriser_inputs(texts: list[str], negation: bool, polarity: bool = False) -> list[list[str]]:
    """What each vectoriser of ``make_vectorizers`` (word, char) reads: with ``negation`` the word
    n-grams read the negation-marked texts (``polarity``: with the flipped-polarity tokens), the
    char n-grams always the texts as written."""
    return [[mark_negation(t, polarity) for t in texts] if negation else texts, texts]


# ---------------------------------------------------------------------------------- language
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
#: fewer letters than this: too little text to call it foreign ("ok", "A+++", "10/10", "gr8")
MIN_LETTERS = 8
#: Latin-script text with at least this share of known English words is English
ENGLISH_SHARE = 0.5
#: py3langid's normalised probability needed to call Latin-script text foreign
LANGID_MIN_PROB = 0.9
#: below this share of known English words (in a text of at least ``FOREIGN_MIN_WORDS`` words) the
#: text is not English even when langid is unsure: its best guess, or "und" if that guess is English
FOREIGN_SHARE = 0.3
FOREIGN_MIN_WORDS = 3


def _is_latin(ch: str) -> bool:
    if ch.isascii():
        return True
    try:
        return unicodedata.name(ch).startswith("LATIN")
    except ValueError:
        return False


@functools.lru_cache(maxsize=1)
def _langid():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@functools.lru_cache(maxsize=1)
def lexicon_words() -> frozenset[str]:
    """Single English words of the VADER lexicon plus scikit-learn's English stop words."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(w for w in vader().lexicon if w.isalpha()) | frozenset(ENGLISH_STOP_WORDS)


def language_of(text: str, english_words: frozenset[str] | set[str]) -> tuple[str, str]:
    """(language code, how decided). "en" unless the text is clearly in another language.

    ``english_words``: lower-cased words known to be English (the feedback model's word
    vocabulary plus ``lexicon_words()``)."""
    if text.isascii():  # the common case, without a per-character loop
        if len(_ASCII_LETTER_RE.findall(text)) < MIN_LETTERS:
            return "en", "too_short"
        latin = 1.0
    else:
        letters = [ch for ch in text if ch.isalpha()]
        if len(letters) < MIN_LETTERS:
            return "en", "too_short"
        latin = sum(_is_latin(ch) for ch in letters) / len(letters)
    if latin < 0.5:  # mostly another script: the English models have seen none of it
        lang, _ = _langid().classify(text)
        return (lang if lang != "en" else "und"), "script"
    words = [w.lower() for w in _WORD_RE.findall(text) if len(w) > 1]
    if not words:
        return "en", "no_words"
    known = sum(w in english_words or w.replace("'", "") in english_words for w in words) / len(words)
    if known >= ENGLISH_SHARE:
        return "en", "english_words"
    lang, prob = _langid().classify(text)
    if lang != "en" and prob >= LANGID_MIN_PROB:
        return lang, "langid"
    if known < FOREIGN_SHARE and len(words) >= FOREIGN_MIN_WORDS:
        # almost no word is English: never a confident English score, whatever langid's confidence
        # ("Muy buen cliente, pago rapido": es at 0.77; "Ottimo cliente, pagamento veloce": it at 0.43)
        return (lang if lang != "en" else "und"), "few_english_words"
    return "en", "langid_unsure"


# ------------------------------------------------------------------------------- vectorisers
def make_vectorizers(char: bool = True) -> list[TfidfVectorizer]:
    word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=20000, sublinear_tf=True, strip_accents="unicode",
                           dtype=np.float32, token_pattern=r"(?u)\b\w[\w']*\b")
    if not char:
        return [word]
    return [word, TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, max_features=20000, sublinear_tf=True,
                                  dtype=np.float32)]
