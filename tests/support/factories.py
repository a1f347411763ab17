"""Rows for tests, written through the models (no HTTP)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.services.content import post_content_hash
from models import Client, Feedback, JobPost, utcnow

HONEST = ("Need a logo for my bakery", "Looking for a simple, friendly logo for our family "
          "bakery. Budget $50.")
SCAM = ("Data entry from home - $500/day", "No experience needed. Contact our hiring manager "
        "on Telegram @hr_jobs_fast to start today. You must buy the $99 starter kit first, "
        "refunded with your first paycheck.")
OFF_PLATFORM = ("WordPress fixes", "Small fixes on my WordPress site. Please email me at "
                "bob dot smith at gmail dot com so we can talk outside the site.")
NEGATIVE = "Rude and unresponsive client, changed the requirements daily and refused to pay."
POSITIVE = "Great client, clear brief and paid on time. Would work with again."


def client(session: Session, external_id: str = "c1", **kw) -> Client:
    row = Client(external_id=external_id, name=kw.pop("name", f"Client {external_id}"),
                 joined_at=kw.pop("joined_at", utcnow() - timedelta(days=400)), **kw)
    session.add(row)
    session.commit()
    return row


def post(session: Session, owner: Client, external_id: str, title: str, description: str,
         category: str | None = "design_creative", **kw) -> JobPost:
    row = JobPost(external_id=external_id, client_id=owner.id, title=title,
                  description=description, category=category,
                  content_hash=post_content_hash(title=title, description=description,
                                                 category=category, skills=kw.get("skills"),
                                                 budget=kw.get("budget")), **kw)
    session.add(row)
    session.commit()
    return row


def feedback(session: Session, owner: Client, external_id: str, rating: int, comment: str,
             created_at: datetime | None = None) -> Feedback:
    row = Feedback(external_id=external_id, client_id=owner.id, rating=rating, comment=comment,
                   created_at=created_at or utcnow())
    session.add(row)
    session.commit()
    return row


def history(session: Session, owner: Client, pattern: str, *, start_days_ago: int = 60,
            prefix: str | None = None) -> list[Feedback]:
    """Feedback from a pattern string, oldest first: 'P' positive, 'N' negative."""
    rows = []
    prefix = prefix or owner.external_id
    for i, kind in enumerate(pattern):
        when = utcnow() - timedelta(days=start_days_ago) + timedelta(days=i * 3)
        rows.append(feedback(session, owner, f"{prefix}-f{i}", 1 if kind == "N" else 5,
                             NEGATIVE if kind == "N" else POSITIVE, created_at=when))
    return rows
