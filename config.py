"""TrustDesk configuration, read from the environment with safe defaults.

A fresh machine needs nothing: the database is a SQLite file under ``instance/``,
background jobs run inline right after the commit when ``REDIS_URL`` is unset, and
the development secret key is generated once and kept under ``instance/``.

In production (``TRUSTDESK_ENV=production``) ``SECRET_KEY`` must be set, cookies are
``Secure``, and you point ``DATABASE_URL`` at PostgreSQL and ``REDIS_URL`` at Redis.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be a boolean (true/false), got {raw!r}")


def _env_ints(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = _env(name)
    if raw is None:
        return default
    try:
        values = tuple(int(part) for part in raw.split(","))
    except ValueError as exc:
        raise ConfigError(f"{name} must be comma-separated integers, got {raw!r}") from exc
    if not values or min(values) < 0:
        raise ConfigError(f"{name} must list at least one non-negative number of seconds")
    return values


def _share(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number between 0 and 1, got {raw!r}") from exc
    if not 0 <= value <= 1:
        raise ConfigError(f"{name} must be between 0 and 1, got {raw!r}")
    return value


def _env_share(name: str, default: float) -> float:
    raw = _env(name)
    return default if raw is None else _share(name, raw)


def _env_pairs(name: str, convert, example: str) -> dict:  # noqa: ANN001
    """``key=value,key=value``, each value through ``convert`` (which raises ConfigError)."""
    raw = _env(name)
    out: dict = {}
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{name} must look like {example}, got {raw!r}")
        out[key.strip()] = convert(value.strip())
    return out


def _env_shares(name: str) -> dict[str, float]:
    """``reason=share,reason=share`` (e.g. ``scam=0.1,policy=0.02``)."""
    return _env_pairs(name, lambda value: _share(name, value), "scam=0.1,policy=0.02")


def _weight(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"{name} must give non-negative integers (scam=3,not_a_job=1), "
                          f"got {raw!r}")
    return value


def _env_weights(name: str) -> dict[str, int]:
    """``key=integer,key=integer`` (e.g. ``scam=3,not_a_job=1``)."""
    return _env_pairs(name, lambda value: _weight(name, value), "scam=3,not_a_job=1")


def _dev_secret_key(instance_dir: Path) -> str:
    """A development key generated once and kept in ``instance/secret_key``."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not write different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


class Config:
    """Settings for one app instance. Instantiate after the environment is set."""

    def __init__(self) -> None:
        self.TRUSTDESK_ENV = _env("TRUSTDESK_ENV", "development")
        if self.TRUSTDESK_ENV not in {"development", "production", "testing"}:
            raise ConfigError("TRUSTDESK_ENV must be development, production or testing")
        production = self.TRUSTDESK_ENV == "production"

        self.INSTANCE_DIR = Path(_env("TRUSTDESK_INSTANCE_DIR", str(BASE_DIR / "instance")))

        secret = _env("SECRET_KEY")
        if secret is None:
            if production:
                raise ConfigError("SECRET_KEY must be set when TRUSTDESK_ENV=production")
            secret = _dev_secret_key(self.INSTANCE_DIR)
        elif production and len(secret) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        self.SECRET_KEY = secret

        # --- storage and queues -------------------------------------------------
        self.DATABASE_URL = _env("DATABASE_URL", f"sqlite:///{self.INSTANCE_DIR / 'trustdesk.db'}")
        self.SQL_ECHO = _env_bool("SQL_ECHO", False)
        #: unset -> background jobs run inline, right after the commit that needs them
        self.REDIS_URL = _env("REDIS_URL")
        self.RQ_QUEUE_PREFIX = _env("RQ_QUEUE_PREFIX", "trustdesk")
        #: seconds between the retries of a failed job (backoff)
        self.JOB_RETRY_INTERVALS = _env_ints("JOB_RETRY_INTERVALS", (10, 60, 300, 900))

        # --- sessions, cookies, login throttling --------------------------------
        self.SESSION_COOKIE_NAME = "trustdesk_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", production)
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.PERMANENT_SESSION_LIFETIME = _env_int("SESSION_HOURS", 12) * 3600
        self.WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
        #: failed logins per (account, address) pair, and per address whatever the account
        self.LOGIN_FAILURE_LIMIT = _env("LOGIN_FAILURE_LIMIT", "5 per 5 minutes")
        self.LOGIN_ADDRESS_FAILURE_LIMIT = _env("LOGIN_ADDRESS_FAILURE_LIMIT", "30 per 5 minutes")
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", self.REDIS_URL or "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX", "trustdesk-limits")

        # --- API ----------------------------------------------------------------
        self.MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
        self.API_BATCH_MAX_ITEMS = _env_int("API_BATCH_MAX_ITEMS", 1000)

        # --- scoring, queue and moderation policy --------------------------------
        self.MODEL_DIR = _env("MODEL_DIR")  # None -> classifiers' shipped artifacts
        self.SWEEP_DELAY_SECONDS = _env_int("SWEEP_DELAY_SECONDS", 300)
        #: a scoring job also scores up to this many other posts waiting to be scored
        self.SCORING_COALESCE = _env_int("SCORING_COALESCE", 64)
        self.SWEEP_INTERVAL_SECONDS = _env_int("SWEEP_INTERVAL_SECONDS", 60)
        #: the worker's maintenance pass (restart a dead scheduler, recover a dead worker's
        #: jobs, schedule a missing sweep); RQ's own default is 600
        self.WORKER_MAINTENANCE_SECONDS = _env_int("WORKER_MAINTENANCE_SECONDS", 30)
        #: without Redis, a served process (`make run`, gunicorn) runs the sweep - due
        #: follow-ups, webhook retries, unscored work - every this many seconds, one process
        #: at a time (a lease row in the database); 0: never. Off in testing by default.
        self.EMBEDDED_TICK_SECONDS = _env_int("EMBEDDED_TICK_SECONDS",
                                              0 if self.TRUSTDESK_ENV == "testing" else 60)
        #: without Redis, a bulk import's scoring jobs run in this many child processes
        #: beside it (0: in line, after each chunk's commit); see jobs.inline_in_background
        self.INLINE_JOB_PROCESSES = _env_int("INLINE_JOB_PROCESSES", 2)
        self.WEBHOOK_TIMEOUT_SECONDS = _env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
        self.CLAIM_MINUTES = _env_int("CLAIM_MINUTES", 15)
        self.FOLLOW_UP_DAYS = _env_int("FOLLOW_UP_DAYS", 14)
        self.UNDO_SECONDS = _env_int("UNDO_SECONDS", 30)
        # reviewer QA: the share of decided cases sampled for a blind second review,
        # and per-reason overrides ("scam=0.1,policy=0.02")
        self.QA_SAMPLE_SHARE = _env_share("QA_SAMPLE_SHARE", 0.05)
        self.QA_SAMPLE_SHARES = _env_shares("QA_SAMPLE_SHARES")
        self.QUEUE_PAGE_SIZE = _env_int("QUEUE_PAGE_SIZE", 50)
        #: the queue page's counts per reason may be reused this long (0: count every
        #: time); a commit in the same process drops them at once (services.queue)
        self.QUEUE_COUNTS_MAX_AGE = _env_int("QUEUE_COUNTS_MAX_AGE", 2)
        # automation tiers (docs/automation.md): a reason's `hold` tier unlocks when the
        # Wilson 95 % lower bound of its measured precision is at least this level, over at
        # least this many human decisions in the rolling window of this many days
        self.AUTOMATION_HOLD_PRECISION = _env_share("AUTOMATION_HOLD_PRECISION", 0.98)
        self.AUTOMATION_HOLD_MIN_DECISIONS = _env_int("AUTOMATION_HOLD_MIN_DECISIONS", 200)
        self.AUTOMATION_WINDOW_DAYS = _env_int("AUTOMATION_WINDOW_DAYS", 90)
        if self.AUTOMATION_HOLD_MIN_DECISIONS < 1 or self.AUTOMATION_WINDOW_DAYS < 1:
            raise ConfigError("AUTOMATION_HOLD_MIN_DECISIONS and AUTOMATION_WINDOW_DAYS must "
                              "be at least 1")
        # appeals and strikes (app/services/appeals.py, strikes.py): an appeal within this
        # many days of the decision; the appeal queue's SLA; a strike's life; per-reason
        # strike weights and the recommendation thresholds (overrides of the defaults)
        self.APPEAL_WINDOW_DAYS = _env_int("APPEAL_WINDOW_DAYS", 20)
        self.APPEAL_SLA_HOURS = _env_int("APPEAL_SLA_HOURS", 72)
        self.STRIKE_EXPIRY_DAYS = _env_int("STRIKE_EXPIRY_DAYS", 180)
        self.STRIKE_WEIGHTS = _env_weights("STRIKE_WEIGHTS")
        self.STRIKE_THRESHOLDS = _env_weights("STRIKE_THRESHOLDS")

        # --- outbound: marketplace webhooks and e-mail ---------------------------
        self.MARKETPLACE_WEBHOOK_URL = _env("MARKETPLACE_WEBHOOK_URL")
        self.WEBHOOK_SECRET = _env("WEBHOOK_SECRET")
        if production and self.MARKETPLACE_WEBHOOK_URL and not self.WEBHOOK_SECRET:
            raise ConfigError("WEBHOOK_SECRET must be set when MARKETPLACE_WEBHOOK_URL is")
        self.SMTP_HOST = _env("SMTP_HOST")
        self.SMTP_PORT = _env_int("SMTP_PORT", 25)
        self.SMTP_FROM = _env("SMTP_FROM", "trust-safety@trustdesk.invalid")
        self.OUTREACH_EMAIL_DOMAIN = _env("OUTREACH_EMAIL_DOMAIN", "marketplace.invalid")

        # --- first run ------------------------------------------------------------
        self.DEMO_ADMIN_EMAIL = _env("DEMO_ADMIN_EMAIL", "admin@trustdesk.local")

        # --- model candidates (docs/models.md) --------------------------------------
        #: "full" trains on every row (the product); "fast" on a small subset (tests, demos)
        self.MODEL_TRAIN_PROFILE = _env("MODEL_TRAIN_PROFILE", "full")
        if self.MODEL_TRAIN_PROFILE not in ("full", "fast"):
            raise ConfigError("MODEL_TRAIN_PROFILE must be full or fast")
        #: the gate: how much lower than the active model's a reason's precision may be
        self.MODEL_GATE_MARGIN = _env_share("MODEL_GATE_MARGIN", 0.02)
        #: the newest posts of the last 30 days the comparison scores with both models
        self.MODEL_COMPARE_POSTS = _env_int("MODEL_COMPARE_POSTS", 5000)
        #: how long a candidate shadow-scores new posts, by default
        self.MODEL_SHADOW_DAYS = _env_int("MODEL_SHADOW_DAYS", 7)
        #: posts per re-scoring job after a promotion or rollback
        self.MODEL_RESCORE_BATCH = _env_int("MODEL_RESCORE_BATCH", 500)

    @property
    def is_production(self) -> bool:
        return self.TRUSTDESK_ENV == "production"

    def as_flask_config(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if k.isupper()}
