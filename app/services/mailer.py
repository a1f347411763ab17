"""Sending outreach e-mail (the ``send_outreach`` job).

The message itself is stored as an ``Outreach`` row (shown on the client's page) and as
a ``client.contacted`` outbox event for the marketplace to relay, in the moderator's
transaction. This job additionally sends it over SMTP when ``SMTP_HOST`` is configured.
Clients have no e-mail column: the marketplace relays mail sent to
``client-<external_id>@OUTREACH_EMAIL_DOMAIN``.

Idempotent: a successful send is recorded as an ``outreach.emailed`` audit event and a
retried job that finds it does nothing (at-least-once only if the commit after a
successful send fails).
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlmodel import Session, func, select

from models import AuditEvent, Client, OutboxEvent, Outreach

from .audit import SYSTEM, record

#: what became of an outreach message (``delivery``)
EMAILED, QUEUED, NO_MAIL_SERVER = "emailed", "queued", "no_mail_server"


def configured() -> bool:
    """Whether a mail server is configured (``SMTP_HOST``): without one, outreach is only
    stored and handed to the marketplace (the ``client.contacted`` outbox event)."""
    return bool(current_app.config.get("SMTP_HOST"))


def delivery(session: Session, outreach_id: int) -> str:
    """``EMAILED`` (the mail job sent it), ``QUEUED`` (a mail server is configured and the
    job has not sent it yet) or ``NO_MAIL_SERVER`` (it waits in the outbox only)."""
    if already_sent(session, outreach_id):
        return EMAILED
    return QUEUED if configured() else NO_MAIL_SERVER


def status(session: Session) -> dict[str, object]:
    """For the System page: the mail server (or none), and the client messages still
    waiting in the outbox for the marketplace."""
    waiting = session.exec(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.event_type == "client.contacted",
        OutboxEvent.delivered_at.is_(None))).one()
    return {"configured": configured(), "host": current_app.config.get("SMTP_HOST") or None,
            "port": int(current_app.config.get("SMTP_PORT") or 25),
            "messages_waiting": int(waiting)}


def recipient(client: Client) -> str:
    domain = current_app.config.get("OUTREACH_EMAIL_DOMAIN") or "marketplace.invalid"
    return f"client-{client.external_id}@{domain}"


def build_message(outreach: Outreach, client: Client) -> EmailMessage:
    return message(to=recipient(client), subject=outreach.subject, body=outreach.body,
                   tag=("Outreach", outreach.id))


def message(*, to: str, subject: str, body: str, tag: tuple[str, int]) -> EmailMessage:
    """A plain-text message from ``SMTP_FROM``; ``tag`` (kind, id) names what it carries
    (``X-TrustDesk-<kind>`` header, and the Message-ID)."""
    kind, ident = tag
    msg = EmailMessage()
    msg["From"] = current_app.config.get("SMTP_FROM") or "trust-safety@trustdesk.invalid"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(idstring=f"{kind.lower()}-{ident}")
    msg[f"X-TrustDesk-{kind}"] = str(ident)
    msg.set_content(body)
    return msg


def send(msg: EmailMessage) -> None:
    """Send over ``SMTP_HOST`` (configured: the caller checks); errors raise."""
    port = int(current_app.config.get("SMTP_PORT") or 25)
    with smtplib.SMTP(current_app.config["SMTP_HOST"], port, timeout=30) as smtp:
        smtp.send_message(msg)


def already_sent(session: Session, outreach_id: int) -> bool:
    return session.exec(select(AuditEvent.id).where(
        AuditEvent.action == "outreach.emailed", AuditEvent.subject_type == "outreach",
        AuditEvent.subject_id == str(outreach_id))).first() is not None


def send_outreach(session: Session, outreach_id: int) -> bool:
    """Send the outreach by SMTP if configured. True if an e-mail went out now. SMTP
    errors raise (the job is retried, and shows in the failed jobs when retries run out)."""
    if not configured():
        return False
    outreach = session.get(Outreach, outreach_id)
    if outreach is None or already_sent(session, outreach_id):
        return False
    client = session.get(Client, outreach.client_id)
    msg = build_message(outreach, client)
    send(msg)
    record(session, actor=SYSTEM, action="outreach.emailed", subject_type="outreach",
           subject_id=outreach_id, after={"to": msg["To"], "message_id": msg["Message-ID"]})
    session.commit()
    return True
