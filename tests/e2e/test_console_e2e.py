"""The moderation console in Chromium against gunicorn, on a fresh PostgreSQL database with
the real Redis and a real `flask worker` (RQ), and a local SMTP sink: posts ingested
through the API and flagged by the worker, a moderator's day, the conflict path with two
moderators, an analyst who cannot act, and hostile marketplace text that must never
execute."""
from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest

from tests.e2e.conftest import PASSWORD, REDIS_URL, log_in, new_page, screenshot, start_server
from tests.e2e.smtp_sink import SmtpSink
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

SCAM_TEXT = ("Earn $500 a day from home typing data. Pay a $50 registration fee to start and "
             "message me on telegram @quickcash_boss for the training kit.")
MIS_TEXT = ("I am a professional logo designer with 8 years of experience. Hire me for your "
            "branding, business cards and social media graphics.")
FINE_TEXT = "Need a logo for my bakery, $50. Warm colours, bread motif."
XSS = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2;alert(2)</script>'
XSS_LINK = '<a href="javascript:window.__xss=3;alert(3)">click for details</a>'


# CSP violations are logged with their source, so a failure says where they came from
REPORT_CSP = ("document.addEventListener('securitypolicyviolation', e => console.error("
              "'CSP violation ' + e.violatedDirective + ' at ' + e.sourceFile + ':' + e.lineNumber))")


def _span(text: str, needle: str, **kw) -> dict:
    start = text.index(needle)
    return {"label": kw.pop("label", "scam"), "text": needle, "start": start,
            "end": start + len(needle), "field": kw.pop("field", "description"), **kw}


@pytest.fixture
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def server(tmp_path, smtp, pg_url, redis_client):
    srv = start_server(tmp_path, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
                                  "SMTP_FROM": "trust@trustdesk.test", "DATABASE_URL": pg_url,
                                  "REDIS_URL": REDIS_URL, "JOB_RETRY_INTERVALS": "1,2"})
    try:
        srv.start_worker()
        for role in ("admin", "moderator", "analyst"):
            srv.create_user(role)
        srv.flask("users", "create", "moderator2@e2e.example.com", "--role", "moderator",
                  "--password-stdin", input=PASSWORD + "\n")
        srv.users["moderator2"] = "moderator2@e2e.example.com"
        yield srv
    finally:
        srv.stop()



def seed(db) -> dict:
    from models import Client, Feedback, Flag, JobPost, utcnow

    now = utcnow()
    ids = {}

    def client(name, **kw):
        c = Client(external_id=f"c-{name.lower().replace(' ', '-')[:40]}", name=name,
                   joined_at=now - timedelta(days=kw.pop("age", 400)), payment_verified=True, **kw)
        db.add(c)
        db.flush()
        return c

    def post(c, key, title, text, category, **kw):
        p = JobPost(external_id=f"p-{key}", client_id=c.id, title=title, description=text,
                    category=category, content_hash=f"hash-{key}", budget=kw.pop("budget", 300),
                    posted_at=now - timedelta(hours=kw.pop("hours", 6)),
                    scores=kw.pop("scores", {"scam": 0.1, "miscategorised": 0.1, "policy": 0.1}),
                    model_version="scam-3+cat-2+pol-1", scored_at=now, **kw)
        db.add(p)
        db.flush()
        ids[key] = p.id
        return p

    def flag(p, reason, score, priority, evidence, **kw):
        f = Flag(subject_type="post", subject_id=p.id, client_id=p.client_id, post_id=p.id,
                 reason=reason, score=score, model_version=f"{reason}-v3", evidence=evidence,
                 priority=priority, **kw)
        db.add(f)
        db.flush()
        ids[f"flag-{p.external_id[2:]}"] = f.id
        return f

    ring = client("Quick Cash Ltd", age=3)
    scam = post(ring, "scam", "Easy data entry from home", SCAM_TEXT, "admin_support",
                scores={"scam": 0.97, "miscategorised": 0.05, "policy": 0.4})
    flag(scam, "scam", 0.97, 88.0, [
        _span(SCAM_TEXT, "registration fee", why="asks the freelancer to pay before working",
              detector="scam", kind="rule"),
        _span(SCAM_TEXT, "telegram @quickcash_boss", why="moves the conversation off the platform",
              detector="scam", kind="rule")])
    twin = client("Quick Cash Two", age=2)
    post(twin, "scam-twin", "Data entry, earn daily", SCAM_TEXT.replace("$500", "$450"),
         "admin_support")
    designer = client("Pixel Perfect Studio")
    mis = post(designer, "mis", "Logo designer available for hire", MIS_TEXT, "web_mobile_software",
               scores={"scam": 0.02, "miscategorised": 0.91, "policy": 0.05})
    flag(mis, "miscategorised", 0.91, 27.0, [
        _span(MIS_TEXT, "Hire me", label="miscategorised", why="a freelancer advertising "
              "themselves, not a job", detector="miscategorised", kind="term")],
         suggested_category="not_a_job")
    bakery = client("Sunrise Bakery")
    fine = post(bakery, "fine", "Logo for my bakery", FINE_TEXT, "design_creative",
                scores={"scam": 0.52, "miscategorised": 0.1, "policy": 0.1})
    flag(fine, "scam", 0.52, 41.0, [
        _span(FINE_TEXT, "$50", why="mentions a payment amount", detector="scam", kind="term")])

    grumpy = client("Grumpy Holdings")
    post(grumpy, "grumpy-1", "Bookkeeping for March", "Reconcile 200 transactions.",
         "accounting_consulting")
    post(grumpy, "grumpy-2", "Translate a contract", "EN to DE, 12 pages.", "translation")
    comments = ["Great to work with", "Paid two weeks late and was rude",
                "Refused to pay for approved work", "Insulting messages, late payment",
                "Changed the scope, then refused to pay", "Rude and paid late again"]
    for i, (rating, neg, text) in enumerate(zip([5, 2, 1, 1, 2, 1],
                                                [0.05, 0.85, 0.95, 0.9, 0.8, 0.92], comments)):
        db.add(Feedback(external_id=f"fb-grumpy-{i}", client_id=grumpy.id, rating=rating,
                        comment=text, negative=neg, scored_at=now,
                        created_at=now - timedelta(days=60 - i * 10)))
    grumpy.negativity_score = 0.86
    grumpy.model_version = "negativity-2"
    cf = Flag(subject_type="client", subject_id=grumpy.id, client_id=grumpy.id,
              reason="negative_client", score=0.86, model_version="negativity-2", priority=52.0,
              evidence=[{"label": "negative_client", "kind": "pattern",
                         "why": "5 of the last 6 feedbacks are negative (late or no payment)"},
                        {"label": "negative_client", "kind": "feedback", "ref": "fb-grumpy-2",
                         "rating": 1, "why": "Refused to pay for approved work"}])
    db.add(cf)
    ids["grumpy"] = grumpy.id

    hostile = client('Evil <img src=x onerror="window.__xss=4">')
    bad = post(hostile, "xss", f"Great job {XSS}", f"Apply here: {XSS_LINK} {XSS} and "
               "whatsapp +1 555 123 4567", "writing", skills=["<svg onload=alert(5)>"])
    flag(bad, "policy", 0.8, 60.0, [
        _span(bad.description, XSS_LINK, label="off_platform",
              why='links away "<b>off-platform</b>"', detector="policy", kind="rule")],
         policy_types=["off_platform"])
    db.commit()
    return ids


def _context(browser):
    context, page = new_page(browser, width=1360, height=900)
    page.add_init_script(REPORT_CSP)
    return context, page


def _login(page, server, who):
    page.goto(server.url + "/login")
    page.get_by_label("E-mail").fill(server.users[who])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/queue/")


def _confirm(page):
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    dialog.get_by_role("button", name="Confirm").click()


def test_a_moderators_day(page, browser, server, db, smtp):
    ids = seed(db)
    page.add_init_script(REPORT_CSP)
    log_in(page, server, "moderator")
    page.get_by_role("heading", name="Review queue").wait_for()
    assert page.locator("tr[data-row]").count() == 5
    screenshot(page, "console-queue")

    # keyboard help
    page.keyboard.press("?")
    assert page.locator("#shortcuts-dialog").is_visible()
    screenshot(page, "console-shortcuts")
    page.keyboard.press("Escape")

    # filter by reason: the rows update in place and the URL is kept in history
    page.get_by_label("Reason", exact=True).select_option("scam")
    page.wait_for_function("() => location.search.includes('reason=scam')")
    page.wait_for_function("() => document.querySelectorAll('tr[data-row]').length === 2")
    # active search over title/text/client name
    page.get_by_label("Search titles, text and client names").press_sequentially("bakery")
    page.wait_for_function("() => location.search.includes('q=bakery')")
    page.wait_for_function("() => document.querySelectorAll('tr[data-row]').length === 1")
    screenshot(page, "console-queue-filtered")
    page.get_by_label("Search titles, text and client names").fill("")
    page.get_by_label("Search titles, text and client names").press("End")  # keyup
    page.keyboard.press("Escape")  # leave the field: single-key shortcuts work again
    page.wait_for_function("() => document.querySelectorAll('tr[data-row]').length === 2")

    # j/k + Enter open the most urgent case: the scam post; opening claims it
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/posts/{ids['scam']}?flag=*")
    page.get_by_text("Claimed by you").wait_for()
    assert page.locator("mark.ev").count() == 2
    page.get_by_text("Quick Cash Two").wait_for()  # similar posts (lazy panel): the ring
    screenshot(page, "console-case-scam")
    page.get_by_role("button", name="Remove post").click()
    _confirm(page)
    page.get_by_text("Post removed; the client will be told.").wait_for()
    assert page.get_by_role("button", name="Undo remove").is_visible()
    screenshot(page, "console-case-removed")

    # a freelancer advertising themselves: "Remove: not a job" is the primary action, and
    # "not a job" is no category to move the post to (that kept self-ads live)
    page.goto(server.url + f"/posts/{ids['mis']}")
    assert page.locator("#recat-category option[value='not_a_job']").count() == 0
    screenshot(page, "console-case-self-ad")
    page.get_by_role("button", name="Remove: not a job").click()
    _confirm(page)
    page.get_by_text("Post removed; the client will be told.").wait_for()
    assert page.locator("#case .badge.status-removed").first.is_visible()
    screenshot(page, "console-case-self-ad-removed")

    # dismiss the false positive with the keyboard
    page.goto(server.url + f"/posts/{ids['fine']}")
    page.get_by_text("Claimed by you").wait_for()
    page.keyboard.press("d")
    page.get_by_text("Dismissed: recorded as not a violation.").wait_for()

    # contact the consistently negative client
    page.goto(server.url + "/queue/?reason=negative_client")
    page.get_by_role("link", name="Client: Grumpy Holdings").click()
    page.wait_for_url(f"**/clients/{ids['grumpy']}?flag=*")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById("
                           "'feedback-chart')) !== undefined")
    screenshot(page, "console-client")
    # the policy: no suspension before a contact and a follow-up that found no improvement
    assert page.get_by_text("Suspension on hold.").is_visible()
    assert page.get_by_role("button", name="Suspend…").count() == 0
    page.get_by_role("button", name="Contact the client…").click()
    page.get_by_label("What freelancers reported").fill("payments arrive weeks late and "
                                                        "messages are insulting")
    page.get_by_role("button", name="Preview message").click()
    page.get_by_text("before sending").wait_for()  # unfilled placeholders block sending
    assert page.get_by_role("button", name="Send message").count() == 0
    page.get_by_label("Examples").fill("approved work went unpaid for two weeks")
    page.get_by_label("What we expect from now on").fill("pay approved work within 5 days")
    page.get_by_role("button", name="Preview message").click()
    page.get_by_text("Hello Grumpy Holdings").wait_for()
    screenshot(page, "console-contact-preview")
    page.get_by_role("button", name="Send message").click()
    # with a mail server: e-mailed, or queued for the worker's mail job (whichever it is)
    sent = re.compile(r"Message (sent by e-mail|queued for e-mail \(the mail job sends it\))\. "
                      r"Follow-up on")
    page.get_by_text(sent).wait_for()
    assert page.locator(".badge.status-contacted").first.is_visible()
    # the case was replaced in place: one page, one top bar (not a page inside the page)
    assert page.locator("header.topbar").count() == 1
    assert page.locator("#client-case").count() == 1
    # scrolled to the case's top, where the notice is (the Send button was further down)
    assert page.evaluate("document.getElementById('client-case').getBoundingClientRect().top") > -1
    assert page.get_by_text(sent).is_visible()
    assert page.evaluate("() => { const r = document.querySelector('#client-case .notice')"
                         ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    screenshot(page, "console-client-contacted")
    assert page.get_by_text("the follow-up window ends on").is_visible()  # still on hold
    assert page.get_by_role("button", name="Suspend…").count() == 0
    wait_for(lambda: smtp.messages, what="the worker to send the message over SMTP")
    (sender, rcpt, msg), = smtp.messages
    assert rcpt == ["client-c-grumpy-holdings@marketplace.invalid"]
    assert "weeks late" in msg.get_payload(decode=True).decode()

    # the follow-up window passes (a test clock, not sleeping) and they did not improve
    from models import Feedback, Outreach, utcnow
    from sqlmodel import select
    outreach = db.exec(select(Outreach)).one()
    for i in range(3):
        db.add(Feedback(external_id=f"fb-grumpy-after-{i}", client_id=ids["grumpy"], rating=1,
                        comment="Still paying late and rude", negative=0.93, scored_at=utcnow(),
                        created_at=outreach.sent_at + timedelta(days=2 + i)))
    db.commit()
    later = (outreach.follow_up_due_at + timedelta(hours=1)).isoformat()
    assert "not-improved" in server.flask("followups", "run", "--now", later)

    # back in the queue at the top, "suspend recommended": suspend after a confirmation
    page.goto(server.url + "/queue/")
    first = page.locator("tr[data-row]").first
    assert "suspend recommended" in first.inner_text()
    screenshot(page, "console-queue-suspend-recommended")
    first.get_by_role("link").click()
    page.get_by_role("button", name="Suspend…").click()
    page.get_by_text("takes down 2 open posts").wait_for()
    page.get_by_label("Reason").fill("No improvement after the warning and follow-up window")
    screenshot(page, "console-suspend-confirm")
    page.get_by_role("button", name="Suspend and take down 2 posts").click()
    page.get_by_text("Client suspended; their open posts were taken down.").wait_for()
    page.wait_for_function("() => Chart.getChart(document.getElementById('feedback-chart'))"
                           " !== undefined")  # redrawn after the swap
    screenshot(page, "console-client-suspended")
    assert page.locator(".badge.status-suspended").first.is_visible()
    assert page.console_errors == [] and page.dialogs == []

    # the analyst can read everything, act on nothing
    context, analyst = _context(browser)
    try:
        _login(analyst, server, "analyst")
        analyst.goto(server.url + f"/posts/{ids['scam']}")
        assert analyst.get_by_text("You have read-only access.").is_visible()
        assert analyst.get_by_role("button", name="Dismiss (not a violation)").count() == 0
        status = analyst.evaluate(
            """async (url) => (await fetch(url, {method: 'POST', headers: {'X-CSRFToken':
                JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']},
                body: new URLSearchParams({flag_id: '1', version: '1'})})).status""",
            server.url + f"/posts/{ids['fine']}/dismiss")
        assert status == 403
        analyst.goto(server.url + "/audit/")
        analyst.get_by_label("Action").select_option("client.suspend")
        analyst.wait_for_function("() => location.search.includes('action=client.suspend')")
        analyst.locator("#audit-results code", has_text="client.suspend").first.wait_for()
        screenshot(analyst, "console-audit")
    finally:
        context.close()

    # the admin's system page: the real worker's failed-job registry and the sweep
    context, admin = _context(browser)
    try:
        _login(admin, server, "admin")
        admin.goto(server.url + "/system/")
        admin.get_by_role("heading", name="Failed jobs").wait_for()
        assert admin.get_by_text("No failed jobs.").is_visible()
        assert admin.locator("#mail-server").inner_text().startswith("Mail server: 127.0.0.1:")
        # the training labels' panel loads once the page is shown: the day's decisions
        admin.locator("#labels-by-reason").wait_for()
        assert admin.title() == "System · TrustDesk"  # the labels' section was in it once
        screenshot(admin, "console-system")
    finally:
        context.close()


def test_two_moderators_conflict(page, browser, server, db):
    ids = seed(db)
    log_in(page, server, "moderator")
    page.goto(server.url + f"/posts/{ids['scam']}")
    page.get_by_text("Claimed by you").wait_for()

    context, other = _context(browser)
    try:
        _login(other, server, "moderator2")
        other.goto(server.url + f"/posts/{ids['scam']}")
        other.get_by_text("Claimed by moderator@e2e.example.com").wait_for()
        screenshot(other, "console-claimed-by-other")

        page.get_by_role("button", name="Remove post").click()
        _confirm(page)
        page.get_by_text("Post removed").wait_for()

        # the second moderator still has the old form: a conflict, never a double action
        other.get_by_role("button", name="Dismiss (not a violation)").click()
        other.get_by_text("changed by someone else").wait_for()
        assert other.locator("#case .badge.status-removed").first.is_visible()
        assert other.get_by_role("button", name="Dismiss (not a violation)").count() == 0
        screenshot(other, "console-conflict")
        assert other.console_errors == [] or all("409" in e for e in other.console_errors)
    finally:
        context.close()

    from models import Decision, Flag
    from sqlmodel import select
    db.expire_all()
    assert [d.action for d in db.exec(select(Decision))] == ["remove"]
    assert db.get(Flag, ids["flag-scam"]).status == "resolved"


def test_bulk_dismiss_with_keyboard_selection(page, server, db):
    seed(db)
    log_in(page, server, "moderator")
    page.get_by_label("Reason", exact=True).select_option("scam")
    page.wait_for_function("() => document.querySelectorAll('tr[data-row]').length === 2")
    page.wait_for_load_state("networkidle")  # the filtered rows have settled
    page.keyboard.press("Escape")  # leave the filter field: single-key shortcuts work again
    checked = "() => document.querySelectorAll('tr[data-row] input:checked').length === {}"
    for n in (1, 2):
        page.keyboard.press("j")
        page.keyboard.press("x")
        page.wait_for_function(checked.format(n))
    page.get_by_role("button", name="Dismiss selected").click()
    page.get_by_text("Dismiss 2 items?").wait_for()
    screenshot(page, "console-bulk-confirm")
    page.get_by_role("button", name="Dismiss 2 items").click()
    page.get_by_text("Dismissed 2 items.").wait_for()
    assert page.locator("tr[data-row]").count() == 0
    assert page.console_errors == [] and page.dialogs == []


def test_hostile_marketplace_text_never_executes(page, server, db):
    ids = seed(db)
    log_in(page, server, "moderator")
    visits = ["/queue/", "/queue/?q=great", f"/posts/{ids['xss']}",
              f"/posts/{ids['xss']}/similar",
              f"/clients/{db.get(__import__('models').JobPost, ids['xss']).client_id}"]
    for path in visits:
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => window.__xss") is None, path
    page.goto(server.url + f"/posts/{ids['xss']}")
    page.wait_for_load_state("networkidle")
    assert page.get_by_text('<script>window.__xss=2;alert(2)</script>').first.is_visible()
    assert page.locator("a[href^='javascript:']").count() == 0
    assert page.locator("#case img, #case script, #case svg").count() == 0
    page.locator("mark.ev").first.hover()
    screenshot(page, "console-xss-case")
    assert page.evaluate("() => window.__xss") is None
    assert page.dialogs == []
    csp = [e for e in page.console_errors if "Content Security Policy" in e]
    assert csp == [], csp


def test_working_a_filtered_queue_with_the_keyboard(page, server, db):
    """Issue 21: one row per post with all its reasons; the queue's filter carries through
    the case page to "next case"; the claim's Release button appears without a reload; `d`
    dismisses and the toast offers the undo."""
    from models import Flag

    ids = seed(db)
    db.add(Flag(subject_type="post", subject_id=ids["scam"], client_id=db.get(
        Flag, ids["flag-scam"]).client_id, post_id=ids["scam"], reason="policy", score=0.7,
        model_version="policy-v3", evidence=[], priority=30.0, policy_types=["off_platform"]))
    db.commit()
    page.add_init_script(REPORT_CSP)
    log_in(page, server, "moderator")
    page.get_by_role("heading", name="Review queue").wait_for()
    # the scam post's two flags are one row, with both reasons
    assert page.locator("tr[data-row]").count() == 5
    scam_row = page.locator("tr[data-row]", has_text="Easy data entry from home")
    assert scam_row.locator(".badge.reason-scam").count() == 1
    assert scam_row.locator(".badge.reason-policy").count() == 1
    page.get_by_text("5 open cases in all").wait_for()
    page.get_by_label("Reason", exact=True).select_option("scam")
    page.wait_for_function("() => document.querySelectorAll('tr[data-row]').length === 2")
    page.get_by_text("2 matching cases").wait_for()
    page.wait_for_load_state("networkidle")
    screenshot(page, "console-queue-one-row-per-post")
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/posts/{ids['scam']}?flag=*reason=scam*")
    # the claim made on load brings its Release button along (no reload)
    page.get_by_text("Claimed by you").wait_for()
    page.get_by_role("button", name="Release claim").wait_for()
    page.wait_for_load_state("networkidle")
    # `d`: dismissed at once, and the toast offers the undo
    page.keyboard.press("d")
    page.get_by_text("Dismissed: recorded as not a violation.").wait_for()
    toast = page.locator("#undo-toast")
    toast.get_by_role("button", name="Undo dismiss").wait_for()
    screenshot(page, "console-case-undo-toast")
    toast.get_by_role("button", name="Undo dismiss").click()
    page.get_by_text("Undone.").wait_for()
    page.get_by_role("button", name="Dismiss (not a violation)").wait_for()
    page.keyboard.press("d")
    page.get_by_text("Dismissed: recorded as not a violation.").wait_for()
    # next case: the next *scam* case (the bakery post, priority 41), not the more urgent
    # policy and client cases outside the filter; the filter goes along again
    page.wait_for_load_state("networkidle")  # the lazy panels: nothing in flight on leaving
    page.locator("#next-case").click()
    page.wait_for_url(f"**/posts/{ids['fine']}?flag=*reason=scam*")
    page.get_by_text("Claimed by you").wait_for()
    page.wait_for_load_state("networkidle")
    page.keyboard.press("q")  # the breadcrumb back to the queue, with the filter
    page.wait_for_url("**/queue/?reason=scam")
    assert page.console_errors == [] and page.dialogs == []
