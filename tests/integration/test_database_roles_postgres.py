"""Production's database roles (README, *Production*): the application connects as a role
that does not own the tables (scripts/grant_app_role.sql), so it works as usual but cannot
drop or disable the append-only triggers of decision and audit_event."""
from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db import get_engine, session_scope
from app.services import moderation
from app.services.audit import Actor
from models import Moderator
from tests.helpers import make_app
from tests.support.services import migrate
from tests.unit.console_fixtures import make_client, make_flag, make_post

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "grant_app_role.sql"


@pytest.fixture
def app_role(pg_admin, pg_url):
    """A login role of its own, granted what the script grants on the migrated database."""
    role = f"trustdesk_app_{uuid.uuid4().hex[:8]}"
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        migrate(pg_url)
        owner = sa.make_url(pg_url)
        result = subprocess.run(
            ["psql", "-X", "-q", "-v", f"app_role={role}", "-f", str(SCRIPT), "-h", owner.host,
             "-p", str(owner.port or 5432), "-U", owner.username, "-d", owner.database],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        yield sa.make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    finally:
        owner_engine = sa.create_engine(pg_url)
        with owner_engine.begin() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))  # its grants in this database
        owner_engine.dispose()
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'DROP ROLE "{role}"'))


def test_the_app_role_decides_and_undoes_but_cannot_touch_the_triggers(app_role):
    app = make_app(app_role)
    with app.app_context(), session_scope() as s:
        m = Moderator(email="mod@example.com", password_hash="x", role="moderator")
        s.add(m)
        client = make_client(s)
        flag = make_flag(s, make_post(s, client))
        s.commit()
        decision = moderation.remove(s, flag_id=flag.id, version=1, reason_code="scam",
                                     actor=Actor.of(m))
        moderation.undo(s, decision_id=decision.id, actor=Actor.of(m))
        for sql in ("ALTER TABLE decision DISABLE TRIGGER decision_no_change",
                    "ALTER TABLE audit_event DISABLE TRIGGER ALL",
                    "DROP TRIGGER decision_no_change ON decision",
                    "DROP FUNCTION decision_append_only() CASCADE",
                    "TRUNCATE decision", "DELETE FROM decision", "DELETE FROM audit_event",
                    "UPDATE audit_event SET action = 'x'"):
            with pytest.raises(sa.exc.ProgrammingError, match="must be owner|permission denied"):
                with get_engine().begin() as conn:
                    conn.execute(sa.text(sql))
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with get_engine().begin() as conn:
                conn.execute(sa.text("UPDATE decision SET reason = 'rewritten'"))
        with get_engine().begin() as conn:  # an import's ANALYZE: skipped, with a warning
            conn.execute(sa.text("ANALYZE job_post, flag"))
    with app.app_context():
        get_engine().dispose()
