"""Similarity index: which posts share a near-duplicate text band or a contact handle.

One row per (key, post): ``key`` is a 64-bit hash of either a MinHash LSH band of the
post's word 3-shingles or one normalised contact handle (e-mail, phone, Telegram/WhatsApp);
see ``app/services/similar.py``. Filled when a post is scored (and by ``flask similar
index``); the primary key (key, post_id) is the lookup index.

No foreign key to ``job_post``: the rows are derived data (rebuilt by ``flask similar
index``), posts are never deleted, and readers only ever join them to existing posts.
The constraint cost more than the row itself: PostgreSQL checked it per inserted key by
locking the post row (``SELECT ... FOR KEY SHARE``), ~7 us for each of a post's ~10 keys,
on the scoring path (migration 0007).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class PostSimilarityKey(SQLModel, table=True):
    __tablename__ = "post_similarity_key"
    __table_args__ = (sa.Index("ix_post_similarity_key_post_id", "post_id"),)

    key: int = Field(sa_column_kwargs={"autoincrement": False}, sa_type=sa.BigInteger, primary_key=True)
    post_id: int = Field(primary_key=True)
