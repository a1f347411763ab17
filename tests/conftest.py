"""Fixtures shared by every test level (flaskr-style: app, client, runner)."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

# Tests never touch the developer's instance/ folder or their environment's services.
_TEST_INSTANCE = tempfile.mkdtemp(prefix="trustdesk-tests-")
os.environ["TRUSTDESK_INSTANCE_DIR"] = _TEST_INSTANCE
os.environ["TRUSTDESK_ENV"] = "testing"
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)
os.environ.pop("RATELIMIT_STORAGE_URI", None)

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from app import create_app  # noqa: E402
from app.db import get_engine, session_scope  # noqa: E402
from app.extensions import get_limiter  # noqa: E402
from app.services import users  # noqa: E402
from app.services.audit import CLI  # noqa: E402

from tests.helpers import PASSWORD, login, make_app  # noqa: E402


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    app = make_app(f"sqlite:///{tmp_path / 'test.db'}")
    with app.app_context():
        SQLModel.metadata.create_all(get_engine())
        get_limiter().reset()
    yield app
    with app.app_context():
        get_engine().dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app: Flask):
    """Create a moderator with PASSWORD: ``make_user("analyst")``."""
    def _make(role: str = "moderator", email: str | None = None):
        with app.app_context(), session_scope() as session:
            return users.create_moderator(session, email=email or f"{role}@example.com",
                                          password=PASSWORD, role=role, actor=CLI)
    return _make


@pytest.fixture
def logged_in(client: FlaskClient, make_user):
    """A client logged in with the given role: ``logged_in("admin")``."""
    def _as(role: str) -> FlaskClient:
        user = make_user(role)
        response = login(client, user.email)
        assert response.status_code == 303, response.get_data(as_text=True)
        return client
    return _as
