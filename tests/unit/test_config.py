from __future__ import annotations

import pytest

from config import Config, ConfigError


def test_defaults_need_no_services(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTDESK_INSTANCE_DIR", str(tmp_path))
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRUSTDESK_ENV", "development")
    cfg = Config()
    assert cfg.DATABASE_URL == f"sqlite:///{tmp_path / 'trustdesk.db'}"
    assert cfg.REDIS_URL is None
    assert cfg.RATELIMIT_STORAGE_URI == "memory://"
    assert cfg.SESSION_COOKIE_SECURE is False


def test_development_secret_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTDESK_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("TRUSTDESK_ENV", "development")
    first = Config().SECRET_KEY
    assert len(first) >= 32
    assert Config().SECRET_KEY == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_requires_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTDESK_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("TRUSTDESK_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        Config()
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        Config()
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    cfg = Config()
    assert cfg.SESSION_COOKIE_SECURE is True and not (tmp_path / "secret_key").exists()


def test_redis_url_makes_the_limiter_use_redis(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    assert Config().RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/3"


@pytest.mark.parametrize("name,value,message", [
    ("CLAIM_MINUTES", "soon", "must be an integer"),
    ("SESSION_COOKIE_SECURE", "perhaps", "must be a boolean"),
    ("TRUSTDESK_ENV", "staging", "TRUSTDESK_ENV must be"),
])
def test_bad_values_are_named_in_the_error(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        Config()
