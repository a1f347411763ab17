"""Every form works on the page it is on (issue 21, items 14-16).

A panel opened in a tab of its own (the suspend confirmation, the contact form, the bulk
confirmation) is a standalone page: the elements its panel's htmx attributes point at in
the page it came from are not there, and htmx drops a request whose target is missing
(``htmx:targetError``), so the form did nothing. The tests below enumerate every console
page (and the panels swapped into them), check that each htmx target is on the page,
that no GET carries the CSRF token in its URL, and submit the standalone forms as a
browser does: a plain POST answered by a redirect to a page with the notice, never twice.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlmodel import select

from models import Client, Decision, Flag, JobPost, Outreach
from tests.unit.console_fixtures import CONTACT_FIELDS as FIELDS
from tests.unit.test_qa import decided
from tests.unit.console_fixtures import (as_user, db, fake_smtp, make_client,  # noqa: F401
                                         make_feedback, make_flag, make_post,
                                         not_improved_after_contact, scam_case, staff, token)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
HX_VERBS = ("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def describe(self) -> str:
        shown = {k: v for k, v in self.attrs.items() if k in ("id", "action", *HX_VERBS)}
        return f"<{self.tag} {shown}>"


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.node = Node("#root", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.node)
        self.node.children.append(node)
        if tag not in VOID:
            self.node = node

    def handle_startendtag(self, tag, attrs):
        self.node.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.node))

    def handle_endtag(self, tag):
        for node in (self.node, *self.node.ancestors()):
            if node.tag == tag:
                self.node = node.parent or self.root
                return


def parse(html: str) -> Node:
    tree = _Tree()
    tree.feed(html)
    return tree.root


def ids(root: Node) -> set[str]:
    return {n.attrs["id"] for n in root.walk() if n.attrs.get("id")}


def hx_target(node: Node) -> str | None:
    """The hx-target in effect for ``node`` (htmx inherits it from the ancestors)."""
    for n in (node, *node.ancestors()):
        if "hx-target" in n.attrs:
            return n.attrs["hx-target"]
    return None


def missing_targets(root: Node, present: set[str]) -> list[str]:
    """The htmx elements whose target is not among ``present`` ids."""
    problems = []
    for node in root.walk():
        if not any(v in node.attrs for v in HX_VERBS):
            continue
        where = hx_target(node)
        if where is None or where == "this":
            continue  # the element itself
        if not where.startswith("#") or " " in where:
            problems.append(f"{node.describe()}: unsupported hx-target {where!r}")
        elif where[1:] not in present:
            problems.append(f"{node.describe()}: hx-target {where} is not on the page")
    return problems


def csrf_in_urls(root: Node) -> list[str]:
    """GET requests that would carry the CSRF token in their URL: a GET form holding it,
    or an hx-get that includes a form holding it."""
    def holds_token(form: Node | None) -> bool:
        return form is not None and any(n.attrs.get("name") == "csrf_token"
                                        for n in form.walk())

    def closest_form(node: Node) -> Node | None:
        return next((n for n in (node, *node.ancestors()) if n.tag == "form"), None)

    problems = []
    for node in root.walk():
        if node.tag == "form" and node.attrs.get("method", "get").lower() == "get" \
                and holds_token(node):
            problems.append(f"{node.describe()}: a GET form with the CSRF token")
        if "hx-get" in node.attrs:
            included = node if node.tag == "form" else (
                closest_form(node) if node.attrs.get("hx-include") == "closest form" else None)
            if holds_token(included):
                problems.append(f"{node.describe()}: an hx-get that sends the CSRF token")
        for link in ("href", "hx-get", "action"):
            if "csrf_token=" in node.attrs.get(link, ""):
                problems.append(f"{node.describe()}: a URL with the CSRF token")
    return problems


# --- the pages -----------------------------------------------------------------------------

@pytest.fixture
def console(app, db, staff):
    """A scam case with a similar post on another account (the cluster panel), and a
    negative client whose re-check found no improvement (suspendable)."""
    text = ("We are hiring remote data entry clerks, no experience needed, weekly pay, "
            "training provided, start today, flexible hours, apply now")
    _c, post, flag = scam_case(db, description=text + " telegram @ringleader")
    make_post(db, make_client(db, name="Second account"), title="Data entry",
              description=text + " whatsapp")
    negative = make_client(db, name="Grumpy Ltd")
    for i in range(4):
        make_feedback(db, negative, rating=1, negative=0.9, days_ago=40 - i * 10)
    make_post(db, negative, title="Live post of the negative client")
    make_flag(db, client=negative, reason="negative_client", score=0.8)
    db.commit()
    not_improved_after_contact(db, negative, staff["moderator"])
    # a decided case past the undo window, sampled into QA for a second moderator (the admin)
    app.config["QA_SAMPLE_SHARE"] = 1.0
    decided(db, staff["moderator"], action="remove")
    # an appeal waiting for a decision, and a decision it can still be entered for
    from app.services import appeals
    appeal = appeals.file(db, decision_id=decided(db, staff["moderator"])[0].id,
                          text="It was a real job", actor=staff["moderator"])
    return {"post": post, "flag": flag, "client": db.get(Client, negative.id),
            "moderator_id": staff["moderator"].moderator_id, "appeal_id": appeal.id,
            "appealable_id": decided(db, staff["moderator"])[0].id}


def _bulk_confirm(c, ids_):
    return c.post("/queue/bulk", data={"csrf_token": token(c), "action": "dismiss",
                                       "item": f"{ids_['flag'].id}:{ids_['flag'].version}"})


def _preview(c, ids_, headers=None, **extra):
    return c.post(f"/clients/{ids_['client'].id}/contact/preview", data={
        "csrf_token": token(c), "template": "negative_feedback", "preview": "1", **FIELDS,
        **extra}, headers=headers or {})


#: every page of the console a browser can open on its own (a tab, a bookmark, a reload),
#: in the state that shows its forms: name -> how to open it (as an admin)
PAGES = {
    "queue.index": lambda c, i: c.get("/queue/"),
    "cases.show": lambda c, i: c.get(f"/posts/{i['post'].id}"),
    "cases.similar_posts": lambda c, i: c.get(f"/posts/{i['post'].id}/similar"),
    "cases.cluster_preview": lambda c, i: c.get(f"/posts/{i['post'].id}/cluster?reason=scam"),
    "clients.show": lambda c, i: c.get(f"/clients/{i['client'].id}"),
    "clients.contact_form": lambda c, i: c.get(f"/clients/{i['client'].id}/contact"),
    "clients.feedback": lambda c, i: c.get(f"/clients/{i['client'].id}/feedback"),
    "clients.posts": lambda c, i: c.get(f"/clients/{i['client'].id}/posts"),
    "clients.contact_preview": _preview,
    "clients.suspend_confirm": lambda c, i: c.get(f"/clients/{i['client'].id}/suspend"),
    "queue.bulk": _bulk_confirm,
    "audit.index": lambda c, i: c.get("/audit/"),
    "audit.post_case": lambda c, i: c.get(f"/audit/posts/{i['post'].id}"),
    "audit.client_case": lambda c, i: c.get(f"/audit/clients/{i['client'].id}"),
    "system.index": lambda c, i: c.get("/system/"),
    "system.label_counts": lambda c, i: c.get("/system/labels"),
    "metrics.index": lambda c, i: c.get("/metrics/"),
    "qa.index": lambda c, i: c.get("/qa/"),
    "qa.adjudication": lambda c, i: c.get("/qa/adjudication"),
    "qa.history": lambda c, i: c.get(f"/qa/moderators/{i['moderator_id']}"),
    "automation.tiers": lambda c, i: c.get("/models/tiers"),
    "appeals.index": lambda c, i: c.get("/appeals/"),
    "appeals.show": lambda c, i: c.get(f"/appeals/{i['appeal_id']}"),
    "appeals.new": lambda c, i: c.get(f"/appeals/new?decision={i['appealable_id']}"),
}
#: endpoints that are not console pages with forms
NOT_PAGES = {"static", "auth.login", "auth.logout", "auth.home", "audit.export", "system.bare",
             "metrics.export"}
#: the panels htmx swaps into a page: (page, its panel) -> how to fetch the panel
PANELS = {
    ("clients.show", "contact-panel"): lambda c, i: c.get(
        f"/clients/{i['client'].id}/contact",
        headers={"HX-Request": "true", "HX-Target": "contact-panel"}),
    ("clients.show", "contact-panel previewed"): lambda c, i: _preview(
        c, i, headers={"HX-Request": "true", "HX-Target": "contact-panel"}),
    ("clients.contact_form", "contact-panel previewed"): lambda c, i: _preview(
        c, i, standalone="1", headers={"HX-Request": "true", "HX-Target": "contact-panel"}),
    ("clients.show", "feedback-more"): lambda c, i: c.get(
        f"/clients/{i['client'].id}/feedback",
        headers={"HX-Request": "true", "HX-Target": "feedback-more"}),
    ("clients.show", "posts-more"): lambda c, i: c.get(
        f"/clients/{i['client'].id}/posts",
        headers={"HX-Request": "true", "HX-Target": "posts-more"}),
    ("clients.show", "suspend-panel"): lambda c, i: c.get(
        f"/clients/{i['client'].id}/suspend",
        headers={"HX-Request": "true", "HX-Target": "suspend-panel"}),
    ("queue.index", "bulk-panel"): lambda c, i: c.post(
        "/queue/bulk", headers={"HX-Request": "true", "HX-Target": "bulk-panel"},
        data={"csrf_token": token(c), "action": "dismiss",
              "item": f"{i['flag'].id}:{i['flag'].version}"}),
    ("system.index", "labels"): lambda c, i: c.get(
        "/system/labels", headers={"HX-Request": "true", "HX-Target": "labels"}),
    ("cases.show", "similar"): lambda c, i: c.get(
        f"/posts/{i['post'].id}/cluster?reason=scam",
        headers={"HX-Request": "true", "HX-Target": "similar"}),
}


def test_every_console_page_is_enumerated(app):
    """A new page must join PAGES (or NOT_PAGES), so its forms are checked too."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") or rule.endpoint in NOT_PAGES:
            continue
        if "GET" in rule.methods or rule.endpoint in ("queue.bulk", "clients.contact_preview"):
            assert rule.endpoint in PAGES, f"{rule.rule} ({rule.endpoint}) is not enumerated"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_standalone_page_forms_target_elements_on_the_page(client, console, name):
    as_user(client, "admin@example.com")
    response = PAGES[name](client, console)
    assert response.status_code == 200, response.text[:500]
    html = response.text
    assert html.lstrip().lower().startswith("<!doctype")  # a whole page
    root = parse(html)
    assert any(any(v in n.attrs for v in HX_VERBS) or n.tag == "form" for n in root.walk())
    assert missing_targets(root, ids(root)) == []
    assert csrf_in_urls(root) == []
    if name == "qa.index":  # the sampled case's review form is among the forms checked
        assert re.search(r'<form[^>]+action="/qa/\d+"', html)


@pytest.mark.parametrize("page,panel", sorted(PANELS), ids=[" + ".join(k) for k in sorted(PANELS)])
def test_panels_target_elements_of_the_page_they_are_swapped_into(client, console, page, panel):
    as_user(client, "admin@example.com")
    page_root = parse(PAGES[page](client, console).text)
    response = PANELS[(page, panel)](client, console)
    assert response.status_code == 200, response.text[:500]
    panel_root = parse(response.text)
    assert missing_targets(panel_root, ids(page_root) | ids(panel_root)) == []
    assert csrf_in_urls(panel_root) == []


# --- submitting the standalone forms as a browser does --------------------------------------

def _form(html: str, action_part: str) -> Node:
    forms = [n for n in parse(html).walk()
             if n.tag == "form" and action_part in n.attrs.get("action", "")]
    assert len(forms) == 1, f"{len(forms)} forms posting to {action_part}"
    return forms[0]


def _submit(c, html: str, action_part: str, **fields):
    """Submit the form as the browser would on this page: through htmx (with its headers)
    if the form has hx-post, else a plain POST. An htmx answer that retargets must name an
    element of the page: otherwise htmx could not show it."""
    form = _form(html, action_part)
    data = {n.attrs["name"]: n.attrs.get("value", "") for n in form.walk()
            if n.tag == "input" and n.attrs.get("type") == "hidden" and n.attrs.get("name")}
    data.update(fields)
    headers = {}
    if "hx-post" in form.attrs:
        headers = {"HX-Request": "true", "HX-Target": hx_target(form).lstrip("#")}
    response = c.post(form.attrs.get("hx-post") or form.attrs["action"], data=data,
                      headers=headers)
    retarget = response.headers.get("HX-Retarget")
    if retarget and headers:
        assert retarget.lstrip("#") in ids(parse(html)), (
            f"the answer goes to {retarget}, which the page does not have")
    return response


def test_standalone_suspend_page_submits_redirects_with_a_notice_and_never_twice(
        client, db, console):
    c = console["client"]
    as_user(client, "moderator@example.com")
    page = client.get(f"/clients/{c.id}/suspend").text
    done = _submit(client, page, "/suspend", reason="no improvement after the warning")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/clients/{c.id}")
    shown = client.get(done.headers["Location"]).text
    assert "Client suspended; their open posts were taken down." in shown
    # resubmitting the same form (back, then submit; or a resent POST) does nothing more
    again = _submit(client, page, "/suspend", reason="no improvement after the warning")
    assert again.status_code == 409 and "changed by someone else" in again.text
    db.expire_all()
    assert db.get(Client, c.id).status == "suspended"
    assert len(db.exec(select(Decision).where(Decision.client_id == c.id,
                                              Decision.action == "suspend")).all()) == 1


def test_standalone_contact_page_previews_sends_once_and_says_it_was_queued(
        client, db, staff, negative_uncontacted):
    c = negative_uncontacted
    as_user(client, "moderator@example.com")
    page = client.get(f"/clients/{c.id}/contact").text
    preview = client.post(_form(page, "/contact").attrs["action"] + "/preview", data={
        "csrf_token": token(client), "template": "negative_feedback", "preview": "1",
        "standalone": "1", **FIELDS})
    assert preview.status_code == 200 and "Send message" in preview.text
    assert "csrf_token=" not in preview.request.url
    sent = _submit(client, preview.text, f"/clients/{c.id}/contact", template="negative_feedback",
                   **FIELDS)
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/clients/{c.id}")
    shown = client.get(sent.headers["Location"]).text
    assert "Message queued: no mail server configured." in shown
    assert "Message sent" not in shown
    again = _submit(client, preview.text, f"/clients/{c.id}/contact",
                    template="negative_feedback", **FIELDS)
    assert again.status_code == 409
    assert len(db.exec(select(Outreach).where(Outreach.client_id == c.id)).all()) == 1


def test_standalone_bulk_confirmation_submits_and_redirects_to_the_queue(client, db, console):
    as_user(client, "moderator@example.com")
    page = _bulk_confirm(client, console).text
    done = _submit(client, page, "/queue/bulk")
    assert done.status_code == 303 and "/queue/" in done.headers["Location"]
    assert "Dismissed 1 item." in client.get(done.headers["Location"]).text
    assert _submit(client, page, "/queue/bulk").status_code == 409
    db.expire_all()
    assert db.get(Flag, console["flag"].id).status == "dismissed"


def test_the_preview_is_a_post_with_the_csrf_token(client, console):
    c = console["client"]
    as_user(client, "moderator@example.com")
    url = f"/clients/{c.id}/contact/preview"
    assert client.post(url, data={"template": "negative_feedback", **FIELDS}).status_code == 400
    assert client.get(url).status_code == 405
    # the GET form is the blank form: fields in a URL are not previewed
    blank = client.get(f"/clients/{c.id}/contact",
                       query_string={"preview": "1", **FIELDS}).text
    assert "Send message" not in blank and FIELDS["pattern"] not in blank


@pytest.fixture
def negative_uncontacted(db):
    c = make_client(db, name="Curt Co")
    for i in range(4):
        make_feedback(db, c, rating=1, negative=0.9, days_ago=40 - i * 10)
    make_flag(db, client=c, reason="negative_client", score=0.8)
    db.commit()
    return c


# --- item 16: what became of the message, and the System page --------------------------------

def test_system_page_says_whether_a_mail_server_is_configured(client, app, db, staff,
                                                               negative_uncontacted,
                                                               monkeypatch):
    from app.services import moderation

    c = negative_uncontacted
    moderation.contact(db, client_id=c.id, client_version=moderation.client_token(c),
                       template="negative_feedback", fields=FIELDS, actor=staff["moderator"])
    as_user(client, "admin@example.com")
    html = client.get("/system/").text
    assert "No mail server configured" in html
    waiting = re.search(r'id="mail-waiting">([^<]*)', html).group(1)
    assert "Client messages waiting in the outbox: 1 " in waiting
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.example.test")
    monkeypatch.setitem(app.config, "SMTP_PORT", 2525)
    html = client.get("/system/").text
    assert "No mail server configured" not in html and "mail.example.test:2525" in html


def test_contact_with_a_mail_server_says_sent_only_once_it_was_emailed(client, app, db, staff,
                                                                       negative_uncontacted,
                                                                       monkeypatch):
    sent = fake_smtp(monkeypatch)
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    c = negative_uncontacted
    as_user(client, "moderator@example.com")
    page = client.get(f"/clients/{c.id}/contact").text
    form = _form(page, f"/clients/{c.id}/contact")
    data = {n.attrs["name"]: n.attrs.get("value", "") for n in form.walk()
            if n.tag == "input" and n.attrs.get("type") == "hidden"}
    done = client.post(form.attrs["action"], data={**data, "template": "negative_feedback",
                                                   **FIELDS})
    assert done.status_code == 303 and len(sent) == 2  # inline: the job ran after the commit
    assert "Message sent by e-mail." in client.get(done.headers["Location"]).text



def _candidate_page(c, _ids):
    """A trained candidate (its comparison refused by the gate: the override form shows)."""
    from app.db import session_scope
    from models import ModelCandidate

    with c.application.app_context(), session_scope() as s:
        row = ModelCandidate(version="cand-forms", versions={"scam": "cand-forms"}, status="ready",
                             comparison={"gate": {"margin": 0.02, "failures": ["scam: lower"]}})
        s.add(row)
        s.commit()
        candidate_id = row.id
    return c.get(f"/models/candidates/{candidate_id}")


PAGES["models_admin.index"] = lambda c, i: c.get("/models/")
PAGES["models_admin.candidate"] = _candidate_page
