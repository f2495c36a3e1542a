"""Settings for the contact center, read from the environment.

With nothing set, embedded defaults serve a single-process demo: SQLite,
Channels' in-memory layer and Celery tasks run by a worker thread inside the
web process (see ``manage.py runcenter``). Setting ``DATABASE_URL`` and
``REDIS_URL`` switches to the production shape: Postgres through psycopg 3,
channels-redis, and a real Celery worker and beat. Production differs from
development only by environment.
"""

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


def envsecret(name: str, default=None):
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


EMBEDDED = not env.str("DATABASE_URL", default="")
DEBUG = env.bool("DEBUG", default=EMBEDDED)


def _secret_key() -> str:
    key = envsecret("SECRET_KEY")
    if key:
        return key
    if not (DEBUG or EMBEDDED):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: one random key per checkout, so sessions survive restarts
    # without anyone committing a key.
    VAR_DIR.mkdir(exist_ok=True)
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "apps.core",
    "apps.telnyx",
    "apps.calls",
    "apps.numbers",
    "apps.ivr",
    "apps.agents",
    "apps.queues",
    "apps.recordings",
    "apps.analytics",
    "apps.sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "contactcenter.urls"
WSGI_APPLICATION = "contactcenter.wsgi.application"
ASGI_APPLICATION = "contactcenter.asgi.application"

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
                "apps.core.context_processors.roles",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
if EMBEDDED:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                # The demo runs web, worker and sandbox threads in one process;
                # WAL plus IMMEDIATE transactions make SQLite serialise writers
                # instead of failing with "database is locked".
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
else:
    DATABASES = {"default": env.db("DATABASE_URL")}
    # Lets parallel test runs on one server keep separate test databases.
    if env.str("TEST_DATABASE_NAME", default=""):
        DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}
    if env.bool("DATABASE_POOL", default=True):
        # Under ASGI every request runs its sync code in a fresh thread, and a
        # persistent connection per thread would exhaust Postgres. A bounded
        # psycopg pool per process is shared by those threads (and by the
        # worker's). Django requires CONN_MAX_AGE=0 with it.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=12),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles" if env.bool("STATIC_MANIFEST", default=not DEBUG) else None
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production images run collectstatic and serve hashed, compressed files.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
# Recordings and voicemail go to the default storage; it is never served
# publicly (apps/recordings streams files to those allowed). Local disk unless
# an S3 bucket is configured (django-storages; `pip install ".[s3]"`), in
# which case objects are private and never get a public URL.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "access_key": envsecret("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": envsecret("AWS_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": "private",
            "file_overwrite": False,
            "location": env.str("AWS_LOCATION", default=""),
        },
    }
else:
    _MEDIA_STORAGE = {
        "BACKEND": env.str("DEFAULT_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": {} if env.str("DEFAULT_FILE_STORAGE", default="") else {"location": str(VAR_DIR / "media")},
    }
STORAGES = {
    "default": _MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}
# Without collectstatic (development, tests) WhiteNoise serves from the source dirs.
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# --- Redis, Channels, cache -------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # A consumer waits for messages with a blocking BZPOPMIN of 5 s.
                # redis-py 8 gives up reading a socket after 5 s by default, so an
                # idle websocket's consumer died with TimeoutError; a finite timeout
                # above 5 s left the receive of a closed socket's consumer running
                # (uvicorn then waited for it forever at shutdown). No socket
                # timeout, as before redis-py 8, is what channels-redis expects.
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "prefix": env.str("CHANNELS_PREFIX", default="cc"),
                "capacity": 1000,
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "apps.core.realtime.ThreadSafeInMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Tasks are idempotent, so a task lost with its worker is run again rather
# than dropped.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
# A webhook view must answer fast even when Redis is down: publishing fails at
# once and the periodic sweep picks the stored event up when Redis returns.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    # Only the in-process memory broker polls; the default 1 s would add a
    # second to every hop of the embedded demo.
    "polling_interval": 0.01,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Two queues. "celery" holds the work on our own data (webhook events,
# routing, ticks): short, CPU and database bound, best run one task at a
# time per process (the solo pool), more processes for more. "telnyx" holds the requests to Telnyx's API (commands, number
# orders, lookups, recording downloads): they mostly wait on the network, so
# that worker runs many threads, and a slow API never holds up event
# processing. A worker started without -Q consumes both; docker-compose.yml
# runs one worker per queue.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery", routing_key="celery"), Queue("telnyx", routing_key="telnyx"))
CELERY_TASK_ROUTES = {
    name: {"queue": "telnyx"}
    for name in (
        "apps.telnyx.tasks.telnyx_command_send",
        "apps.numbers.tasks.number_job_run",
        "apps.numbers.tasks.caller_name_lookup",
        "apps.recordings.tasks.recording_fetch",
    )
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "telnyx-events-sweep": {"task": "apps.telnyx.tasks.telnyx_events_sweep", "schedule": 15.0},
    "telnyx-commands-sweep": {"task": "apps.telnyx.tasks.telnyx_commands_sweep", "schedule": 15.0},
    # Number orders, releases and imports whose task was lost: queued again.
    "numbers-jobs-sweep": {"task": "apps.numbers.tasks.number_jobs_sweep", "schedule": 30.0},
    # Routing's safety net and clock: lost offers, wrap-up ends, queue announcements, dispatch.
    "queues-tick": {"task": "apps.queues.tasks.queues_tick", "schedule": env.float("QUEUES_TICK_SECONDS", default=2.0)},
}

# --- Telnyx -----------------------------------------------------------------
TELNYX_API_KEY = envsecret("TELNYX_API_KEY", default="")
TELNYX_PUBLIC_KEY = env.str("TELNYX_PUBLIC_KEY", default="")
TELNYX_API_BASE_URL = env.str("TELNYX_API_BASE_URL", default="https://api.telnyx.com/v2").rstrip("/")
TELNYX_CONNECTION_ID = env.str("TELNYX_CONNECTION_ID", default="")
TELNYX_WEBHOOK_TOLERANCE_SECONDS = env.int("TELNYX_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Each web process queues event processing at most once per window, in one
# task for all events stored meanwhile (apps.telnyx.services._EventBatcher);
# 0 sends one task per event.
TELNYX_EVENT_BATCH_WINDOW_MS = env.int("TELNYX_EVENT_BATCH_WINDOW_MS", default=40)
# Telnyx's command-retries page: retry when no answer came within 500 ms.
TELNYX_COMMAND_TIMEOUT_SECONDS = env.float("TELNYX_COMMAND_TIMEOUT_SECONDS", default=0.5)
TELNYX_COMMAND_MAX_ATTEMPTS = env.int("TELNYX_COMMAND_MAX_ATTEMPTS", default=4)
# True when TELNYX_API_BASE_URL points at the built-in sandbox; enables the
# sandbox-only controls (e.g. answering a simulated agent leg from the browser).
TELNYX_SANDBOX = env.bool("TELNYX_SANDBOX", default=False)
TELNYX_SANDBOX_URL = env.str("TELNYX_SANDBOX_URL", default="")

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contact Center API",
    "DESCRIPTION": "REST API of the open-source contact center on the Telnyx Voice API.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models call their choices Status/Outcome/Kind: name each set once.
    "ENUM_NAME_OVERRIDES": {
        "CallStatusEnum": "apps.calls.models.Call.Status",
        "CallOutcomeEnum": "apps.calls.models.Call.Outcome",
        "CallDirectionEnum": "apps.calls.models.Call.Direction",
        "PhoneNumberStatusEnum": "apps.numbers.models.PhoneNumber.Status",
        "PhoneNumberRouteEnum": "apps.numbers.models.PhoneNumber.Route",
        "NumberJobKindEnum": "apps.numbers.models.NumberJob.Kind",
        "NumberJobStatusEnum": "apps.numbers.models.NumberJob.Status",
        "QueueEntryStatusEnum": "apps.queues.models.QueueEntry.Status",
        "QueueEntryKindEnum": "apps.queues.models.QueueEntry.Kind",
        "QueueStrategyEnum": "apps.queues.models.Queue.Strategy",
        "QueueOverflowEnum": "apps.queues.models.Queue.Overflow",
        "OfferStatusEnum": "apps.queues.models.Offer.Status",
        "OfferKindEnum": "apps.queues.models.Offer.Kind",
        "TransferModeEnum": "apps.queues.models.Transfer.Mode",
        "TransferTargetEnum": "apps.queues.models.Transfer.Target",
        "TransferStatusEnum": "apps.queues.models.Transfer.Status",
        "AgentStatusEnum": "apps.agents.models.Agent.Status",
        "AgentEndpointEnum": "apps.agents.models.Agent.Endpoint",
        "RecordingStatusEnum": "apps.recordings.models.Recording.Status",
        "VoicemailStatusEnum": "apps.recordings.models.Voicemail.Status",
        "VoicemailCallbackStatusEnum": "apps.recordings.models.VoicemailCallback.Status",
        "IvrNodeKindEnum": "apps.ivr.models.IvrNode.Kind",
        "IvrStepOutcomeEnum": "apps.ivr.models.IvrStep.Outcome",
    },
}

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "aiohttp.access": {"level": "WARNING"},
        "uvicorn.access": {"level": "WARNING"},
    },
}

# Text-to-speech defaults for prompts that do not choose their own.
TELNYX_DEFAULT_VOICE = env.str("TELNYX_DEFAULT_VOICE", default="Telnyx.KokoroTTS.af")
TELNYX_DEFAULT_LANGUAGE = env.str("TELNYX_DEFAULT_LANGUAGE", default="en-US")
