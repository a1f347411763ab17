"""Column helpers shared by the tables."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

#: stable constraint names on every database (set before any table is defined)
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: the largest id an ``INTEGER`` column holds on PostgreSQL (every table's id, SQLite's too
#: by agreement): a bigger number from a URL is no row, never a query that fails
MAX_ID = 2**31 - 1
#: the years a date or datetime from outside (API bodies, console filters) may name
MIN_YEAR, MAX_YEAR = 1970, 2100

#: JSON everywhere, JSONB on PostgreSQL
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
#: JSON everywhere, kept as its text on PostgreSQL (``json``): for documents only ever read
#: whole, never searched or compared in SQL. PostgreSQL stores ``json`` as the text it was
#: sent (checked, not converted), where ``jsonb`` parses it into its own binary form, which
#: cost scoring more than the write of the document itself (migration 0010)
JSONTextType = sa.JSON()


def utcnow() -> datetime:
    """The current time, timezone-aware (sqlmodel rejects naive datetimes)."""
    return datetime.now(timezone.utc)


def json_field(*, nullable: bool = True, default: Any = None, as_text: bool = False) -> Any:
    """A JSON column (``as_text``: ``JSONTextType``, else ``JSONType``)."""
    sa_type = JSONTextType if as_text else JSONType
    if default is None:
        return Field(default=None, sa_type=sa_type, nullable=nullable)
    return Field(default_factory=default, sa_type=sa_type, nullable=nullable)


def enum_check(column: str, values: Any) -> sa.CheckConstraint:
    """A CHECK constraint restricting ``column`` to the members of a StrEnum (or iterable)."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=column)
