"""Similarity index: which posts share a near-duplicate text band or a contact handle.

One row per (key, post): ``key`` is a 64-bit hash of either a MinHash LSH band of the
post's word 3-shingles or one normalised contact handle (e-mail, phone, Telegram/WhatsApp);
see ``app/services/similar.py``. Filled when a post is scored (and by ``flask similar
index``); the primary key (key, post_id) is the lookup index.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class PostSimilarityKey(SQLModel, table=True):
    __tablename__ = "post_similarity_key"
    __table_args__ = (sa.Index("ix_post_similarity_key_post_id", "post_id"),)

    key: int = Field(sa_column_kwargs={"autoincrement": False}, sa_type=sa.BigInteger, primary_key=True)
    post_id: int = Field(foreign_key="job_post.id", ondelete="CASCADE", primary_key=True)
