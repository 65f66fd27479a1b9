"""Project settings, read from the environment with safe defaults (see docs/operators.md)."""
from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet

from hi.localstate import private_dir, private_file, private_umask, write_private

SRC_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = SRC_DIR.parent
# Local state for the embedded default: generated keys and the SQLite file.
VAR_DIR = Path(os.environ.get("HI_VAR_DIR", BASE_DIR / "var"))
# What hi creates (keys, the SQLite file and its -wal/-shm, the demo marker) is readable by its own user only.
private_umask()
private_dir(VAR_DIR)


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean from the environment ('1', 'true', 'yes', 'on' are true)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list from the environment."""
    raw = os.environ.get(name, "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    return items or default


def local_secret(filename: str, generate) -> str:
    """Return a value kept in VAR_DIR, generating it on first use (embedded default only)."""
    path = VAR_DIR / filename
    if path.exists():
        private_file(path)  # an older install may have left it readable
        return path.read_text().strip()
    private_dir(VAR_DIR)
    value = generate()
    write_private(path, value + "\n")
    return value


DEBUG = env_bool("HI_DEBUG", False)
ALLOWED_HOSTS = env_list("HI_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# HTTPS (secure cookies, redirect, HSTS) is on as soon as hi answers to a name other than
# loopback; the embedded default on 127.0.0.1 speaks plain HTTP. HI_HTTPS overrides either way.
HI_HTTPS = env_bool("HI_HTTPS", not set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS)

# Keys from the environment win; without them a per-install key is generated and kept in var/
# so that `make run` works on a fresh machine. The deploy check warns about the generated ones.
HI_SECRET_KEY_FROM_ENV = bool(os.environ.get("HI_SECRET_KEY"))
SECRET_KEY = os.environ.get("HI_SECRET_KEY") or local_secret(
    "secret_key", lambda: secrets.token_urlsafe(64)
)
HI_ENCRYPTION_KEYS_FROM_ENV = bool(os.environ.get("HI_ENCRYPTION_KEYS"))
# The first key encrypts, every key decrypts (MultiFernet); rotate with `manage.py hi_rotate_keys`.
HI_ENCRYPTION_KEYS = env_list("HI_ENCRYPTION_KEYS", []) or [
    local_secret("encryption_key", lambda: Fernet.generate_key().decode())
]

CSRF_TRUSTED_ORIGINS = env_list("HI_CSRF_TRUSTED_ORIGINS", [])
# Base of the URLs handed to providers (receive URLs of inbound webhooks).
HI_BASE_URL = os.environ.get("HI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The worker: heartbeat period, and how old a heartbeat may be before the worker counts as dead
# (its running directives are then re-queued; keep it well under 60 s).
HI_WORKER_HEARTBEAT_S = float(os.environ.get("HI_WORKER_HEARTBEAT_S", "5"))
HI_WORKER_STALE_S = float(os.environ.get("HI_WORKER_STALE_S", "20"))
# How much one worker runs at once (directive lanes, job occurrences, set-up retries, each in a
# thread), and how many of those may belong to one integration: a slow provider holds at most that many.
HI_WORKER_CONCURRENCY = int(os.environ.get("HI_WORKER_CONCURRENCY", "4"))
HI_WORKER_PER_INTEGRATION = int(os.environ.get("HI_WORKER_PER_INTEGRATION", "1"))
# The production web command (hi.asgi): a request body must arrive whole within this many seconds
# (else 408), and Django runs in this many threads per process while the event loop reads requests.
HI_WEB_READ_TIMEOUT_S = float(os.environ.get("HI_WEB_READ_TIMEOUT_S", "10"))
HI_WEB_THREADS = int(os.environ.get("HI_WEB_THREADS", "8"))
# Bearer token that GET /metrics requires. Without one, /metrics answers 403 (it lists every workspace's
# integrations) unless HI_DEBUG is on or HI_METRICS_OPEN=1 opens it explicitly (deploy check hi.W003).
HI_METRICS_TOKEN = os.environ.get("HI_METRICS_TOKEN", "")
HI_METRICS_OPEN = env_bool("HI_METRICS_OPEN", False)
# Upper bound of a live connection test, in seconds.
HI_CONNECTION_TEST_TIMEOUT_S = float(os.environ.get("HI_CONNECTION_TEST_TIMEOUT_S", "10"))
# Networks (comma-separated CIDRs) that every operator-given URL (webhook endpoints, provider API URLs) may
# reach although they are internal, and over plain http: e.g. "10.0.0.0/8" for an n8n on the LAN. Empty: public
# https URLs only (integrations/outbound/ssrf.py). HI_WEBHOOK_ALLOWED_NETWORKS, its older name, is still read and added.
HI_OUTBOUND_ALLOWED_NETWORKS = env_list("HI_OUTBOUND_ALLOWED_NETWORKS", []) + env_list("HI_WEBHOOK_ALLOWED_NETWORKS", [])
# The most one provider call may take in all, in seconds: connecting, sending, waiting, reading and the
# retries inside the call (the connect and read timeouts bound each step; this bounds their sum).
HI_HTTP_DEADLINE_S = float(os.environ.get("HI_HTTP_DEADLINE_S", "30"))
# A webhook endpoint is disabled automatically when, over the last WINDOW seconds, at least MIN_ATTEMPTS
# deliveries were attempted, at least ERROR_RATE of them failed, and failing began MIN_SPAN seconds ago or more.
HI_WEBHOOK_DISABLE_WINDOW_S = float(os.environ.get("HI_WEBHOOK_DISABLE_WINDOW_S", str(24 * 3600)))
HI_WEBHOOK_DISABLE_MIN_ATTEMPTS = int(os.environ.get("HI_WEBHOOK_DISABLE_MIN_ATTEMPTS", "20"))
HI_WEBHOOK_DISABLE_ERROR_RATE = float(os.environ.get("HI_WEBHOOK_DISABLE_ERROR_RATE", "0.95"))
HI_WEBHOOK_DISABLE_MIN_SPAN_S = float(os.environ.get("HI_WEBHOOK_DISABLE_MIN_SPAN_S", "3600"))
# Refused inbound requests (bad signature, integration not active, too large, not JSON, ...) keep their
# metadata and the first EXCERPT bytes of the body, for REJECTED_DAYS days, at most REJECTED_MAX per
# integration (the oldest go first). Beyond REFUSAL_LIMIT refusals from one address (an IPv6 /64) to one
# integration within REFUSAL_WINDOW_S seconds, further refusals get the same answer but are only counted,
# and shown once on the integration's page as a flood.
HI_INBOUND_REJECTED_EXCERPT_BYTES = int(os.environ.get("HI_INBOUND_REJECTED_EXCERPT_BYTES", "2048"))
HI_INBOUND_REJECTED_DAYS = float(os.environ.get("HI_INBOUND_REJECTED_DAYS", "3"))
HI_INBOUND_REJECTED_MAX = int(os.environ.get("HI_INBOUND_REJECTED_MAX", "1000"))
HI_INBOUND_REFUSAL_LIMIT = int(os.environ.get("HI_INBOUND_REFUSAL_LIMIT", "30"))
HI_INBOUND_REFUSAL_WINDOW_S = float(os.environ.get("HI_INBOUND_REFUSAL_WINDOW_S", "600"))
# A TLS-terminating proxy in front of hi: trust its X-Forwarded-Proto, and take a request's source address
# from the last X-Forwarded-For entry (the one the proxy added) instead of the proxy's own address.
HI_BEHIND_PROXY = env_bool("HI_BEHIND_PROXY", False)
# Seconds between polls of iFood's event queue; iFood expects about 30 (polling keeps the stores online).
HI_IFOOD_POLL_INTERVAL_S = float(os.environ.get("HI_IFOOD_POLL_INTERVAL_S", "30"))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "hi.workspaces",
    "hi.integrations",
    "hi.orders",
    "hi.messaging",
    "hi.services.demo",
    "hi.services.webhook",
    "hi.services.ifood",
    "hi.services.whatsapp",
    "hi.services.airtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hi.workspaces.middleware.WorkspaceMiddleware",
    "hi.integrations.console.middleware.SecretKeysMiddleware",
    "hi.integrations.engine.dblocks.DatabaseBusyMiddleware",
    # Last: turns a locked-out login into the login page's own message (hi.workspaces.logins).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hi.urls"
WSGI_APPLICATION = "hi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hi.workspaces.context_processors.workspace",
            ],
        },
    }
]

# How long a database connection waits for a lock before giving up. A web request that hits it answers
# 503 with Retry-After (providers retry) instead of hanging past the server's timeout; the worker, which
# nobody waits on, waits longer (hi_worker applies HI_WORKER_DB_LOCK_WAIT_S).
HI_DB_LOCK_WAIT_S = float(os.environ.get("HI_DB_LOCK_WAIT_S", "5"))
HI_WORKER_DB_LOCK_WAIT_S = float(os.environ.get("HI_WORKER_DB_LOCK_WAIT_S", "30"))

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'hi.sqlite3'}",
        conn_max_age=int(os.environ.get("HI_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The database holds every workspace's data: only hi's user may read it. SQLite gives its -wal and
    # -shm files the database file's mode (and the umask set above covers them too).
    if DATABASES["default"]["NAME"] and DATABASES["default"]["NAME"] != ":memory:":
        database_file = Path(DATABASES["default"]["NAME"])
        database_file.parent.mkdir(parents=True, exist_ok=True)
        private_file(database_file)
    # SQLite is the embedded default: make concurrent readers and the worker behave.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": HI_DB_LOCK_WAIT_S,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The test database is a file (worker tests run `hi_worker` in other processes against it),
    # named per test process so that a crashed run's leftovers never collide with the next.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"hi-test-{os.getpid()}-{secrets.token_hex(4)}.sqlite3")
    }
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c lock_timeout={int(HI_DB_LOCK_WAIT_S * 1000)}".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes, in the database so that every web process shares it): after
# HI_LOGIN_FAILURE_LIMIT failed logins for one username, or from one address, logging in is paused for
# HI_LOGIN_LOCKOUT_MINUTES. Unlock sooner with `manage.py axes_reset_username <name>` / `axes_reset_ip <address>`.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("HI_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("HI_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Only failures are kept (and only for the cool-off): a row per successful login would grow forever.
AXES_DISABLE_ACCESS_LOG = True
AXES_CLIENT_IP_CALLABLE = "hi.workspaces.logins.client_ip"
AXES_LOCKOUT_CALLABLE = "hi.workspaces.logins.locked_out"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("HI_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("HI_STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the source folders so the embedded default needs no collectstatic.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = HI_HTTPS
CSRF_COOKIE_SECURE = HI_HTTPS
SECURE_SSL_REDIRECT = HI_HTTPS and env_bool("HI_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("HI_HSTS_SECONDS", "31536000")) if HI_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HI_HTTPS
SECURE_HSTS_PRELOAD = HI_HTTPS
if HI_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HI_LOG_LEVEL", "INFO")},
    # axes.apps only says it started; axes' lockout warnings (axes.handlers) stay.
    "loggers": {"django.server": {"level": "WARNING"}, "axes.apps": {"level": "WARNING"}},
}
