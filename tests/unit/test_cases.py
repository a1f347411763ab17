"""Post case pages: evidence highlighting, escaping, actions over HTTP, 409 conflicts,
claims, similar posts."""
from __future__ import annotations

import re
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services import similar
from app.services.highlight import evidence_items, highlight
from models import Decision, Flag, JobPost
from tests.unit.console_fixtures import (HOSTILE_TEXT, HOSTILE_TITLE, as_user, db,  # noqa: F401
                                         make_client, make_flag, make_post, scam_case, staff,
                                         token)

HX = {"HX-Request": "true", "HX-Target": "case"}


# --- highlighting ---------------------------------------------------------------------------

def test_highlight_escapes_every_piece_and_marks_spans():
    text = '<b>Pay</b> a "fee" & <script>x</script>'
    start = text.index('"fee"')
    items = evidence_items([{"label": "scam", "text": '"fee"', "start": start,
                             "end": start + 5, "why": 'asks <money> "now"',
                             "field": "description", "detector": "scam", "kind": "rule"}],
                           {"description": text, "title": ""})
    html = str(highlight(text, items, "description"))
    assert "<b>" not in html and "<script>" not in html
    assert "&lt;b&gt;Pay&lt;/b&gt;" in html and "&amp;" in html
    assert re.search(r'<mark class="ev ev-rule ev-scam" id="ev-0-mark" '
                     r'title="scam: asks &lt;money&gt; &#34;now&#34;" aria-describedby="ev-0"', html)
    assert ">&#34;fee&#34;</mark>" in html


def test_highlight_relocates_stale_offsets_and_handles_overlaps():
    text = "abc registration fee xyz"
    items = evidence_items([
        {"text": "registration fee", "start": 0, "end": 5, "field": "description"},  # stale
        {"text": "fee xyz", "start": 17, "end": 24, "field": "description"},         # overlaps
        {"text": "missing", "start": 99, "end": 120, "field": "description"},
        {"label": "pattern", "why": "no span"},
    ], {"description": text})
    assert [i.located for i in items] == [True, True, False, False]
    html = str(highlight(text, items, "description"))
    assert html.replace('</mark>', '').count("fee") == 1  # every character output once
    assert re.sub(r"<[^>]+>", "", html) == text


# --- the case page --------------------------------------------------------------------------

def test_case_page_shows_evidence_scores_and_client(client, db, staff):
    c, post, flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    r = client.get(f"/posts/{post.id}")
    assert r.status_code == 200
    html = r.text
    assert '<mark class="ev ev-rule ev-scam"' in html and "asks the freelancer to pay" in html
    assert "m-1" in html and "0.90" in html  # model version, score
    assert c.name in html and "Payment" in html
    assert f'name="version" value="{flag.version}"' in html
    assert f'hx-post="/posts/{post.id}/claim"' in html  # claims on open (POST)


def test_case_page_names_each_kind_of_evidence(client, db, staff):
    """A regex span reads "pattern rule", a phrasing signal's span "phrasing signal", a model's
    top term "model term": the moderator knows which kind of evidence to check."""
    c, post, flag = scam_case(db)
    text = post.description
    spans = {"rule": "registration fee", "signal": "Contact me on telegram", "term": "Earn"}
    flag.evidence = [{"label": "scam", "text": t, "start": text.find(t), "end": text.find(t) + len(t),
                      "why": f"why {kind}", "field": "description", "detector": "scam", "kind": kind}
                     for kind, t in spans.items()]
    db.commit()
    as_user(client, "moderator@example.com")
    html = client.get(f"/posts/{post.id}").text
    for label in ("(scam, pattern rule, in the description)", "(scam, phrasing signal, in the description)",
                  "(scam, model term, in the description)"):
        assert label in html


def test_case_page_prints_the_budget_to_the_cent(client, db, staff):
    c, post, flag = scam_case(db)
    post.budget = 12.5
    db.add(post)
    db.commit()
    as_user(client, "moderator@example.com")
    html = client.get(f"/posts/{post.id}").text
    assert "<dt>Budget</dt><dd>12.50</dd>" in html


def test_case_page_shows_the_flags_system_note_escaped(client, db, staff):
    c, post, flag = scam_case(db)
    flag.system_note = ("A moderator moved this post to Design & Creative on 2026-12-01 "
                        "09:00 UTC (decision 7); the marketplace has it in <b>Writing</b> again.")
    db.commit()
    as_user(client, "moderator@example.com")
    html = client.get(f"/posts/{post.id}").text
    assert ('<p class="system-note">A moderator moved this post to Design &amp; Creative on '
            "2026-12-01 09:00 UTC (decision 7); the marketplace has it in &lt;b&gt;Writing"
            "&lt;/b&gt; again.</p>") in html


def test_case_fragment_vs_full_page(client, db, staff):
    _c, post, _f = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    frag = client.get(f"/posts/{post.id}", headers=HX)
    assert frag.text.lstrip().startswith('<article id="case"') and "<html" not in frag.text
    assert "HX-Target" in frag.headers["Vary"]


@pytest.mark.parametrize("role", ["moderator", "analyst"])
def test_hostile_marketplace_text_is_escaped_everywhere(client, db, staff, role):
    c = make_client(db, name='Evil <img src=x onerror=alert("c")>')
    post = make_post(db, c, title=HOSTILE_TITLE, description=HOSTILE_TEXT,
                     skills=["<svg onload=alert(1)>"])
    start = HOSTILE_TEXT.index("<a href")
    make_flag(db, post, reason="policy", policy_types=["off_platform"], evidence=[
        {"label": "<i>off</i>", "text": HOSTILE_TEXT[start:start + 20], "start": start,
         "end": start + 20, "why": '"><script>alert(9)</script>', "field": "description",
         "detector": "policy\" onmouseover=\"x", "kind": "rule"}])
    twin = make_post(db, make_client(db, name="<b>twin</b>"), title=HOSTILE_TITLE,
                     description=HOSTILE_TEXT)
    db.commit()
    as_user(client, f"{role}@example.com")
    pages = [client.get(f"/posts/{post.id}").text, client.get(f"/posts/{post.id}/similar").text,
             client.get(f"/clients/{c.id}").text, client.get("/queue/").text,
             client.get(f"/posts/{twin.id}").text]
    for html in pages:
        assert "<script>alert" not in html
        assert "<img src=x" not in html and "<svg onload" not in html
        assert 'href="javascript:' not in html and "<b>twin</b>" not in html
        assert "onmouseover=\"x" not in html and "<i>off</i>" not in html
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in pages[0]


def test_dismiss_over_htmx_returns_the_fresh_case(client, db, staff):
    _c, post, flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    r = client.post(f"/posts/{post.id}/dismiss", headers=HX, data={
        "csrf_token": token(client), "flag_id": flag.id, "version": 1})
    assert r.status_code == 200 and "Dismissed" in r.text and "Undo dismiss" in r.text
    assert r.text.lstrip().startswith('<article id="case"')


def test_undo_of_someone_elses_decision_names_them_and_only_admins_get_it(app, db, staff):
    from app.services import moderation
    _c, post, flag = scam_case(db)
    db.commit()
    moderation.dismiss(db, flag_id=flag.id, version=1, actor=staff["moderator2"])
    pages = {}
    for email in ("moderator@example.com", "admin@example.com", "moderator2@example.com"):
        c = app.test_client()
        as_user(c, email)
        pages[email] = c.get(f"/posts/{post.id}").text
    assert "undo-form" not in pages["moderator@example.com"]  # not theirs, not an admin
    assert "Undo moderator2@example.com's dismiss" in pages["admin@example.com"]
    assert "Undo dismiss" in pages["moderator2@example.com"]  # their own: no name


def test_stale_form_gets_409_with_the_fresh_case(client, db, staff):
    from app.services import moderation
    _c, post, flag = scam_case(db)
    db.commit()
    moderation.remove(db, flag_id=flag.id, version=1, reason_code="scam",
                      actor=staff["moderator2"])
    as_user(client, "moderator@example.com")
    r = client.post(f"/posts/{post.id}/dismiss", headers=HX, data={
        "csrf_token": token(client), "flag_id": flag.id, "version": 1})
    assert r.status_code == 409
    assert "changed by someone else" in r.text and 'role="alert"' in r.text
    assert "status-removed" in r.text  # the fresh state
    db.expire_all()
    assert len(db.exec(__import__("sqlmodel").select(Decision)).all()) == 1


def test_action_without_htmx_redirects(client, db, staff):
    _c, post, flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    r = client.post(f"/posts/{post.id}/escalate", data={
        "csrf_token": token(client), "flag_id": flag.id, "version": 1, "comment": "ring"})
    assert r.status_code == 303 and r.headers["Location"].startswith(f"/posts/{post.id}")
    assert "Escalated" in client.get(r.headers["Location"]).text


def test_remove_without_reason_is_422(client, db, staff):
    _c, post, flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    r = client.post(f"/posts/{post.id}/remove", headers=HX, data={
        "csrf_token": token(client), "flag_id": flag.id, "version": 1})
    assert r.status_code == 422 and "choose why" in r.text


def test_recategorise_and_undo_over_http(client, db, staff):
    client_, post, flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    csrf = token(client)
    r = client.post(f"/posts/{post.id}/recategorise", headers=HX, data={
        "csrf_token": csrf, "flag_id": flag.id, "version": 1, "category": "writing"})
    assert r.status_code == 200
    decision_id = int(re.search(r'name="decision_id" value="(\d+)"', r.text).group(1))
    r = client.post(f"/posts/{post.id}/undo", headers=HX,
                    data={"csrf_token": csrf, "decision_id": decision_id})
    assert r.status_code == 200 and "Undone." in r.text
    db.expire_all()
    assert db.get(JobPost, post.id).category == "admin_support"
    other = scam_case(db)[1]
    db.commit()
    assert client.post(f"/posts/{other.id}/undo", data={
        "csrf_token": csrf, "decision_id": decision_id}).status_code == 404


def test_note_and_missing_version(client, db, staff):
    _c, post, flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    csrf = token(client)
    r = client.post(f"/posts/{post.id}/note", headers=HX, data={
        "csrf_token": csrf, "flag_id": flag.id, "text": "<b>checked</b>"})
    assert r.status_code == 200 and "&lt;b&gt;checked&lt;/b&gt;" in r.text
    r = client.post(f"/posts/{post.id}/dismiss", headers=HX, data={
        "csrf_token": csrf, "flag_id": flag.id})
    assert r.status_code == 422


def test_a_note_form_sent_twice_adds_one_note(client, db, staff):
    """The note forms of the case and client pages carry a one-off token: the same form sent
    again (a reload, the browser's history) adds nothing; a new form adds a new note."""
    import re as _re

    from sqlmodel import select

    from models import Decision

    c, post, flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    for page, url, extra in ((f"/posts/{post.id}", f"/posts/{post.id}/note", {"flag_id": flag.id}),
                             (f"/clients/{c.id}", f"/clients/{c.id}/note", {})):
        html = client.get(page).text
        tokens = _re.findall(r'name="form_token" value="([^"]+)"', html)
        assert len(tokens) == 1
        data = {"csrf_token": token(client), "text": "checked the payment proof", "form_token": tokens[0], **extra}
        assert client.post(url, data=data, headers=HX).status_code == 200
        assert client.post(url, data=data, headers=HX).status_code == 200
        next_token = _re.findall(r'name="form_token" value="([^"]+)"', client.get(page).text)[0]
        assert next_token != tokens[0]
        assert client.post(url, data={**data, "form_token": next_token}, headers=HX).status_code == 200
    db.expire_all()
    notes = db.exec(select(Decision).where(Decision.action == "note")).all()
    assert len(notes) == 4  # two per page: the resubmissions added nothing


def test_claim_shows_to_others_and_admin_can_reassign(client, app, db, staff):
    _c, post, flag = scam_case(db)
    db.commit()
    as_user(client, "moderator@example.com")
    r = client.post(f"/posts/{post.id}/claim", data={"csrf_token": token(client)},
                    headers={"HX-Request": "true", "HX-Target": "claim-status"})
    assert "Claimed by you" in r.text
    other = app.test_client()
    as_user(other, "moderator2@example.com")
    r = other.post(f"/posts/{post.id}/claim", data={"csrf_token": token(other)})
    assert "Claimed by moderator@example.com" in r.text
    assert other.post(f"/posts/{post.id}/reassign", data={
        "csrf_token": token(other), "moderator_id": staff["moderator2"].moderator_id}
    ).status_code == 403
    admin = app.test_client()
    as_user(admin, "admin@example.com")
    page = admin.get(f"/posts/{post.id}").text
    assert "Reassign to" in page
    r = admin.post(f"/posts/{post.id}/reassign", headers=HX, data={
        "csrf_token": token(admin), "moderator_id": staff["moderator2"].moderator_id})
    assert r.status_code == 200
    db.expire_all()
    assert db.get(Flag, flag.id).claimed_by == staff["moderator2"].moderator_id


def test_analyst_sees_no_action_forms(client, db, staff):
    _c, post, _f = scam_case(db)
    db.commit()
    as_user(client, "analyst@example.com")
    html = client.get(f"/posts/{post.id}").text
    assert "read-only" in html and "/dismiss" not in html
    assert "/claim" not in html


# --- similar posts --------------------------------------------------------------------------

def test_handles_are_extracted_and_normalised():
    h = similar.handles("Mail Boss@Example.com or call +1 (555) 123-4567, "
                        "telegram: @cash_king, wa.me/15551234567")
    assert {"email:boss@example.com", "phone:5551234567", "telegram:cash_king"} <= h


def test_handle_gates_never_change_the_handles_found():
    import json

    from classifiers.data import DATA_DIR

    texts = [f"{r['title']}\n{r['description']}" for r in
             map(json.loads, (DATA_DIR / "seed" / "marketplace_posts.jsonl").read_text().splitlines())]
    texts += ["TELEGRAM @bob_the_boss", "WHATſAPP +1 555 123 4567", "T.ME/ringleader", "Wa.Me/15551234567",
              "mail: x@y.io", "@handle_only here", "call 555 123 4567", "", "Ünïcödé telegram: @ab_cd"]
    found = 0
    for text in texts:
        assert similar.handles(text) == similar.handles(text, gates=False), text
        found += bool(similar.handles(text))
    assert found > 100


def test_near_duplicates_and_shared_handles_across_accounts(client, db, staff):
    text = ("We are hiring remote data entry clerks, no experience needed, weekly pay, "
            "training provided, start today, flexible hours, apply now")
    _c, post, _f = scam_case(db, description=text + " telegram @ringleader")
    dup = make_post(db, make_client(db, name="Second account"), title="Data entry",
                    description=text + " whatsapp")
    handle = make_post(db, make_client(db), title="Other", description="Totally different "
                       "wording about a survey job; reach me at t.me/ringleader")
    unrelated = make_post(db, make_client(db), description="Logo for my bakery, $50")
    db.commit()
    cluster = similar.find_similar(db, post)
    found = {m.post.id: m for m in cluster.matches}
    assert dup.id in found and handle.id in found and unrelated.id not in found
    assert found[handle.id].shared_handles == ["ringleader (telegram)"]
    assert cluster.other_accounts == 2
    as_user(client, "moderator@example.com")
    preview = client.get(f"/posts/{post.id}/cluster?reason=scam",
                         headers={"HX-Request": "true", "HX-Target": "similar"})
    assert "This removes 2 posts from 2 accounts" in preview.text
    r = client.post(f"/posts/{post.id}/cluster", headers={"HX-Request": "true",
                                                          "HX-Target": "similar"},
                    data={"csrf_token": token(client), "reason": "scam", "expected": 2,
                          "post_id": [dup.id, handle.id]})
    assert r.status_code == 200 and "Removed 2 similar posts" in r.text


def test_cluster_removal_preselects_the_cases_reason_and_needs_one(client, db, staff):
    """Taking similar posts down preselects what removing this post would: the reason of
    its most urgent open scam or policy flag (a policy type), else nothing to choose from."""
    from app.services import moderation

    text = ("Send your CV by email to jobs.fast@example.com and we pay you outside the site, "
            "no fees through the platform, weekly transfers for remote typing work")
    post = make_post(db, make_client(db), title="Typing work", description=text)
    make_post(db, make_client(db, name="Second account"), title="Typing job", description=text)
    make_flag(db, post, reason="policy", policy_types=["off_platform"], priority=40.0)
    make_flag(db, post, reason="miscategorised", priority=60.0)
    db.commit()
    assert moderation.cluster_removal_reason(db, post.id) == "off_platform"
    as_user(client, "moderator@example.com")
    panel = {"HX-Request": "true", "HX-Target": "similar"}
    html = client.get(f"/posts/{post.id}/similar", headers=panel).text
    assert '<option value="off_platform" selected>' in html
    assert '<select id="cluster-reason" name="reason" required>' in html
    missing = client.get(f"/posts/{post.id}/cluster", headers=panel)
    assert missing.status_code == 422 and "Choose why the similar posts" in missing.text
    assert "This removes" not in missing.text
    bogus = client.get(f"/posts/{post.id}/cluster?reason=%3Cb%3Ebad", headers=panel)
    assert bogus.status_code == 422 and "<b>bad" not in bogus.text


def test_removal_reason_rule():
    from types import SimpleNamespace as F

    from app.services.moderation import removal_reason

    assert removal_reason(F(reason="scam", policy_types=[])) == "scam"
    assert removal_reason(F(reason="policy", policy_types=["fake_reviews", "off_platform"])) \
        == "fake_reviews"
    assert removal_reason(F(reason="policy", policy_types=[])) == ""
    assert removal_reason(F(reason="miscategorised", policy_types=[])) == ""
    assert removal_reason(None) == ""


def test_index_keys_are_stable_and_band_near_duplicates_together():
    text = ("We are hiring remote data entry clerks, no experience needed, weekly pay, training "
            "provided, start today, flexible hours, apply now and earn from the comfort of home")
    a = similar.Signature(similar.shingles(text), similar.handles(text))
    b_text = text.replace("apply now", "apply today")
    b = similar.Signature(similar.shingles(b_text), similar.handles(b_text))
    other = "Need a bookkeeper to reconcile twelve months of Xero accounts for a small bakery."
    c = similar.Signature(similar.shingles(other), similar.handles(other))
    ka, kb, kc = similar.index_keys(a), similar.index_keys(b), similar.index_keys(c)
    assert len(ka) == similar.BANDS and all(-2**63 <= k < 2**63 for k in ka)
    assert similar.jaccard(a.shingles, b.shingles) > 0.7 and ka & kb  # near duplicates share a band
    assert not ka & kc
    # stored keys must not depend on the process (no randomised hash()): pinned value
    assert similar.shingles("Need a LOGO!") == frozenset([zlib.crc32(b"need a logo")])
    logo = similar.Signature(similar.shingles("Need a logo for my bakery, budget fifty dollars"), frozenset())
    assert sorted(similar.index_keys(logo))[:2] == [-9134337103625938063, -7305592722075780570]
    handle = similar.Signature(frozenset(), frozenset(["telegram:ringleader"]))
    assert similar.index_keys(handle) == {similar._key(b"htelegram:ringleader")}
    assert similar.index_keys(similar.Signature(frozenset(), frozenset())) == set()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1 ZÉé-\n.İıＡｂ①ß") + ["\u0307", "😀", "\ud800"]),
               max_size=60), st.integers(min_value=1, max_value=4))
def test_shingles_hash_the_space_joined_words(text, k):
    """The stored shingle hashes are crc32 of k space-joined words (NFKC, lower-cased,
    [a-z0-9] runs), whatever characters the text holds: full-width letters, ligatures and
    combining marks and lone surrogates included."""
    import unicodedata

    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", text).lower())
    if len(words) < k:
        expected = {zlib.crc32(" ".join(words).encode())} if words else set()
    else:
        expected = {zlib.crc32(" ".join(words[i:i + k]).encode()) for i in range(len(words) - k + 1)}
    assert similar.shingles(text, k) == expected


def test_index_rows_of_some_posts_are_those_posts_rows():
    """A scoring job computes its chunk's index rows before its first write, then writes the
    rows of the posts it scored (``only``): exactly their keys, none of the others'."""
    posts = [(1, "Logo", "Need a logo for my bakery, budget fifty dollars"),
             (2, "Parcels", "Reship parcels from home, mail boss@cash-ring.example"),
             (3, "", "")]
    rows = similar.index_rows(posts)
    assert rows.post_ids == [1, 2, 3] and len(rows.keys) == len(rows.key_post_ids)
    expected = similar.keys_of([similar.compute_signature(t, d) for _, t, d in posts])
    assert [set(rows.keys[rows.key_post_ids == pid].tolist()) for pid in (1, 2, 3)] == expected
    kept = rows.only({2, 3})
    assert kept.post_ids == [2, 3]  # post 3 has no keys, but its old ones are still replaced
    assert set(kept.key_post_ids.tolist()) == {2}
    assert set(kept.keys.tolist()) == expected[1]
    assert similar.index_rows([]).post_ids == [] and not len(rows.only(set()).keys)


def test_index_finds_ring_members_outside_the_recent_window(client, db, staff):
    text = ("Urgent: reshipping coordinator wanted. Receive parcels at your home address, relabel "
            "them and forward the packages to our overseas clients the same day. Paid per parcel.")
    _c, post, _f = scam_case(db, description=text)
    old_dup = make_post(db, make_client(db, name="Old account"), title="Parcel job",
                        description=text.replace("the same day", "within a day"))
    old_handle = make_post(db, make_client(db), title="Survey", description="Fill in surveys "
                           "and get paid weekly. Questions: boss@cash-ring.example")
    subject_handle = make_post(db, make_client(db), description="Questions? Mail boss@cash-ring.example")
    for i in range(6):  # newer, unrelated posts push the old ones out of a small window
        make_post(db, make_client(db), description=f"Logo number {i} for a bakery, $50")
    db.commit()
    assert similar.find_similar(db, post, window=3).matches == []  # not indexed yet: unseen
    assert similar.backfill(db, chunk=4) >= 10
    assert similar.unindexed_post_ids(db, 0, 100) == []
    found = {m.post.id for m in similar.find_similar(db, post, window=3).matches}
    assert old_dup.id in found and old_handle.id not in found  # the handle is not in this post
    found_h = {m.post.id: m for m in similar.find_similar(db, subject_handle, window=3).matches}
    assert found_h[old_handle.id].shared_handles == ["boss@cash-ring.example (email)"]
    # an edit rewrites the post's keys: the old duplicate stops matching
    old_dup.description, old_dup.content_hash = "Completely new wording about a logo.", "edited"
    db.add(old_dup)
    similar.index_posts(db, [(old_dup.id, old_dup.title, old_dup.description)])
    db.commit()
    assert old_dup.id not in {m.post.id for m in similar.find_similar(db, post, window=3).matches}


def test_client_summary_counts_posts_feedback_and_flags(db):
    """The client panel's counts (one statement: casefile._client_counts), including a
    client with nothing yet and rows of other clients that must not count."""
    from app.services import casefile
    from models import utcnow
    from tests.unit.console_fixtures import make_feedback

    now = utcnow()
    empty = make_client(db)
    c, other = make_client(db), make_client(db)
    live = make_post(db, c)
    make_post(db, c, status="removed")
    make_post(db, c, status="removed")
    make_post(db, other)
    make_feedback(db, c, rating=1, negative=0.9)
    make_feedback(db, c, rating=4, negative=0.1)
    make_feedback(db, c, rating=2)  # not scored yet: not negative
    make_feedback(db, other, rating=1, negative=0.95)
    make_flag(db, live)
    make_flag(db, client=c, reason="negative_client", status="dismissed")
    make_flag(db, make_post(db, other))
    db.commit()
    s = casefile.client_summary(db, c, now=now)
    assert (s.posts_total, s.posts_live, s.posts_removed) == (3, 1, 2)
    assert (s.feedback_count, s.feedback_negative) == (3, 1)
    assert abs(s.feedback_avg - 7 / 3) < 1e-9
    assert (s.flags_total, s.flags_open) == (2, 1)
    e = casefile.client_summary(db, empty, now=now)
    assert (e.posts_total, e.posts_live, e.posts_removed, e.feedback_count, e.feedback_avg,
            e.feedback_negative, e.flags_total, e.flags_open) == (0, 0, 0, 0, None, 0, 0, 0)


# --- what the case page derives from the decisions it loaded -----------------------------------

@pytest.mark.parametrize("recent", [1, 2, 3, 50])
def test_undo_and_escalation_from_loaded_decisions_match_the_queries(db, staff, monkeypatch,
                                                                     recent):
    """The post case answers "what may be undone?" and "is it escalated?" from the post's
    newest decisions, which it loads anyway, whenever they settle it, and asks the database
    otherwise (older decisions left out of the page): always the queries' answers."""
    from app.services import casefile, moderation
    from models import utcnow

    monkeypatch.setattr(casefile, "RECENT_DECISIONS", recent)
    # the limit is built into the statements
    casefile._statements.cache_clear()
    casefile._post_case_statements.cache_clear()
    try:
        _c, post, flag = scam_case(db)
        actor = staff["moderator"]
        history = [("escalate", False), ("note", True), ("note", True), ("dismiss", False),
                   ("escalate", True), ("note", True), ("recategorise", True)]
        seen = set()
        for action, undone in history:
            now = utcnow()
            db.add(Decision(flag_id=flag.id, subject_type="post", subject_id=post.id,
                            client_id=post.client_id, post_id=post.id,
                            moderator_id=actor.moderator_id, action=action, created_at=now,
                            undone_at=now if undone else None))
            db.flush()
            for who, is_admin in ((actor, False), (staff["moderator2"], False),
                                  (staff["admin"], True)):
                case = casefile.post_case(db, post_id=post.id, flag_id=flag.id, actor=who,
                                          is_admin=is_admin, now=now)
                expected = casefile.last_undoable(db, actor=who, is_admin=is_admin, now=now,
                                                  post_id=post.id)
                # a record of the decision (or, from the fallback query, the entity)
                assert getattr(case.undoable, "id", None) == getattr(expected, "id", None)
                assert case.escalated == (flag.id in moderation.escalated_flag_ids(db, [flag.id]))
                seen.add((case.undoable is not None, case.escalated))
        assert seen == {(True, True), (False, True)}  # both answers came up, for each path
    finally:
        casefile._statements.cache_clear()
        casefile._post_case_statements.cache_clear()


def test_post_case_page_runs_a_fixed_number_of_queries(app, client, db, staff):
    """No query per decision, flag or evidence item: the count does not grow with them."""
    import sqlalchemy as sa

    from app.db import get_engine

    _c, post, flag = scam_case(db)
    db.commit()
    as_user(client, "admin@example.com")
    statements = []

    def count(_conn, _cursor, statement, *_a):
        statements.append(statement)
    with app.app_context():
        engine = get_engine()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        def run() -> int:
            statements.clear()
            assert client.get(f"/posts/{post.id}?flag={flag.id}").status_code == 200
            return len(statements)
        from app.services import moderation

        def notes(n: int) -> None:
            for i in range(n):
                moderation.add_note(db, flag_id=flag.id, text=f"note {i}", actor=staff["moderator"])
            db.commit()
        notes(1)
        few = run()
        notes(6)
        # the login's user; post + client + flags + the client's counts + claimers' names;
        # the post's and the client's decisions with their moderators' names; staff
        # (admins): 4, however many decisions (on PostgreSQL the last 3 in one round trip)
        assert run() == few == 4, few
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_case_forms_option_lists(client, db, staff):
    """The recategorise list preselects the suggested category and names the suggested and
    the current one; the removal reason defaults from the case (cached per distinct
    arguments: cases/_options.html), one list per case, right for each."""
    _c, post, flag = scam_case(db)
    mis = make_post(db, make_client(db), category="writing")
    mis_flag = make_flag(db, mis, reason="miscategorised", suggested_category="translation")
    pol = make_post(db, make_client(db))
    make_flag(db, pol, reason="policy", policy_types=["unpaid_work", "off_platform"])
    db.commit()
    as_user(client, "moderator@example.com")

    def selected(html: str, select_id: str) -> list[str]:
        block = re.search(rf'<select id="{select_id}".*?</select>', html, re.S).group(0)
        return re.findall(r'<option value="([^"]*)" selected>', block)
    html = client.get(f"/posts/{mis.id}?flag={mis_flag.id}").get_data(as_text=True)
    assert selected(html, "recat-category") == ["translation"]
    assert re.search(r'<option value="translation" selected>[^<]*\(suggested\)</option>', html)
    assert re.search(r'<option value="writing" >[^<]*\(current\)</option>', html)
    assert selected(html, "remove-reason") == []
    scam = client.get(f"/posts/{post.id}?flag={flag.id}").get_data(as_text=True)
    assert selected(scam, "recat-category") == ["admin_support"]  # no suggestion: current
    assert "(suggested)" not in scam
    assert selected(scam, "remove-reason") == ["scam"]
    assert selected(client.get(f"/posts/{pol.id}").get_data(as_text=True),
                    "remove-reason") == ["unpaid_work"]
    # a post in no category (a wrong-section post), nothing suggested: nothing preselected,
    # the browser must not show the first category as if chosen; "Choose…" until one is
    uncategorised = make_post(db, make_client(db), category="")
    make_flag(db, uncategorised, reason="scam")
    db.commit()
    html = client.get(f"/posts/{uncategorised.id}").get_data(as_text=True)
    assert selected(html, "recat-category") == [""]
    assert re.search(r'<select id="recat-category" name="category" required', html)
    assert "Choose…</option>" not in scam.split('id="recat-category"')[1].split("</select>")[0]
