"""Integration tests use the real PostgreSQL and Redis (see tests/support/services.py)."""
from tests.support.services import (  # noqa: F401  (fixtures)
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    migrated_app,
    pg_admin,
    pg_url,
    redis_client,
    redis_prefix,
    unavailable,
)
