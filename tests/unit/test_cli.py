"""`flask users ...` and `flask tokens ...` round trips."""
from __future__ import annotations

from sqlmodel import select

from app.db import session_scope
from app.services import tokens
from models import ApiToken, AuditEvent, Moderator
from tests.helpers import PASSWORD, login


def test_users_create_from_stdin_then_log_in(runner, app, client):
    r = runner.invoke(args=["users", "create", "Ana@Example.com", "--role", "analyst",
                            "--password-stdin"], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert "created analyst ana@example.com" in r.output
    with app.app_context(), session_scope() as s:
        user = s.exec(select(Moderator)).one()
        assert user.role == "analyst" and user.password_hash.startswith("$argon2")
        assert PASSWORD not in user.password_hash
    assert login(client, "ana@example.com").status_code == 303


def test_users_create_prompts_twice(runner):
    r = runner.invoke(args=["users", "create", "mod@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    assert "created moderator mod@example.com" in r.output


def test_users_create_with_mismatched_prompts_retries_then_fails(runner, app):
    r = runner.invoke(args=["users", "create", "mod@example.com"], input=f"{PASSWORD}\nother\n")
    assert r.exit_code != 0
    with app.app_context(), session_scope() as s:
        assert s.exec(select(Moderator)).first() is None


def test_users_create_rejects_bad_input_and_writes_nothing(runner, app):
    cases = [
        (["users", "create", "not-an-email", "--password-stdin"], PASSWORD, "not a valid e-mail"),
        (["users", "create", "a@example.com", "--password-stdin"], "short", "at least 12"),
        (["users", "create", "a@example.com", "--role", "root", "--password-stdin"], PASSWORD,
         "Invalid value for '--role'"),
    ]
    for args, password, message in cases:
        r = runner.invoke(args=args, input=password + "\n")
        assert r.exit_code != 0 and message in r.output, r.output
    with app.app_context(), session_scope() as s:
        assert s.exec(select(Moderator)).first() is None


def test_duplicate_user_is_a_clear_error(runner):
    args = ["users", "create", "mod@example.com", "--password-stdin"]
    assert runner.invoke(args=args, input=PASSWORD + "\n").exit_code == 0
    r = runner.invoke(args=args, input=PASSWORD + "\n")
    assert r.exit_code == 1 and "already exists" in r.output


def test_users_list_and_deactivate(runner, make_user, client):
    make_user("admin", "boss@example.com")
    make_user("moderator", "mod@example.com")
    r = runner.invoke(args=["users", "list"])
    assert "boss@example.com\tadmin\tactive" in r.output
    assert "mod@example.com\tmoderator\tactive" in r.output
    r = runner.invoke(args=["users", "deactivate", "mod@example.com"])
    assert r.exit_code == 0
    assert "mod@example.com\tmoderator\tdeactivated" in runner.invoke(args=["users", "list"]).output
    assert login(client, "mod@example.com").status_code == 401
    r = runner.invoke(args=["users", "deactivate", "ghost@example.com"])
    assert r.exit_code == 1 and "no user" in r.output


def test_tokens_create_prints_the_token_last_and_stores_only_its_hash(runner, app):
    r = runner.invoke(args=["tokens", "create", "marketplace"])
    assert r.exit_code == 0, r.output
    token = r.output.strip().splitlines()[-1]
    assert token.startswith("td_") and len(token) > 40
    with app.app_context(), session_scope() as s:
        row = s.exec(select(ApiToken)).one()
        assert row.token_hash == tokens.hash_token(token) and token not in row.token_hash
        assert tokens.verify_token(s, token).name == "marketplace"
        assert tokens.verify_token(s, token + "x") is None
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "token.create")).one()

    r = runner.invoke(args=["tokens", "revoke", "marketplace"])
    assert r.exit_code == 0
    with app.app_context(), session_scope() as s:
        assert tokens.verify_token(s, token) is None
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output


def test_tokens_errors(runner):
    assert runner.invoke(args=["tokens", "create", "dup"]).exit_code == 0
    r = runner.invoke(args=["tokens", "create", "dup"])
    assert r.exit_code == 1 and "already exists" in r.output
    r = runner.invoke(args=["tokens", "revoke", "nope"])
    assert r.exit_code == 1 and "no token named" in r.output


def test_bootstrap_creates_one_demo_admin_and_remembers_its_login(runner, app, client):
    r = runner.invoke(args=["bootstrap"])
    assert r.exit_code == 0 and "Created demo admin" in r.output
    email, password = r.output.split("Log in with: ")[1].split("  (")[0].split(" / ")
    assert login(client, email, password).status_code == 303
    again = runner.invoke(args=["bootstrap"])
    assert again.exit_code == 0 and "Created" not in again.output and password in again.output
    with app.app_context(), session_scope() as s:
        assert len(s.exec(select(Moderator)).all()) == 1
