"""Alembic environment: migrates whatever DATABASE_URL (config.Config) names.

A caller may pass its own connection in ``config.attributes["connection"]`` (tests do),
or a URL with ``-x url=...``.
"""
from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from config import Config
from sqlmodel import SQLModel

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or Config().DATABASE_URL


def _include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Leave the PostgreSQL-only trigram search indexes (``*_trgm``, migration 0004) out of
    autogenerate: the models do not declare them, the migration manages them."""
    return not (type_ == "index" and name is not None and name.endswith("_trgm"))


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=True,  # SQLite can only ALTER through table copies
        compare_type=True,
        compare_server_default=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    from sqlalchemy import create_engine

    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
