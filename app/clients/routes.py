"""The client case file and the client actions: contact, suspend, reinstate, note."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, redirect, request, url_for

from models import Client, Decision, SubjectType, utcnow

from ..db import get_session
from ..security import role_required
from ..services import (Conflict, NotFound, ServiceError, casefile, client_file, mailer,
                       moderation)
from ..services import outreach_templates as templates
from ..services.moderation import StaleCase
from ..web.params import query_int
from ..web.ui import actor, can_act, form_int, is_admin, notify, render, target
from . import bp

FRAGMENTS = {"client-case": "clients/_case.html"}
#: a panel's answer replaces the whole case; the page scrolls to the top, to its notice
RETARGET = {"HX-Retarget": "#client-case", "HX-Reswap": "outerHTML show:window:top"}


def _client_or_404(client_id: int) -> Client:
    client = get_session().get(Client, client_id)
    if client is None:
        abort(404)
    return client


def _render_case(client_id: int, *, status: int = 200, message: str | None = None,
                 level: str = "success", headers: dict | None = None):
    try:
        case = client_file.client_case(get_session(), client_id=client_id, actor=actor(),
                                       is_admin=is_admin())
    except NotFound:
        abort(404)
    return render("clients/page.html", FRAGMENTS, status=status, headers=headers, case=case,
                  message=message, level=level, can_act=can_act(), is_admin=is_admin(),
                  templates=templates.TEMPLATES, standing=case.standing)


@bp.get("/<int:client_id>")
def show(client_id: int):
    return _render_case(client_id)


@bp.get("/<int:client_id>/feedback")
def feedback(client_id: int):
    """Older feedback of the client: the page's "show older" panel (htmx swaps the rows in
    under the list), or a page of them on its own."""
    return _more(client_id, "feedback")


@bp.get("/<int:client_id>/posts")
def posts(client_id: int):
    """Older posts of the client, as ``feedback``."""
    return _more(client_id, "posts")


def _more(client_id: int, kind: str):
    try:
        more = client_file.more(get_session(), client_id=client_id, kind=kind,
                                after=query_int("after"))
    except NotFound:
        abort(404)
    rows = "clients/_feedback_rows.html" if kind == "feedback" else "clients/_post_rows.html"
    return render(f"clients/{kind}.html", {f"{kind}-more": rows}, more=more, rows=more.rows,
                  client_id=client_id, next_after=more.next_after)


def _act(client_id: int, do, done: str, *, panel_target: str | None = None):
    try:
        do()
    except NotFound:
        abort(404)
    except StaleCase as exc:
        return _answer(client_id, str(exc), "conflict", 409)
    except (Conflict, ServiceError) as exc:
        return _answer(client_id, str(exc), "error", 422)
    return _answer(client_id, done, "success", 200)


def _answer(client_id: int, message: str, level: str, status: int):
    if target() is not None:  # from the page or one of its panels: swap the whole case
        return _render_case(client_id, status=status, message=message, level=level,
                            headers=RETARGET)
    if status != 200:
        return _render_case(client_id, status=status, message=message, level=level)
    notify(message, level)
    return redirect(url_for("clients.show", client_id=client_id), code=303)


def _flag_args() -> dict:
    return {"flag_id": form_int("flag_id", required=False),
            "flag_version": form_int("flag_version", required=False)}


# --- contact ------------------------------------------------------------------------------

def _contact_form(client: Client, *, status: int = 200, error: str | None = None):
    """The contact form: the first template, or (a POST from the form: the preview, a
    template change, a refused send) the template and fields it carries. ``standalone``
    marks the form of the contact page opened on its own, which has no #client-case for
    the panel's htmx answer: its panel keeps submitting as a plain form."""
    values = request.form if request.method == "POST" else {}
    key = values.get("template") or next(iter(templates.TEMPLATES))
    template = templates.TEMPLATES.get(key) or next(iter(templates.TEMPLATES.values()))
    fields = {name: values.get(name, "") for name in template.fields}
    due = utcnow() + timedelta(days=moderation.follow_up_days())
    message = templates.render(template.key, client=client, fields=fields, follow_up_due_at=due,
                               strict=False)
    previewed = values.get("preview") == "1"
    case = client_file.client_case(get_session(), client_id=client.id, actor=actor(),
                                   is_admin=is_admin())
    return render("clients/contact.html", {"contact-panel": "clients/_contact.html"},
                  status=status, client=client, case=case, template=template,
                  templates=templates.TEMPLATES, labels=templates.FIELD_LABELS, fields=fields,
                  message=message, previewed=previewed, error=error, follow_up_due_at=due,
                  standalone=values.get("standalone") == "1")


@bp.get("/<int:client_id>/contact")
def contact_form(client_id: int):
    return _contact_form(_client_or_404(client_id))


@bp.post("/<int:client_id>/contact/preview")
def contact_preview(client_id: int):
    """The message as it would be sent (a POST: the form carries the CSRF token, which a
    GET would put in the URL and so in every log on the way). Writes nothing."""
    return _contact_form(_client_or_404(client_id))


@bp.post("/<int:client_id>/contact")
def contact(client_id: int):
    client = _client_or_404(client_id)
    key = request.form.get("template", "")
    template = templates.TEMPLATES.get(key)
    fields = {n: request.form.get(n, "") for n in (template.fields if template else [])}
    try:
        outreach = moderation.contact(get_session(), client_id=client.id,
                                      client_version=request.form.get("client_version", ""),
                                      template=key, fields=fields, actor=actor(), **_flag_args())
    except StaleCase as exc:
        return _answer(client_id, str(exc), "conflict", 409)
    except ServiceError as exc:  # e.g. a placeholder left empty: back to the form
        return _contact_form(client, status=422, error=str(exc))
    return _answer(client_id, f"{_delivery(outreach.id)} Follow-up on "
                              f"{outreach.follow_up_due_at:%d %B %Y}.", "success", 200)


def _delivery(outreach_id: int) -> str:
    """What became of the message, as it is: e-mailed, waiting for the mail job, or (no
    SMTP_HOST) only in the outbox for the marketplace to relay."""
    state = mailer.delivery(get_session(), outreach_id)
    if state == mailer.EMAILED:
        return "Message sent by e-mail."
    if state == mailer.QUEUED:
        return "Message queued for e-mail (the mail job sends it)."
    return ("Message queued: no mail server configured. It waits in the outbox for the "
            "marketplace to relay it.")


# --- suspend / reinstate -----------------------------------------------------------------

@bp.get("/<int:client_id>/suspend")
def suspend_confirm(client_id: int):
    client = _client_or_404(client_id)
    posts = moderation.suspension_preview(get_session(), client_id=client.id)
    case = client_file.client_case(get_session(), client_id=client.id, actor=actor(),
                                   is_admin=is_admin())
    return render("clients/suspend.html", {"suspend-panel": "clients/_suspend.html"},
                  client=client, case=case, posts=posts, can_act=can_act(),
                  is_admin=is_admin())


@bp.post("/<int:client_id>/suspend")
def suspend(client_id: int):
    return _act(client_id, lambda: moderation.suspend(
        get_session(), client_id=client_id, client_version=request.form.get("client_version", ""),
        reason=request.form.get("reason", ""), actor=actor(),
        expected_posts=form_int("expected_posts", required=False),
        override=request.form.get("override") == "yes", **_flag_args()),
        "Client suspended; their open posts were taken down.")


@bp.post("/<int:client_id>/reinstate")
@role_required("admin")
def reinstate(client_id: int):
    return _act(client_id, lambda: moderation.reinstate(
        get_session(), client_id=client_id, client_version=request.form.get("client_version", ""),
        reason=request.form.get("reason", ""), actor=actor()),
        "Client reinstated. Their removed posts stay removed.")


@bp.post("/<int:client_id>/note")
def note(client_id: int):
    return _act(client_id, lambda: moderation.add_note(
        get_session(), text=request.form.get("text", ""), actor=actor(),
        form_token=request.form.get("form_token", ""), client_id=client_id,
        flag_id=form_int("flag_id", required=False)), "Note added.")


@bp.post("/<int:client_id>/undo")
def undo(client_id: int):
    decision_id = form_int("decision_id")
    decision = get_session().get(Decision, decision_id)
    if decision is None or decision.client_id != client_id or decision.post_id is not None:
        abort(404)
    return _act(client_id, lambda: moderation.undo(get_session(), decision_id=decision_id,
                                                   actor=actor()), "Undone.")


@bp.post("/<int:client_id>/claim")
def claim(client_id: int):
    _client_or_404(client_id)
    state = moderation.claim(get_session(), subject_type=SubjectType.client,
                             subject_id=client_id, actor=actor())
    return render("cases/_claim.html", {}, claim=state, post_id=None, client_id=client_id,
                  kind="client", message=None,
                  moderators=casefile._moderators(get_session(), {state.claimed_by}))
