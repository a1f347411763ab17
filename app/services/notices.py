"""Notices to affected freelancers.

The marketplace tells TrustDesk who interacted with a post (``put_contacts``, or the
``contacts`` field of a post it sends): applicants and freelancers who messaged the client.
When a decision puts them at risk, each of them gets a notice, written **in the decision's
transaction** (``write_for_removal`` / ``write_for_suspension``, called by the moderation
use cases) as a ``FreelancerNotice`` row and a ``freelancer.notice`` outbox event:

- a post removed for ``scam``, ``off_platform`` or ``account_rental`` (``NOTIFIED_REMOVALS``):
  one notice per contact of the post;
- a client suspended **for fraud**: one notice per freelancer who interacted with any of
  the posts the suspension takes down. "For fraud" here means the scam detector's ground
  (the product's fraud reason is ``scam``, "Scam or fraud"): the suspension closes an open
  scam case on one of the client's posts, or the client has a post whose removal for scam
  stands (not undone). A suspension on negativity grounds alone notifies nobody.

A notice is held until the decision's undo window has passed (``send_after``): its outbox
event is scheduled for then, and its e-mail (where the marketplace gave an address and
``SMTP_HOST`` is set) too. An undo within the window withdraws the notices not yet sent
(``withdraw``, in the undo's transaction): the notice and its event are stamped
``withdrawn_at`` and never go out. Delivery is exactly once towards the receiver's
idempotency: the webhook carries the event's stable ``Idempotency-Key`` and is marked
delivered under a row lock; the e-mail job sends under the notice's row lock and stamps
``emailed_at``, so a retried job sends nothing twice (at-least-once only if the commit
after a successful send fails). Notices are rendered by ``notice_templates``, which never
sees the evidence, the moderator or the comment.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import (Client, Decision, Flag, FlagReason, FreelancerContact, FreelancerNotice,
                    JobPost, OutboxEvent, PolicyType, utcnow)

from ..jobs import enqueue
from . import NotFound, mailer, notice_templates
from .outbox import emit

#: removal reasons whose affected freelancers are told
NOTIFIED_REMOVALS = frozenset({notice_templates.SCAM, PolicyType.off_platform.value,
                               PolicyType.account_rental.value})
#: the subject type of notice events in the outbox (each notice is its own subject, so a
#: held notice never holds back another event)
SUBJECT = "notice"
#: notice states, as the case page counts them
PENDING, SENT, WITHDRAWN = "pending", "sent", "withdrawn"


# --- contacts -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ContactsWritten:
    post_id: int
    result: str  # "updated" or "unchanged"
    count: int


def put_contacts(session: Session, *, post_external_id: str,
                 contacts: Sequence[Mapping[str, Any]]) -> ContactsWritten:
    """Set the post's contacts to exactly ``contacts`` (validated: unique ``freelancer_id``,
    ``kind``, optional ``email``). Idempotent: the same list again changes nothing."""
    def attempt() -> ContactsWritten:
        post_id = session.exec(select(JobPost.id).where(JobPost.external_id == post_external_id)
                               .with_for_update()).first()
        if post_id is None:
            session.rollback()
            raise NotFound(f"no post {post_external_id!r}")
        changed = replace_contacts(session, post_id, contacts)
        session.commit()
        return ContactsWritten(post_id, "updated" if changed else "unchanged", len(contacts))

    try:
        return attempt()
    except IntegrityError:  # two writers inserting the same new contact: the loser retries
        session.rollback()
        return attempt()


def replace_contacts(session: Session, post_id: int, contacts: Sequence[Mapping[str, Any]],
                     *, now: datetime | None = None) -> bool:
    """Make the post's contacts exactly ``contacts`` (no commit: the caller's transaction).
    Returns whether anything changed."""
    now = now or utcnow()
    wanted = {c["freelancer_id"]: (c.get("email"), c["kind"]) for c in contacts}
    existing = {row.freelancer_ref: row for row in session.exec(
        select(FreelancerContact).where(FreelancerContact.post_id == post_id))}
    changed = False
    for ref, row in existing.items():
        if ref not in wanted:
            session.delete(row)
            changed = True
        elif (row.email, row.kind) != wanted[ref]:
            row.email, row.kind = wanted[ref]
            row.updated_at = now
            session.add(row)
            changed = True
    for ref, (email, kind) in wanted.items():
        if ref not in existing:
            session.add(FreelancerContact(post_id=post_id, freelancer_ref=ref, email=email,
                                          kind=kind, created_at=now, updated_at=now))
            changed = True
    session.flush()
    return changed


def contacts_of(session: Session, post_ids: Iterable[int]) -> list[FreelancerContact]:
    ids = sorted(set(post_ids))
    if not ids:
        return []
    return list(session.exec(select(FreelancerContact).where(FreelancerContact.post_id.in_(ids))
                             .order_by(FreelancerContact.post_id, FreelancerContact.id)))


# --- writing notices with a decision --------------------------------------------------------

def write_for_removal(session: Session, *, decision: Decision, post: JobPost, client: Client,
                      reason_code: str, send_after: datetime, now: datetime) -> int:
    """In the removal's transaction: a notice per contact of the post, if the removal's
    reason is one of ``NOTIFIED_REMOVALS``. Returns how many were written."""
    if reason_code not in NOTIFIED_REMOVALS:
        return 0
    contacts = contacts_of(session, [post.id])
    for contact in contacts:
        _write(session, decision=decision, client=client, posts=[post], contact=contact,
               reason=reason_code, send_after=send_after, now=now)
    return len(contacts)


def write_for_suspension(session: Session, *, decision: Decision, client: Client,
                         posts: Sequence[JobPost], closed_flag_ids: Sequence[int],
                         send_after: datetime, now: datetime) -> int:
    """In the suspension's transaction: if it is for fraud (``is_fraud``), a notice per
    freelancer who interacted with any of the ``posts`` it takes down (one per freelancer,
    naming every such post). Returns how many were written."""
    if not posts or not is_fraud(session, client_id=client.id, closed_flag_ids=closed_flag_ids,
                                 decision_id=decision.id):
        return 0
    by_id = {p.id: p for p in posts}
    per_freelancer: dict[str, list[FreelancerContact]] = {}
    for contact in contacts_of(session, by_id):
        per_freelancer.setdefault(contact.freelancer_ref, []).append(contact)
    for ref in sorted(per_freelancer):
        mine = per_freelancer[ref]
        _write(session, decision=decision, client=client,
               posts=[by_id[c.post_id] for c in mine], contact=mine[0],
               email=next((c.email for c in mine if c.email), None),
               reason=notice_templates.CLIENT_FRAUD, send_after=send_after, now=now)
    return len(per_freelancer)


def is_fraud(session: Session, *, client_id: int, closed_flag_ids: Sequence[int],
             decision_id: int | None = None) -> bool:
    """Whether a suspension of the client is for fraud (see the module docstring): it closes
    an open scam case, or a removal of one of the client's posts for scam stands."""
    if closed_flag_ids and session.exec(select(Flag.id).where(
            Flag.id.in_(list(closed_flag_ids)), Flag.reason == FlagReason.scam).limit(1)).first():
        return True
    removals = session.exec(select(Decision.details).where(
        Decision.client_id == client_id, Decision.action == "remove",
        Decision.undone_at.is_(None), Decision.id != (decision_id or 0)))
    return any((details or {}).get("reason_code") == notice_templates.SCAM for details in removals)


def _write(session: Session, *, decision: Decision, client: Client, posts: list[JobPost],
           contact: FreelancerContact, reason: str, send_after: datetime, now: datetime,
           email: str | None = None) -> FreelancerNotice:
    first = posts[0]
    message = notice_templates.render(reason, kind=contact.kind, post_ref=first.external_id,
                                      posted_at=first.posted_at, other_posts=len(posts) - 1)
    email = email or contact.email
    notice = FreelancerNotice(
        decision_id=decision.id, client_id=client.id, post_id=first.id,
        post_ids=[p.id for p in posts], freelancer_ref=contact.freelancer_ref, email=email,
        reason=reason, subject=message.subject, body=message.body, created_at=now,
        send_after=send_after)
    session.add(notice)
    session.flush()
    event = emit(session, event_type="freelancer.notice", subject_type=SUBJECT,
                 subject_id=notice.id, not_before=send_after, payload={
                     "notice": notice.id, "freelancer": contact.freelancer_ref,
                     "email": email, "kind": contact.kind, "reason": reason,
                     "post": first.external_id, "posts": [p.external_id for p in posts],
                     "client": client.external_id, "decision": decision.id,
                     "subject": message.subject, "message": message.body})
    notice.outbox_event_id = event.id
    session.add(notice)
    if email and mailer.configured():
        enqueue.send_notice(session, notice.id, send_after)
    return notice


# --- undo ---------------------------------------------------------------------------------

def withdraw(session: Session, *, decision_id: int, now: datetime) -> int:
    """In the undo's transaction: withdraw the decision's notices that have not gone out
    (neither the webhook nor the e-mail). Locks the notices, then their events (the
    delivery job locks an event while it sends: a notice being sent right now is sent).
    Returns how many were withdrawn."""
    notices = list(session.exec(select(FreelancerNotice).where(
        FreelancerNotice.decision_id == decision_id, FreelancerNotice.withdrawn_at.is_(None))
        .order_by(FreelancerNotice.id).with_for_update()))
    event_ids = [n.outbox_event_id for n in notices if n.outbox_event_id is not None]
    events = {e.id: e for e in session.exec(select(OutboxEvent).where(
        OutboxEvent.id.in_(event_ids)).order_by(OutboxEvent.id).with_for_update())} \
        if event_ids else {}
    withdrawn = 0
    for notice in notices:
        event = events.get(notice.outbox_event_id)
        if notice.emailed_at is not None or (event is not None and event.delivered_at is not None):
            continue
        notice.withdrawn_at = now
        session.add(notice)
        if event is not None:
            event.withdrawn_at = now
            session.add(event)
        withdrawn += 1
    session.flush()
    return withdrawn


# --- e-mail ---------------------------------------------------------------------------------

def send_email(session: Session, notice_id: int, *, now: datetime | None = None) -> bool:
    """The ``send_notice`` job: e-mail the notice if it has an address, a mail server is
    configured, its hold has passed and it was neither withdrawn nor sent. True if an
    e-mail went out now. SMTP errors raise (the job is retried)."""
    now = now or utcnow()
    if not mailer.configured():
        return False
    notice = session.exec(select(FreelancerNotice).where(FreelancerNotice.id == notice_id)
                          .with_for_update()).first()
    if (notice is None or not notice.email or notice.withdrawn_at is not None
            or notice.emailed_at is not None or notice.send_after > now):
        session.rollback()
        return False
    mailer.send(mailer.message(to=notice.email, subject=notice.subject, body=notice.body,
                               tag=("Notice", notice.id)))
    notice.emailed_at = now
    session.add(notice)
    session.commit()
    return True


def due_email_ids(session: Session, now: datetime, limit: int = 5000) -> list[int]:
    """For the sweep: notices whose e-mail is due and not sent (none without SMTP)."""
    if not mailer.configured():
        return []
    return list(session.exec(select(FreelancerNotice.id).where(
        FreelancerNotice.email.is_not(None), FreelancerNotice.emailed_at.is_(None),
        FreelancerNotice.withdrawn_at.is_(None), FreelancerNotice.send_after <= now)
        .order_by(FreelancerNotice.id).limit(limit)))


# --- reading --------------------------------------------------------------------------------

@dataclass(frozen=True)
class NoticeSummary:
    """How many freelancers were notified about a post: ``notified`` = pending + sent."""
    pending: int = 0
    sent: int = 0
    withdrawn: int = 0

    @property
    def notified(self) -> int:
        return self.pending + self.sent

    @property
    def any(self) -> bool:
        return bool(self.notified or self.withdrawn)


def state_of(notice: FreelancerNotice, delivered_at: datetime | None) -> str:
    if notice.withdrawn_at is not None:
        return WITHDRAWN
    return SENT if delivered_at is not None or notice.emailed_at is not None else PENDING


def summary(session: Session, *, post_id: int, client_id: int) -> NoticeSummary:
    """The notices about this post (a removal's, or a suspension's that took it down)."""
    rows = session.exec(
        select(FreelancerNotice, OutboxEvent.delivered_at)
        .join(OutboxEvent, OutboxEvent.id == FreelancerNotice.outbox_event_id, isouter=True)
        .where(FreelancerNotice.client_id == client_id)).all()
    counts = {PENDING: 0, SENT: 0, WITHDRAWN: 0}
    for notice, delivered_at in rows:
        if post_id in (notice.post_ids or [notice.post_id]):
            counts[state_of(notice, delivered_at)] += 1
    return NoticeSummary(**counts)


def of_decision(session: Session, decision_id: int) -> list[tuple[FreelancerNotice, str]]:
    """The decision's notices and their state (tests, the audit)."""
    rows = session.exec(
        select(FreelancerNotice, OutboxEvent.delivered_at)
        .join(OutboxEvent, OutboxEvent.id == FreelancerNotice.outbox_event_id, isouter=True)
        .where(FreelancerNotice.decision_id == decision_id)
        .order_by(FreelancerNotice.id)).all()
    return [(n, state_of(n, d)) for n, d in rows]

