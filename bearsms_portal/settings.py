"""BearSMS Portal settings: everything comes from the environment (django-environ).

With nothing set, the portal runs on an embedded default: SQLite and the Celery filesystem
transport under ``var/``, the built-in BearSMS sandbox, and secrets generated once into ``var/``.
Importing the settings creates no file or folder: the commands that need the embedded state
(``migrate``, ``runsandbox``, the Celery worker and beat, the test run) create it through
:func:`bearsms_portal.embedded.prepare`.
``DEBUG=0`` is the production profile: secrets must be given explicitly and the security
settings below make ``manage.py check --deploy`` pass without warnings.
"""

from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from bearsms_portal import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)

# Secrets this process generated because neither the environment nor VAR_DIR held them yet;
# embedded.prepare() saves them so that every later process reads the same ones.
EMBEDDED_SECRETS_GENERATED: dict[str, str] = {}


def _embedded_secret(name: str) -> str:
    """Return the secret from the environment, or (embedded run only) the one kept in var/."""
    value = env(name, default="")
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG=0 (production profile).")
    return embedded.read_or_generate(VAR_DIR, name, EMBEDDED_SECRETS_GENERATED)


SECRET_KEY = _embedded_secret("SECRET_KEY")
# Comma-separated Fernet keys; the first encrypts, all decrypt (see README: key rotation).
FIELD_ENCRYPTION_KEY = _embedded_secret("FIELD_ENCRYPTION_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "bootstrap",
    "django_tables2",
    "django_filters",
    "axes",
    "bearsms_portal.apps.PortalConfig",
    "accounts",
    "messaging",
]  # + the built-in sandbox when SANDBOX_ENABLED (below)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.zones.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # the portal's styled 404 page with DEBUG=1 too
    "bearsms_portal.errorpages.PortalErrorPagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Cache-Control: no-store on every response to a signed-in user (pages and exports)
    "bearsms_portal.security.NoStoreWhenSignedInMiddleware",
]

ROOT_URLCONF = "bearsms_portal.urls"
WSGI_APPLICATION = "bearsms_portal.wsgi.application"

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
                "bearsms_portal.context_processors.portal",
            ],
            # the one set of display filters (dates, credit, words for codes) on every page
            "builtins": ["bearsms_portal.templatetags.portal_format"],
        },
    },
]

# --- Database ------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
_db = DATABASES["default"]
_test_name = env("TEST_DATABASE_NAME", default="")
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server, the worker and beat share the file.
    _db.setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file (not :memory:) so tests can share the database with worker processes they start.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"{_test_name or 'test'}.sqlite3")}
else:
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
    if _test_name:
        _db["TEST"] = {"NAME": _test_name}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared across processes: Redis when configured, else files under var/) ---------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bearsms",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth, sessions, login throttling ------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- I18N / time ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
DEFAULT_PHONE_REGION = env("DEFAULT_PHONE_REGION", default="US")

# --- Static files (Bootstrap comes from the django-bootstrap-static package) ----------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

# --- BearSMS ---------------------------------------------------------------------------------
# `make run` serves on RUN_ADDR (Procfile.dev): the embedded sandbox lives there too.
PORTAL_URL = env("PORTAL_URL", default=f"http://{env('RUN_ADDR', default='127.0.0.1:8000')}")
PORTAL_URL = PORTAL_URL.rstrip("/")
_bearsms_url = env("BEARSMS_URL", default="")
# With no BEARSMS_URL the portal talks to its own built-in sandbox, over real HTTP.
BEARSMS_URL = (_bearsms_url or f"{PORTAL_URL}/sandbox").rstrip("/")
# The built-in sandbox is installed (tables, admin, URLs, beat tick) only when enabled; the
# test settings (tests/settings.py) always enable it.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=not _bearsms_url)
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("bearsms_portal.sandbox")
SANDBOX_PROFILE = env("SANDBOX_PROFILE", default="documented")
SANDBOX_SEED = env.int("SANDBOX_SEED", default=0)  # replayable sandbox faults and outcomes
SANDBOX_TICK = env.float("SANDBOX_TICK", default=1.0)  # seconds between sandbox lifecycle ticks
# single switches over the profile's, e.g. {"credit_recalc": "all"} (JSON in the environment)
SANDBOX_SWITCHES = env.json("SANDBOX_SWITCHES", default={})
# faults per op ("*" for all), e.g. {"cr": {"http500": 0.5}} (JSON in the environment)
SANDBOX_FAULTS = env.json("SANDBOX_FAULTS", default={})
# how long a `hang` fault holds the request; unset: BEARSMS_TIMEOUT + 5 seconds
SANDBOX_HANG_SECONDS = env.float("SANDBOX_HANG_SECONDS", default=None)
# Load tests of the portal's sending path: pv checks its parameters and the account, answers
# each number with a fresh smslog_id and queue code, and queues nothing (nothing to dispatch,
# nothing in ds). The request log is kept. Never for a sandbox people look at.
SANDBOX_PV_ANSWER_ONLY = env.bool("SANDBOX_PV_ANSWER_ONLY", default=False)
# request-log entries the tick's housekeeping keeps
SANDBOX_REQUEST_LOG_KEEP = env.int("SANDBOX_REQUEST_LOG_KEEP", default=50_000)
BEARSMS_ADMIN_USERNAME = env("BEARSMS_ADMIN_USERNAME", default="admin")
if _bearsms_url:
    BEARSMS_ADMIN_TOKEN = env("BEARSMS_ADMIN_TOKEN", default="")
else:
    BEARSMS_ADMIN_TOKEN = _embedded_secret("BEARSMS_ADMIN_TOKEN")
BEARSMS_TIMEOUT = env.float("BEARSMS_TIMEOUT", default=15.0)
# The auth guard (bearsms_portal.bearsms.auth): the server blacklists the portal's IP after ~10
# failed authentications, so at most BEARSMS_AUTH_BUDGET failures per BEARSMS_AUTH_WINDOW
# seconds (for all accounts of the server together); a refused credential is probed again once
# after BEARSMS_AUTH_COOLDOWN seconds, doubling at each refusal up to BEARSMS_AUTH_COOLDOWN_MAX.
BEARSMS_AUTH_BUDGET = env.int("BEARSMS_AUTH_BUDGET", default=5)
BEARSMS_AUTH_WINDOW = env.float("BEARSMS_AUTH_WINDOW", default=600.0)
BEARSMS_AUTH_COOLDOWN = env.float("BEARSMS_AUTH_COOLDOWN", default=900.0)
BEARSMS_AUTH_COOLDOWN_MAX = env.float("BEARSMS_AUTH_COOLDOWN_MAX", default=4 * 3600.0)
# "Link now" attempts per account per LINK_ATTEMPTS_WINDOW seconds (each may be a failure).
LINK_ATTEMPTS = env.int("LINK_ATTEMPTS", default=3)
LINK_ATTEMPTS_WINDOW = env.float("LINK_ATTEMPTS_WINDOW", default=3600.0)
# The server's gateway_timezone and its PHP clock zone (playSMS stores ds times shifted by both).
BEARSMS_GATEWAY_TZ = env("BEARSMS_GATEWAY_TZ", default="+0700")
BEARSMS_SERVER_TZ = env("BEARSMS_SERVER_TZ", default="")
# Destinations joined in one `pv` request: 1 for playSMS 1.4.7/1.4.8, which take one `to` only.
BEARSMS_DESTINATIONS_PER_REQUEST = env.int("BEARSMS_DESTINATIONS_PER_REQUEST", default=1)
# Whether creditview follows every credit change at once, so a reading can settle a credit
# step whose answer was lost. An unpatched playSMS 1.4.8 refreshes only uid 1: leave it off.
# Unset: on only for the built-in sandbox in its "documented" profile (accounts.transfers).
BEARSMS_CREDIT_LIVE = env.bool("BEARSMS_CREDIT_LIVE", default=None)

# --- Celery ----------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    _broker_dir = VAR_DIR / "broker"  # created by embedded.prepare() (BROKER_FOLDERS)
    CELERY_BROKER_URL = "filesystem://localhost//"  # (a host named: kombu warns otherwise)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery-results'}"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Apps add their periodic tasks here (one entry each).
CELERY_BEAT_SCHEDULE: dict = {}
if SANDBOX_ENABLED:  # the sandbox's daemon duties: dispatch, delivery reports, incoming, credit
    CELERY_BEAT_SCHEDULE["sandbox-tick"] = {"task": "sandbox.tick", "schedule": SANDBOX_TICK}

# --- Messaging: the sync of ds/in/ix/sx into local tables (README: "Sync and messages") ------
SYNC_INTERVAL = env.int("SYNC_INTERVAL", default=15)  # seconds between pulls of one feed
SYNC_SWEEP_INTERVAL = env.int("SYNC_SWEEP_INTERVAL", default=300)  # late-row sweep, seconds
SYNC_SWEEP_MARGIN = env.int("SYNC_SWEEP_MARGIN", default=300)  # sweep overlap, seconds
SYNC_REFRESH_INTERVAL = env.int("SYNC_REFRESH_INTERVAL", default=60)  # status refresh, seconds
SYNC_STATUS_MAX_AGE = env.int("SYNC_STATUS_MAX_AGE", default=72 * 3600)  # stop refreshing after
SYNC_PAGE_SIZE = env.int("SYNC_PAGE_SIZE", default=5000)  # rows per ds/in/ix/sx request
SYNC_BATCH_SIZE = env.int("SYNC_BATCH_SIZE", default=2000)  # rows per upsert transaction
SYNC_LOCK_TTL = env.int("SYNC_LOCK_TTL", default=60)  # seconds; renewed while a pull runs
SYNC_BACKOFF_MAX = env.int("SYNC_BACKOFF_MAX", default=900)  # seconds, after repeated errors
SYNC_STALE_AFTER = env.int("SYNC_STALE_AFTER", default=600)  # healthz: lag that counts as down
# exports bigger than these run in the background (CSV streams ~150k rows/s, XLSX ~25k rows/s)
EXPORT_INLINE_MAX_ROWS = env.int("EXPORT_INLINE_MAX_ROWS", default=200_000)
EXPORT_INLINE_MAX_XLSX_ROWS = env.int("EXPORT_INLINE_MAX_XLSX_ROWS", default=10_000)
# background exports: queued or running at once per user; a running one with no progress for
# EXPORT_STALE_AFTER seconds (or queued for EXPORT_QUEUED_MAX) lost its worker: beat marks it
# failed (messaging.services.exports) and the user can try it again
EXPORTS_PER_USER = env.int("EXPORTS_PER_USER", default=2)
EXPORT_STALE_AFTER = env.int("EXPORT_STALE_AFTER", default=300)
EXPORT_QUEUED_MAX = env.int("EXPORT_QUEUED_MAX", default=3600)
CELERY_BEAT_SCHEDULE["messaging-export-sweep"] = {
    "task": "messaging.sweep_dead_exports",
    "schedule": env.float("EXPORT_SWEEP_TICK", default=60.0),
}
# --- Accounts: credit transfers (resumed after a crash) and the daily reconciliation ---------
CELERY_BEAT_SCHEDULE["credit-transfers-resume"] = {
    "task": "accounts.resume_transfers",
    "schedule": env.float("CREDIT_RESUME_TICK", default=30.0),
}
# --- Accounts: unknown outcomes settled by asking the server later (accounts.settling) -------
SETTLE_MARGIN = env.float("SETTLE_MARGIN", default=10.0)  # s after BEARSMS_TIMEOUT, then backoff
SETTLE_BACKOFF_MAX = env.float("SETTLE_BACKOFF_MAX", default=3600.0)
SETTLE_MAX_ATTEMPTS = env.int("SETTLE_MAX_ATTEMPTS", default=10)
CELERY_BEAT_SCHEDULE["accounts-settle-unknown"] = {
    "task": "accounts.settle_unknown",
    "schedule": env.float("SETTLE_TICK", default=15.0),
}
# Seconds a second POST with the same one-time form key waits for the first (accounts.idempotency)
FORM_KEY_WAIT = env.float("FORM_KEY_WAIT", default=30.0)
CELERY_BEAT_SCHEDULE["credit-reconcile"] = {
    "task": "accounts.credit_reconcile",
    "schedule": env.float("CREDIT_RECONCILE_INTERVAL", default=24 * 3600.0),
}
# E-mail (invitations, password reset): EMAIL_URL as django-environ reads it
# (smtp+tls://user:pass@host:587); unset, mails are printed on the console (make run).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="BearSMS Portal <portal@localhost>")
# Portal logins by invitation: the link is valid this long (hours).
INVITATION_HOURS = env.int("INVITATION_HOURS", default=72)
# --- Sending (README: "Sending") --------------------------------------------------------------
SEND_CONCURRENCY = env.int("SEND_CONCURRENCY", default=8)  # pv requests in flight per send
# What BearSMS charges per SMS segment (its rate table, which no API op reads): the credit
# pre-check before a send asks for segments × recipients × this against the known balance.
SEND_CREDIT_PER_SEGMENT = Decimal(env.str("SEND_CREDIT_PER_SEGMENT", default="1"))
SEND_RESOLVE_DELAY = env.int("SEND_RESOLVE_DELAY", default=30)  # s before ds is asked
SEND_RESOLVE_ATTEMPTS = env.int("SEND_RESOLVE_ATTEMPTS", default=20)  # ds look-ups per unknown
SEND_STALL_AFTER = env.int("SEND_STALL_AFTER", default=60)  # s without progress: resubmit
CELERY_BEAT_SCHEDULE["messaging-send-watchdog"] = {
    "task": "messaging.send_watchdog",
    "schedule": env.float("SEND_WATCHDOG_TICK", default=30.0),
}


# bulk sends from a file: upload size cap, rows per write transaction
BULK_UPLOAD_MAX_BYTES = env.int("BULK_UPLOAD_MAX_BYTES", default=50_000_000)
BULK_CHUNK = env.int("BULK_CHUNK", default=2000)
CELERY_BEAT_SCHEDULE["messaging-sync"] = {
    "task": "messaging.schedule_pulls",
    "schedule": env.float("SYNC_TICK", default=5.0),
}

# --- Logging: one formatter, secrets redacted everywhere -------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "bearsms_portal.logging.RedactSecretsFilter"},
        "quiet_forbidden": {"()": "bearsms_portal.logging.QuietForbidden"},
        "quiet_sandbox_requests": {"()": "bearsms_portal.logging.QuietSandboxRequests"},
    },
    "formatters": {
        "portal": {
            "()": "bearsms_portal.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(processName)s] %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "portal",
            "filters": ["quiet_sandbox_requests", "quiet_forbidden", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": LOG_LEVEL},
        "celery": {"level": LOG_LEVEL},
        # one line per task received/succeeded/scheduled is noise at a 5 s tick: WARNING
        "celery.app.trace": {"level": env("TASK_LOG_LEVEL", default="WARNING")},
        "celery.worker.strategy": {"level": env("TASK_LOG_LEVEL", default="WARNING")},
        "celery.beat": {"level": env("TASK_LOG_LEVEL", default="WARNING")},
        # runserver's request lines, through the portal's filters (sandbox API calls dropped)
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # django-axes writes four INFO lines per login; its records are in the database
        "axes": {"level": env("AXES_LOG_LEVEL", default="WARNING")},
        "urllib3": {"level": env("HTTP_LOG_LEVEL", default="WARNING")},
        "requests": {"level": env("HTTP_LOG_LEVEL", default="WARNING")},
    },
}

# --- Content-Security-Policy (django-csp), in both profiles ------------------------------------
# Scripts and styles come from the portal's own static files only: no template has an inline
# <script> or an on…= handler (tests/foundation/test_deploy_profile.py checks every page).
# Inline style attributes (progress bar widths) stay allowed. "Open in BearSMS" is a POST
# answered by a redirect to the server, so the server's origin is a form target too.
_bearsms_origin = "/".join(BEARSMS_URL.split("/")[:3])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", _bearsms_origin],
    }
}

# --- Production profile ----------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # The embedded sandbox is the portal's BearSMS server, asked over plain http on
    # PORTAL_URL: redirected to https, the client would see a 3xx ("blocked") for every call.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"] + ([r"^sandbox/"] if SANDBOX_ENABLED else [])
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
