import pytest

from classifiers.rules import find_contacts, find_policy_hits, find_scam_cues

POSITIVE = [
    ("email me at john.smith@gmail.com", "john.smith@gmail.com"),
    ("write to john [at] gmail please", "john [at] gmail"),
    ("reach me: john at gmail dot com", "john at gmail dot com"),
    ("domain is gmail dot com, user jsmith", "gmail dot com"),
    ("john(at)company(dot)com", "john(at)company(dot)com"),
    ("continue at t . me / johnny", "t . me / johnny"),
    ("call +1 (555) 123-4567 today", "+1 (555) 123-4567"),
    ("my number 07700 900123", "07700 900123"),
    ("UK mobile +44 7700 900123", "+44 7700 900123"),
    ("text 5 5 5 1 2 3 4 5 6 7 now", "5 5 5 1 2 3 4 5 6 7"),
    ("ring 555-123-4567", "555-123-4567"),
    ("telegram @dataentryhr", "telegram @dataentryhr"),
    ("Contact the hiring manager on Telegram", "Contact the hiring manager on Telegram"),
    ("skype: live:john.doe", "skype: live:john.doe"),
    ("I'll PayPal you directly", "I'll PayPal you directly"),
    ("wa.me/15551234567", "wa.me/15551234567"),
]

NEGATIVE = [
    "Budget $1,500 total", "Paying $25/hr", "due 2024-05-01", "deadline 05/06/2024", "runs on Python 3.11.4",
    "release v2.0.1", "since 2019", "zip code 90210", "budget 1000-2000", "at 10:30 am", "hours 9am-5pm",
    "1500 2000 3000 words", "10000-20000 users", "server 192.168.100.200", "build a WhatsApp chatbot",
    "Discord bot developer needed", "integrate PayPal checkout", "Telegram bot in Python", "10,000 words at $0.05",
    "£2,000-£3,000", "1.5 million rows", "1920x1080 px", "ISBN 978-3-16-148410-0",
]


#: requests for the applicant's own phone / messenger number (policy_rules off_platform rule)
NUMBER_REQUESTS = [
    ("Reply with your WhatsApp number to get started.", "Reply with your WhatsApp number"),
    ("Interested? Send me your WhatsApp number and I will add you.", "Send me your WhatsApp number"),
    ("Please share your phone number so we can talk.", "share your phone number"),
    ("Drop your WhatsApp no. below", "Drop your WhatsApp no."),
    ("DM me your number on WhatsApp", "DM me your number on WhatsApp"),
    ("Text us your mobile number for the details.", "Text us your mobile number"),
    ("Apply with your WhatsApp number and CV", "Apply with your WhatsApp number"),
    ("send us your telegram handle", "send us your telegram handle"),
    ("Include your personal phone number in your application.", "Include your personal phone number"),
    ("Send your number via WhatsApp", "Send your number via WhatsApp"),
    ("reply with ur whatsapp pls", "reply with ur whatsapp"),
]
NOT_NUMBER_REQUESTS = [
    "Developer for our WhatsApp Business integration project", "Build a WhatsApp chatbot for your store",
    "Send reminders to your customers via the WhatsApp API", "Validate phone numbers in the signup form",
    "Design the 'Enter your phone number' screen of our app", "Your phone number will never be shown to clients",
    "Send your WhatsApp Business API credentials through the platform's secure file share", "Send your CV and portfolio",
    "Include phone number validation in the form", "We will send you the WhatsApp message templates to translate",
]


@pytest.mark.parametrize("text,span", NUMBER_REQUESTS)
def test_number_request_is_an_off_platform_rule_hit(text, span):
    hits = [h for h in find_policy_hits(text) if h.kind == "off_platform"]
    assert any(h.text == span and text[h.start:h.end] == span for h in hits), hits


@pytest.mark.parametrize("text", NOT_NUMBER_REQUESTS)
def test_no_off_platform_hit_on_ordinary_messenger_or_phone_mentions(text):
    assert find_policy_hits(text) == []


@pytest.mark.parametrize("text,span", POSITIVE)
def test_contact_found_with_exact_span(text, span):
    hits = find_contacts(text)
    assert any(h.text == span and text[h.start:h.end] == span for h in hits), hits


@pytest.mark.parametrize("text", NEGATIVE)
def test_no_false_contact_hits(text):
    assert find_contacts(text) == []


@pytest.mark.parametrize("text", NEGATIVE)
def test_no_policy_hits_on_ordinary_numbers(text):
    assert find_policy_hits(text) == []


# ---------------------------------------------------------------- speed-ups must not change results
def _corpus_texts():
    from classifiers.data import load_emscad, load_seed_posts, load_short_honest, load_short_honest_validation, post_text

    texts = [post_text(r.title, r.description) for r in load_seed_posts() + load_emscad()[:300]]
    texts += [post_text(d["title"], d["description"]) for d in load_short_honest() + load_short_honest_validation()]
    texts += [t for t, _ in POSITIVE] + NEGATIVE + [t for t, _ in NUMBER_REQUESTS] + NOT_NUMBER_REQUESTS
    texts += ["", "   ", "a", "ab", "Ünïcödé ÇAFÉ naïve résumé", "x\x00y z", "İstanbul ßtraße ſkype", "🙂 emoji 🙂🙂 ok",
              "a\tb\nc  d\u00a0e", "JOHN [AT] GMAIL [DOT] COM", "WhatsApp:+44 7700 900123", "t.me/abc", "KIK me",
              # the four non-ASCII letters re.IGNORECASE matches to ASCII ones, inside rule keywords
              "I WİLL PAY YOU DİRECTLY", "contact me on telegram for the İNTERVİEW", "ſkype me", "DATA ENTRY FROM HOME, WEEKLY PAY",
              "GİFT CARDS accepted", "ssn and bank detaıls", "Buy the starter Kıt", "RESHİPPİNG parcels"]
    return texts


def test_keyword_gates_never_change_rule_hits():
    for text in _corpus_texts():
        assert find_contacts(text) == find_contacts(text, gates=False), text
        assert find_policy_hits(text) == find_policy_hits(text, gates=False), text
        assert find_scam_cues(text) == find_scam_cues(text, gates=False), text


def test_keyword_gates_see_non_ascii_case_equivalents():
    """"İ".lower() is two characters; the gate view must still see "directly" in "DİRECTLY"."""
    assert [h.kind for h in find_policy_hits("I WİLL PAY YOU DİRECTLY")] == ["off_platform"]
    assert [h.kind for h in find_scam_cues("GİFT CARDS only")] == ["gift_cards"]


def test_fast_vectoriser_equals_sklearn(scorer):
    import numpy as np

    from classifiers.modelling import clean_text
    from classifiers.vectorising import FastTfidf

    texts = [clean_text(t) for t in _corpus_texts()]
    for v in (scorer._word, scorer._char):
        assert FastTfidf.supported(v)
        a = v.transform(texts).tocsr()
        a.sort_indices()
        b = FastTfidf(v).transform(texts)
        assert a.shape == b.shape and a.nnz == b.nnz
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        assert np.allclose(a.data, b.data, rtol=1e-6, atol=1e-7)


def test_fast_vectoriser_equals_sklearn_on_edge_texts(scorer):
    """Short words (a padded word shorter than n yields nothing), characters outside every
    vocabulary term (id 0, like a word boundary), empty documents, repeated n-grams, and lone
    surrogates (text the classifiers package may be handed, though the app refuses it)."""
    import numpy as np

    from classifiers.vectorising import FastTfidf

    texts = ["", " ", "a", "ab", "abc", "I", "a b c d e", "é ü ☃ 日本語 🎉", "x" * 40,
             "pay pay pay pay via telegram", "l☃ogo de☃sign", "\x00nul\x00 byte", "naïve café",
             "gift-cards, only!!! $$$ 100% guaranteed", "\n\n", "Ünïcödé TITLE\n\nand body",
             "lone \ud800 surrogate", "a\udfffb \udc00\ud83c"]
    for v in (scorer._word, scorer._char):
        a = v.transform(texts).tocsr()
        a.sort_indices()
        b = FastTfidf(v).transform(texts)
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        assert np.allclose(a.data, b.data, rtol=1e-6, atol=1e-7)


def test_the_scorer_takes_lone_surrogates(scorer):
    """A str may hold a lone surrogate (JSON's "\\ud800" decodes to one); the app refuses
    such text at its edges, but the classifiers package takes any str, as scikit-learn does:
    the surrogate is a character outside every vocabulary, and the rest still counts."""
    from classifiers import PostInput

    def post(text):
        return PostInput(id="1", title="Logo design", description=text, category=None,
                         skills=[], budget=None, client_payment_verified=False,
                         client_account_age_days=None)

    [odd, plain] = scorer.score_posts([post("Contact me on telegram @quickpay \ud800 only"),
                                       post("Contact me on telegram @quickpay \u2603 only")])
    assert odd.flags == plain.flags and "policy" in odd.flags
    assert odd.scores == plain.scores


class TestCodeTable:
    def test_finds_every_key_and_nothing_else(self):
        import numpy as np

        from classifiers.vectorising import CodeTable

        rng = np.random.default_rng(7)
        keys = np.unique(rng.integers(0, 2**62, size=5000, dtype=np.int64))
        keys = np.concatenate([keys, [0, 2**62 - 1]])
        feats = rng.permutation(len(keys))
        table = CodeTable(keys, feats)
        assert np.array_equal(table.lookup(keys), feats)
        others = rng.integers(0, 2**62, size=20000, dtype=np.int64)
        others = others[~np.isin(others, keys)]
        assert (table.lookup(others) == -1).all()
        mixed = np.concatenate([others[:10], keys[:10]])
        assert np.array_equal(table.lookup(mixed), np.concatenate([[-1] * 10, feats[:10]]))

    def test_an_empty_table_finds_nothing_and_duplicates_are_refused(self):
        import numpy as np
        import pytest

        from classifiers.vectorising import CodeTable

        assert (CodeTable([], []).lookup(np.array([0, 1, 2**40], dtype=np.int64)) == -1).all()
        with pytest.raises(ValueError, match="duplicate"):
            CodeTable([5, 5], [0, 1])


class TestWordRows:
    """The char vectoriser keeps each distinct word's n-grams between batches: whatever it
    holds (nothing, some of a batch's words, all of them, or a store just emptied at its limit),
    a batch's rows are the same as sklearn's."""

    @staticmethod
    def _sklearn(v, texts):
        a = v.transform(texts).tocsr()
        a.sort_indices()
        return a

    @staticmethod
    def _same(a, b):
        import numpy as np

        assert b.has_sorted_indices
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        assert np.allclose(a.data, b.data, rtol=1e-6, atol=1e-7)

    def test_warm_cold_and_overlapping_batches_equal_sklearn(self, scorer):
        from classifiers.modelling import clean_text
        from classifiers.vectorising import FastTfidf

        texts = [clean_text(t) for t in _corpus_texts()]
        fast = FastTfidf(scorer._char)
        first, second = texts[: len(texts) // 2], texts[len(texts) // 3:]
        self._same(self._sklearn(scorer._char, first), fast.transform(first))
        held = len(fast.words.slot)
        assert held > 0
        # the second batch shares words with the first: only the others are added
        self._same(self._sklearn(scorer._char, second), fast.transform(second))
        assert held < len(fast.words.slot) < held + len({w for t in second for w in t.lower().split()})
        # everything already held: nothing added, same rows again
        held = len(fast.words.slot)
        self._same(self._sklearn(scorer._char, first), fast.transform(first))
        assert len(fast.words.slot) == held

    def test_a_store_at_its_limit_starts_afresh_and_stays_exact(self, scorer):
        from classifiers.vectorising import FastTfidf, WordRows

        fast = FastTfidf(scorer._char)
        fast.words = WordRows(fast.n_features, limit=12)
        batches = [["pay via telegram only", "logo design for a bakery"],
                   ["bakery logo, pay on delivery", "write my essay tonight"],
                   ["a b c d e f g h i j k l m n"]]  # 14 distinct words: over the limit alone
        for texts in batches * 2:
            self._same(self._sklearn(scorer._char, texts), fast.transform(texts))
            assert len(fast.words.slot) <= max(12, len({w for t in texts for w in t.split()}))

    def test_rows_handed_out_are_never_rewritten(self, scorer):
        """A matrix from an earlier call keeps its rows while later calls add words and grow
        the arrays (a thread may still be multiplying by it)."""
        import numpy as np

        from classifiers.vectorising import FastTfidf

        fast = FastTfidf(scorer._char)
        words = fast.words
        slots, W = words.rows(["logo", "design"], fast._word_ngrams)
        before = W.toarray().copy()
        for i in range(300):  # past the initial capacity: the arrays grow several times
            words.rows([f"word{i}", f"other{i}x", "logo"], fast._word_ngrams)
        assert np.array_equal(W.toarray(), before)
        slots_again, W2 = words.rows(["logo", "design"], fast._word_ngrams)
        assert slots_again.tolist() == slots.tolist()
        assert np.array_equal(W2[slots_again].toarray(), before[slots])

    def test_threads_sharing_one_vectoriser_get_exact_rows(self, scorer):
        from concurrent.futures import ThreadPoolExecutor

        from classifiers.modelling import clean_text
        from classifiers.vectorising import FastTfidf, WordRows

        texts = [clean_text(t) for t in _corpus_texts()]
        fast = FastTfidf(scorer._char)
        fast.words = WordRows(fast.n_features, limit=400)  # resets while threads run
        chunks = [texts[i:i + 7] for i in range(0, len(texts), 7)]
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(fast.transform, chunks))
        for chunk, got in zip(chunks, results):
            self._same(self._sklearn(scorer._char, chunk), got)

    def test_a_failed_lookup_leaves_no_numbered_word_without_a_row(self, scorer):
        import pytest

        from classifiers.vectorising import FastTfidf

        fast = FastTfidf(scorer._char)
        fast.transform(["logo design"])

        def boom(words):
            raise MemoryError("no room")

        with pytest.raises(MemoryError):
            fast.words.rows(["logo", "bakery", "design"], boom)
        texts = ["bakery logo design", "logo"]
        self._same(self._sklearn(scorer._char, texts), fast.transform(texts))
