"""The queue's listing computed the slow, obvious way in Python, to compare with
``services.queue.page`` on SQLite and on PostgreSQL: open flags, one row per subject (its
most urgent open flag passing the filters), most urgent first; a search matches a post's
title or description or the flag's client's name, case-insensitively, as a substring."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlmodel import Session, select

from app.services import queue as q
from models import Client, Flag, JobPost, utcnow

WORDS = ("logo telegram bakery invoice wordpress translate crypto paypal essay review "
         "budget urgent python website article design data entry remote weekly").split()
POLICY_TYPES = ("off_platform", "unpaid_work", "fake_reviews")


def build(session: Session, *, seed: int = 3, posts: int = 80) -> tuple[int, int]:
    """Posts with random text, flags of every reason (some closed, some claimed by one of
    two moderators, some expired claims), clients with random names. The moderators' ids."""
    from app.services import users
    from app.services.audit import CLI

    me, other = (users.create_moderator(session, email=f"ref{i}@example.com",
                                        password="reference password 1", role="moderator",
                                        actor=CLI).id for i in (1, 2))
    rnd = random.Random(seed)
    now = utcnow()
    clients = []
    for i in range(12):
        client = Client(external_id=f"ref-c{i}", name=f"{rnd.choice(WORDS).title()} "
                        f"{rnd.choice(WORDS)} {i}", joined_at=now - timedelta(days=9))
        session.add(client)
        clients.append(client)
    session.flush()
    for i in range(posts):
        client = rnd.choice(clients)
        post = JobPost(external_id=f"ref-p{i}", client_id=client.id,
                       title=" ".join(rnd.choice(WORDS) for _ in range(3)).capitalize(),
                       description=" ".join(rnd.choice(WORDS) for _ in range(8)),
                       category=rnd.choice(["writing", "design_creative"]),
                       content_hash=f"ref-h{i}", posted_at=now)
        session.add(post)
        session.flush()
        claimed = rnd.random()  # a claim holds all of a subject's open flags
        for reason in rnd.sample(["scam", "policy", "miscategorised"], rnd.randint(0, 3)):
            status = "open" if rnd.random() < .8 else "dismissed"
            session.add(Flag(
                subject_type="post", subject_id=post.id, client_id=client.id,
                post_id=post.id, reason=reason, score=.9, model_version="m",
                evidence=[], status=status, priority=round(rnd.random() * 80, 1),
                policy_types=[rnd.choice(POLICY_TYPES)] if reason == "policy" else [],
                claimed_by=(me if claimed < .15 else other if claimed < .2 else None),
                claimed_until=now + timedelta(minutes=-5 if claimed < .03 else 30),
                created_at=now - timedelta(minutes=rnd.randint(0, 600))))
        session.flush()
    for client in clients[::3]:
        session.add(Flag(subject_type="client", subject_id=client.id, client_id=client.id,
                         reason="negative_client", score=.8, model_version="n", evidence=[],
                         priority=round(rnd.random() * 80, 1)))
    session.commit()
    return me, other


def expected(session: Session, filters: q.Filters, *, moderator_id: int | None) -> list[int]:
    """The flag ids the queue lists for ``filters`` (reason, policy, category, claim, q)."""
    now = utcnow()
    term = filters.q.lower()
    rows = session.exec(select(Flag, JobPost, Client).join(Client, Client.id == Flag.client_id)
                        .outerjoin(JobPost, JobPost.id == Flag.post_id)
                        .where(Flag.status == "open")).all()

    def passes_flag(flag: Flag) -> bool:
        live = flag.claimed_by is not None and flag.claimed_until is not None \
            and flag.claimed_until > now
        return ((not filters.reason or flag.reason == filters.reason)
                and (not filters.policy or filters.policy in (flag.policy_types or []))
                and (filters.claim != "mine" or (live and flag.claimed_by == moderator_id))
                and (filters.claim != "claimed" or live)
                and (filters.claim != "unclaimed" or not live))

    def passes(flag: Flag, post: JobPost | None, client: Client) -> bool:
        if filters.category and (post is None or post.category != filters.category):
            return False
        if term and not (term in client.name.lower() or (post is not None and (
                term in post.title.lower() or term in post.description.lower()))):
            return False
        return passes_flag(flag)

    best: dict[tuple[str, int], Flag] = {}
    for flag, post, client in rows:
        if passes(flag, post, client):
            key = (flag.subject_type, flag.subject_id)
            if key not in best or (flag.queue_key, flag.id) > (best[key].queue_key, best[key].id):
                best[key] = flag
    return [f.id for f in sorted(best.values(), key=lambda f: (f.queue_key, f.id), reverse=True)]


def listed(session: Session, filters: q.Filters, *, moderator_id: int | None,
           limit: int = 7) -> list[int]:
    """Every flag id the queue lists for ``filters``, page after keyset page."""
    seen, cursor = [], None
    while True:
        page = q.page(session, filters=filters, moderator_id=moderator_id, limit=limit,
                      cursor=cursor, with_counts=False)
        seen += [row.flag.id for row in page.rows]
        cursor = page.next_cursor
        if not cursor:
            return seen


#: filters compared with the reference (search terms: common, rare, in client names only,
#: absent, a LIKE wildcard)
CASES = ([q.Filters()] + [q.Filters(q=t) for t in ("logo", "TELEGRAM", "ess", "crypto 1",
                                                    "zqx", "%", "o")]
         + [q.Filters(policy=p) for p in POLICY_TYPES]
         + [q.Filters(reason="policy", policy="off_platform"), q.Filters(reason="scam"),
            q.Filters(category="writing"), q.Filters(category="writing", q="logo"),
            q.Filters(claim="mine"), q.Filters(claim="mine", q="a"), q.Filters(claim="claimed"),
            q.Filters(claim="unclaimed", q="logo"), q.Filters(policy="off_platform", q="e")])


def check_all(session: Session, moderators: tuple[int, int]) -> None:
    for filters in CASES:
        for moderator_id in moderators:
            assert listed(session, filters, moderator_id=moderator_id) == expected(
                session, filters, moderator_id=moderator_id), (filters, moderator_id)
