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
event (subject ``("notice", id)``) waits until then, and so does its e-mail (where the
marketplace gave an address and ``SMTP_HOST`` is set); one ``deliver_notices`` job and one
``send_notices`` job per decision are scheduled for then (the sweep picks up anything left).
A decision's notices and their events are written with one INSERT each (``_write``).
An undo within the window withdraws the notices not yet sent (``withdraw``, in the undo's
transaction): the notice and its event are stamped
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

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import (Client, Decision, Flag, FlagReason, FreelancerContact, FreelancerNotice,
                    JobPost, OutboxEvent, PolicyType, utcnow)

from ..jobs import enqueue
from . import NotFound, bulk, mailer, notice_templates, outbox, webhooks

#: removal reasons whose affected freelancers are told
NOTIFIED_REMOVALS = frozenset({notice_templates.SCAM, PolicyType.off_platform.value,
                               PolicyType.account_rental.value})
#: the outbox event of a notice, and its subject type (each notice is its own subject, so a
#: held notice never holds back another event; the event's subject id is the notice's id)
EVENT, SUBJECT = "freelancer.notice", "notice"
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
        # the post's row lock, as a decision takes it (FOR NO KEY UPDATE): a decision and a
        # new list of contacts of one post go one after the other
        post_id = session.exec(select(JobPost.id).where(JobPost.external_id == post_external_id)
                               .with_for_update(key_share=True)).first()
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
    table = FreelancerContact.__table__
    wanted = {c["freelancer_id"]: (c.get("email"), c["kind"]) for c in contacts}
    existing = {ref: (cid, (email, kind)) for cid, ref, email, kind in session.execute(
        sa.select(table.c.id, table.c.freelancer_ref, table.c.email, table.c.kind)
        .where(table.c.post_id == post_id))}
    gone = [cid for ref, (cid, _v) in existing.items() if ref not in wanted]
    changed = [{"id": existing[ref][0], "email": email, "kind": kind, "updated_at": now}
               for ref, (email, kind) in wanted.items()
               if ref in existing and existing[ref][1] != (email, kind)]
    new = [{"post_id": post_id, "freelancer_ref": ref, "email": email, "kind": kind,
            "created_at": now, "updated_at": now}
           for ref, (email, kind) in wanted.items() if ref not in existing]
    if gone:
        session.execute(table.delete().where(table.c.id.in_(gone)))
    if changed:
        session.execute(sa.update(FreelancerContact), changed)  # by primary key
    if new:
        session.execute(table.insert(), new)
    return bool(gone or changed or new)


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
    drafts = [_Draft(contact, [post], contact.email) for contact in contacts_of(session, [post.id])]
    return _write(session, drafts, decision=decision, client=client, reason=reason_code,
                  send_after=send_after, now=now)


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
    drafts = [_Draft(mine[0], [by_id[c.post_id] for c in mine],
                     next((c.email for c in mine if c.email), None))
              for _ref, mine in sorted(per_freelancer.items())]
    return _write(session, drafts, decision=decision, client=client,
                  reason=notice_templates.CLIENT_FRAUD, send_after=send_after, now=now)


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


@dataclass(frozen=True)
class _Draft:
    contact: FreelancerContact
    posts: list[JobPost]
    email: str | None


def _write(session: Session, drafts: list[_Draft], *, decision: Decision, client: Client,
           reason: str, send_after: datetime, now: datetime) -> int:
    """The notices and their outbox events, set-based (one INSERT each for all of them, so
    a post with 1,000 applicants costs the decision two statements, not 3,000), and one
    delivery job (and one e-mail job) for the decision, scheduled for ``send_after``."""
    if not drafts:
        return 0
    rows, messages = [], []
    for draft in drafts:
        first = draft.posts[0]
        message = notice_templates.render(reason, kind=draft.contact.kind,
                                          post_ref=first.external_id, posted_at=first.posted_at,
                                          other_posts=len(draft.posts) - 1)
        messages.append(message)
        rows.append({"decision_id": decision.id, "client_id": client.id, "post_id": first.id,
                     "post_ids": [p.id for p in draft.posts],
                     "freelancer_ref": draft.contact.freelancer_ref, "email": draft.email,
                     "reason": reason, "subject": message.subject, "body": message.body,
                     "created_at": now, "send_after": send_after})
    by_ref = dict(bulk.insert_rows(session, FreelancerNotice.__table__, rows,
                                   returning=("freelancer_ref", "id")))
    ids = [by_ref[d.contact.freelancer_ref] for d in drafts]  # unique per decision
    outbox.write_many(session, event_type=EVENT, subject_type=SUBJECT, not_before=send_after,
                      events=[(notice_id, {
                          "notice": notice_id, "freelancer": d.contact.freelancer_ref,
                          "email": d.email, "kind": d.contact.kind, "reason": reason,
                          "post": d.posts[0].external_id,
                          "posts": [p.external_id for p in d.posts],
                          "client": client.external_id, "decision": decision.id,
                          "subject": m.subject, "message": m.body})
                          for notice_id, d, m in zip(ids, drafts, messages)])
    enqueue.deliver_notices(session, decision.id, send_after)
    if mailer.configured() and any(d.email for d in drafts):
        enqueue.send_notices(session, decision.id, send_after)
    return len(ids)


# --- undo ---------------------------------------------------------------------------------

def withdraw(session: Session, *, decision_id: int, now: datetime) -> int:
    """In the undo's transaction: withdraw the decision's notices that have not gone out
    (neither the webhook nor the e-mail). Locks the notices, then their events (the
    delivery job locks an event while it sends, the e-mail job its notice: a notice being
    sent right now is sent, and stays so). Returns how many were withdrawn."""
    notices = session.exec(select(FreelancerNotice.id, FreelancerNotice.emailed_at).where(
        FreelancerNotice.decision_id == decision_id, FreelancerNotice.withdrawn_at.is_(None))
        .order_by(FreelancerNotice.id).with_for_update()).all()
    if not notices:
        return 0
    ids = [notice_id for notice_id, _emailed in notices]
    delivered = {subject_id for subject_id, delivered_at in session.exec(
        select(OutboxEvent.subject_id, OutboxEvent.delivered_at).where(
            OutboxEvent.subject_type == SUBJECT, OutboxEvent.subject_id.in_(ids))
        .order_by(OutboxEvent.id).with_for_update()) if delivered_at is not None}
    gone = [i for i, emailed in notices if emailed is None and i not in delivered]
    if gone:
        session.execute(sa.update(FreelancerNotice).where(FreelancerNotice.id.in_(gone))
                        .values(withdrawn_at=now).execution_options(synchronize_session="evaluate"))
        session.execute(sa.update(OutboxEvent).where(
            OutboxEvent.subject_type == SUBJECT, OutboxEvent.subject_id.in_(gone),
            OutboxEvent.delivered_at.is_(None))
            .values(withdrawn_at=now).execution_options(synchronize_session="evaluate"))
    return len(gone)


# --- delivery ---------------------------------------------------------------------------------

def deliver(session: Session, decision_id: int) -> int:
    """The ``deliver_notices`` job: deliver the decision's due notices (each its own outbox
    subject, through ``webhooks.deliver_pending``). Returns how many went out; raises after
    trying them all if any was refused (the job is retried; the delivered are not resent)."""
    ids = session.exec(select(FreelancerNotice.id).where(
        FreelancerNotice.decision_id == decision_id, FreelancerNotice.withdrawn_at.is_(None))
        .order_by(FreelancerNotice.id)).all()
    session.rollback()
    sent, failed = 0, []
    for notice_id in ids:
        try:
            sent += webhooks.deliver_pending(session, SUBJECT, notice_id)
        except webhooks.WebhookDeliveryError as exc:
            session.rollback()
            failed.append(str(exc))
    if failed:
        raise webhooks.WebhookDeliveryError(f"{len(failed)} notice(s) refused: {failed[0]}")
    return sent


def send_emails(session: Session, decision_id: int, *, now: datetime | None = None) -> int:
    """The ``send_notices`` job: e-mail the decision's due notices (``send_email`` each)."""
    ids = session.exec(select(FreelancerNotice.id).where(
        FreelancerNotice.decision_id == decision_id, FreelancerNotice.email.is_not(None),
        FreelancerNotice.emailed_at.is_(None), FreelancerNotice.withdrawn_at.is_(None))
        .order_by(FreelancerNotice.id)).all()
    session.rollback()
    return sum(send_email(session, notice_id, now=now) for notice_id in ids)


def send_email(session: Session, notice_id: int, *, now: datetime | None = None) -> bool:
    """E-mail one notice if it has an address, a mail server is configured, its hold has
    passed and it was neither withdrawn nor sent: under the notice's row lock, stamped
    ``emailed_at`` (a retry sends nothing twice). True if an e-mail went out now. SMTP
    errors raise (the job is retried)."""
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


def due_email_decisions(session: Session, now: datetime, limit: int = 5000) -> list[int]:
    """For the sweep: the decisions with notices whose e-mail is due and not sent (none
    without SMTP)."""
    if not mailer.configured():
        return []
    return list(session.exec(select(FreelancerNotice.decision_id).where(
        FreelancerNotice.email.is_not(None), FreelancerNotice.emailed_at.is_(None),
        FreelancerNotice.withdrawn_at.is_(None), FreelancerNotice.send_after <= now)
        .group_by(FreelancerNotice.decision_id).order_by(FreelancerNotice.decision_id)
        .limit(limit)))


# --- reading --------------------------------------------------------------------------------

_EVENT_OF_NOTICE = sa.and_(OutboxEvent.subject_type == SUBJECT,
                           OutboxEvent.subject_id == FreelancerNotice.id)

@dataclass(frozen=True)
class NoticeSummary:
    """How many freelancers were notified about a post (or by a suspension:
    ``decision_id``): ``notified`` = pending + sent."""
    pending: int = 0
    sent: int = 0
    withdrawn: int = 0
    decision_id: int | None = None

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
        .join(OutboxEvent, _EVENT_OF_NOTICE, isouter=True)
        .where(FreelancerNotice.client_id == client_id)).all()
    counts = {PENDING: 0, SENT: 0, WITHDRAWN: 0}
    for notice, delivered_at in rows:
        if post_id in (notice.post_ids or [notice.post_id]):
            counts[state_of(notice, delivered_at)] += 1
    return NoticeSummary(**counts)


def of_suspension(session: Session, client_id: int) -> NoticeSummary | None:
    """The notices of the suspension a suspended client is under (its newest standing
    suspension): what the client page and the client panel of its cases say. None without
    one. Two small queries (the client's suspensions, that decision's notices)."""
    decision_id = session.exec(select(Decision.id).where(
        Decision.client_id == client_id, Decision.action == "suspend",
        Decision.undone_at.is_(None)).order_by(Decision.id.desc()).limit(1)).first()
    if decision_id is None:
        return None
    counts = {PENDING: 0, SENT: 0, WITHDRAWN: 0}
    for notice, state in of_decision(session, decision_id):
        counts[state] += 1
    return NoticeSummary(**counts, decision_id=decision_id)


def of_decision(session: Session, decision_id: int) -> list[tuple[FreelancerNotice, str]]:
    """The decision's notices and their state (tests, the audit)."""
    rows = session.exec(
        select(FreelancerNotice, OutboxEvent.delivered_at)
        .join(OutboxEvent, _EVENT_OF_NOTICE, isouter=True)
        .where(FreelancerNotice.decision_id == decision_id)
        .order_by(FreelancerNotice.id)).all()
    return [(n, state_of(n, d)) for n, d in rows]

