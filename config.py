"""Configuration classes. The environment is read once, here, when the module is imported."""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

ENV_DATABASE_URL = os.environ.get("DATABASE_URL", "")
ENV_SECRET_KEY = os.environ.get("SECRET_KEY", "")
ENV_RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
ENV_TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES") or 0)
ENV_SERVER_TIMING = os.environ.get("SERVER_TIMING") == "1"
ENV_LOG_HEAD_MARKER = os.environ.get("LOG_HEAD_MARKER")
ENV_SQLITE_SYNCHRONOUS = os.environ.get("SQLITE_SYNCHRONOUS") or "FULL"
ENV_AUDIT_SIGNING_KEY = os.environ.get("AUDIT_SIGNING_KEY", "")
ENV_API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT") or "600/minute"
ENV_APP_TIMEZONE = os.environ.get("APP_TIMEZONE") or "UTC"
ENV_APPROVAL_THRESHOLD = int(os.environ.get("APPROVAL_THRESHOLD") or 100)
ENV_APPROVAL_MAX_AGE_HOURS = int(os.environ.get("APPROVAL_MAX_AGE_HOURS") or 72)


def _normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` / `postgresql://` spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    SECRET_KEY = ENV_SECRET_KEY
    # Without SECRET_KEY: None refuses to start; a path keeps a random key made once there
    # (admin_app/secret_key.py).
    SECRET_KEY_FILE: Path | None = None
    SQLALCHEMY_DATABASE_URI = _normalise_database_url(ENV_DATABASE_URL) or (
        f"sqlite:///{INSTANCE_DIR / 'customer_admin.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False
    # SQLite durability: FULL (default) makes every committed operation survive a power cut;
    # NORMAL is faster per commit but may lose the last commits on power loss (README).
    SQLITE_SYNCHRONOUS = ENV_SQLITE_SYNCHRONOUS
    # Where the newest operation this server committed is remembered, outside the database, so
    # a database restored from an older copy is noticed before the log is extended ("" = off).
    LOG_HEAD_MARKER = (
        str(INSTANCE_DIR / "log-head.json") if ENV_LOG_HEAD_MARKER is None else ENV_LOG_HEAD_MARKER
    )

    # How passwords are hashed (Werkzeug's method string; "scrypt" is scrypt:32768:8:1).
    PASSWORD_HASH_METHOD = "scrypt"

    WTF_CSRF_TIME_LIMIT = 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = timedelta(days=7)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    IDLE_TIMEOUT = timedelta(minutes=30)
    ABSOLUTE_SESSION_LIFETIME = timedelta(hours=12)  # from login, however active
    HSTS_SECONDS = 0
    # How many reverse proxies in front of the app set X-Forwarded-For / -Proto (0: trust none).
    TRUSTED_PROXIES = ENV_TRUSTED_PROXIES

    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = ENV_RATELIMIT_STORAGE_URI
    RATELIMIT_HEADERS_ENABLED = True
    # Every POST /login counts against its client IP and against the username tried.
    LOGIN_RATE_LIMIT = "20 per minute;100 per hour"
    # Attempts per username without a successful login; past them the username is locked
    # (known or not, right password or not) until the window ends.
    LOGIN_LOCKOUT_THRESHOLD = 10
    LOGIN_LOCKOUT_DURATION = timedelta(minutes=15)
    # Requests per API token (Flask-Limiter notation); past it the API answers 429.
    API_RATE_LIMIT = ENV_API_RATE_LIMIT

    BABEL_DEFAULT_LOCALE = "en"
    # The time zone pages show times in for users who chose none (IANA name, e.g. Asia/Taipei);
    # stored times stay UTC. Also Flask-Babel's default (admin_app/timefmt.py).
    APP_TIMEZONE = ENV_APP_TIMEZONE
    LANGUAGES = ("en", "zh_Hans_CN", "zh_Hant_TW")

    # Bulk status operations
    MAX_CHECKED_IDS = 10_000
    CONFIRMATION_MAX_AGE_SECONDS = 600
    CONFIRMATION_PREVIEW_ROWS = 100
    STATUS_CHANGE_CHUNK_SIZE = 5_000
    # From this many customers on, the confirmation page says the change will take a while.
    LONG_OPERATION_CUSTOMERS = 50_000
    REVIEW_INTERVAL_DAYS = 30
    # Four-eyes approval: a status change of more than APPROVAL_THRESHOLD customers (0: no size
    # rule) or with a reason marked "requires approval" waits for a second person
    # (services/approvals.py); a request not decided within APPROVAL_MAX_AGE_HOURS expires.
    APPROVAL_THRESHOLD = ENV_APPROVAL_THRESHOLD
    APPROVAL_MAX_AGE_HOURS = ENV_APPROVAL_MAX_AGE_HOURS

    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 500_000
    MAX_FORM_PARTS = 1_000

    # Add "Server-Timing: app;dur=<ms>" (time spent in the app) to every response: the HTTP
    # benchmark turns it on to tell the app's time from the network's. Off by default.
    SERVER_TIMING = ENV_SERVER_TIMING

    # Path of the Ed25519 private key (PEM) that signs log checkpoints (`flask audit
    # checkpoint`); kept out of the database, so the database cannot vouch for itself.
    AUDIT_SIGNING_KEY = ENV_AUDIT_SIGNING_KEY


class DevelopmentConfig(Config):
    CONFIG_NAME = "development"
    DEBUG = False
    SECRET_KEY_FILE = INSTANCE_DIR / "secret_key"


class TestingConfig(Config):
    CONFIG_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    LOG_HEAD_MARKER = ""  # tests that need it point it at a temporary file
    # scrypt at 1/32 of the work: a test's login checks its password in ~4 ms, not ~140 ms
    # (a fifth of the suite's time). Only this config; a hash carries its own cost.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    # Off for the suite at large (its fixtures change hundreds of customers at once);
    # tests/test_approvals.py turns it on with @pytest.mark.config(APPROVAL_THRESHOLD=...).
    APPROVAL_THRESHOLD = 0


class ProductionConfig(Config):
    CONFIG_NAME = "production"
    SECRET_KEY = ENV_SECRET_KEY
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    REMEMBER_COOKIE_NAME = "__Host-remember"
    PREFERRED_URL_SCHEME = "https"
    HSTS_SECONDS = 31_536_000


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> type[Config]:
    """The config class named by `name` (or APP_CONFIG); unknown names are an error."""
    name = (name or os.environ.get("APP_CONFIG") or "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise SystemExit(f"Unknown APP_CONFIG {name!r}; use one of {', '.join(CONFIGS)}.") from None
