"""Settings, 12-factor style: every deployment difference comes from the environment.

Unset variables give a development setup that needs nothing but Python: SQLite in WAL mode
under `var/`, an in-process channel layer and an in-memory Celery broker. Production sets
`DATABASE_URL`, `REDIS_URL`, `SECRET_KEY`, `ALLOWED_HOSTS`, `GATEWAY_SECRETS_KEYS` and
`DEBUG=false`; `manage.py check --deploy` is then clean.
"""

import os
import secrets
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("GATEWAY_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost", "[::1]"]),
    CORS_ALLOWED_ORIGINS=(list, []),
    CSRF_TRUSTED_ORIGINS=(list, []),
    GATEWAY_SECRETS_KEYS=(list, []),
    LOG_LEVEL=(str, "INFO"),
)
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(env_file)

DEBUG = env("DEBUG")


def _local_secret(name: str, make) -> str:
    """A development-only secret kept in `var/` so restarts keep sessions and encrypted rows."""
    if not DEBUG:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is false")
    path = VAR_DIR / name.lower()
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret(
    "SECRET_KEY", lambda: secrets.token_urlsafe(64)
)
# The first key encrypts, every key decrypts: prepend a new key to rotate, then re-encrypt.
GATEWAY_SECRETS_KEYS = env("GATEWAY_SECRETS_KEYS") or [
    _local_secret("GATEWAY_SECRETS_KEY", _fernet_key)
]
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CORS_ALLOWED_ORIGINS = env("CORS_ALLOWED_ORIGINS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS") or CORS_ALLOWED_ORIGINS

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "channels",
    "django_celery_beat",
    "auditlog",
    "exchanges",
    "orders",
    "marketdata",
    "portfolio",
    "risk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gateway_site.urls"
ASGI_APPLICATION = "gateway_site.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'gateway.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the connectors write while the web process reads; IMMEDIATE avoids lock upgrades.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def worker_redis_url(url: str, worker: str) -> str:
    """The Redis database of one pytest-xdist worker (`gw0` takes the next number after the
    URL's, `gw1` the one after): tests running side by side flush and fill their own cache,
    channel groups and request budgets, as pytest-django gives each its own test database."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + 1 + int(worker.removeprefix('gw'))}"))


REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER"):
    REDIS_URL = worker_redis_url(REDIS_URL, os.environ["PYTEST_XDIST_WORKER"])
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 5000, "expiry": 30},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    # No broker server: tasks run in the caller (beat runs embedded in run_gateway).
    CELERY_TASK_ALWAYS_EAGER = True
# Where venue request budgets are counted (exchanges.clients): with Redis every web, worker and
# connector process trading one account draws from one budget; without it, each process alone.
RATE_LIMIT_STORAGE_URL = REDIS_URL or "memory://"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

REST_FRAMEWORK = {
    # Token first: a request that carries a token is never taken for a session (no CSRF).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["gateway_site.api.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "gateway_site.api.pagination.GatewayCursorPagination",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "gateway_site.api.throttles.UserThrottle",
        "gateway_site.api.throttles.AnonThrottle",
    ],
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "gateway_site.api.schema.GatewaySchema",
    "EXCEPTION_HANDLER": "gateway_site.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
# Requests per user (or per client address when anonymous); `orders` is order entry's own.
API_THROTTLE_RATES = {
    "user": env.str("API_THROTTLE_USER", default="1200/min"),
    "anon": env.str("API_THROTTLE_ANON", default="120/min"),
    "orders": env.str("API_THROTTLE_ORDERS", default="300/min"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Crypto trading gateway API",
    "DESCRIPTION": (
        "Orders, fills, positions, balances and market data across Deribit, OKX and Bybit. "
        "Authenticate with `Authorization: Token <key>` (`manage.py drf_create_token <user>`). "
        'Decimals are strings. Every error is `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "VenueEnum": "exchanges.choices.Venue",
        "EnvironmentEnum": "exchanges.choices.Environment",
        "AccountPermissionEnum": "exchanges.choices.AccountPermission",
        "StreamKindEnum": "exchanges.choices.StreamKind",
        "StreamStateEnum": "exchanges.choices.StreamState",
        "OrderStatusEnum": "orders.choices.OrderStatus",
    },
}
CSRF_FAILURE_VIEW = "gateway_site.api.errors.csrf_failure"
AUDITLOG_INCLUDE_ALL_MODELS = False

# Production hardening, on whenever DEBUG is off; each can be turned off behind a TLS proxy.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Cross-venue arbitrage (marketdata.aggregation): an opportunity is recorded when its edge, net of
# both taker fees, is at least ARBITRAGE_MIN_EDGE_BPS. Taker rates default to each venue's base
# tier (aggregation.DEFAULT_TAKER_FEES); ARBITRAGE_TAKER_FEES overrides some, keyed
# "<venue>:spot" or "<venue>:derivatives": ARBITRAGE_TAKER_FEES=okx:derivatives=0.0004,bybit:spot=0.0008
ARBITRAGE_MIN_EDGE_BPS = Decimal(env.str("ARBITRAGE_MIN_EDGE_BPS", default="5"))
ARBITRAGE_TAKER_FEES = env.dict("ARBITRAGE_TAKER_FEES", default={})

# The market data service (marketdata/connectors, `run_connectors` or inside `run_gateway`), in
# seconds: how often it reloads exchanges and subscriptions from the database, writes each
# stream's ConnectorStatus, builds the consolidated books and looks for arbitrage, samples
# top-of-book into the database, writes the trades received; after how long without a book message a subscribed book is
# stale (dropped and resubscribed), and how often each book is compared with a REST snapshot.
CONNECTOR_RELOAD_SECONDS = env.float("CONNECTOR_RELOAD_SECONDS", default=5.0)
CONNECTOR_STATUS_SECONDS = env.float("CONNECTOR_STATUS_SECONDS", default=2.0)
CONSOLIDATION_SECONDS = env.float("CONSOLIDATION_SECONDS", default=0.5)
MARKETDATA_TOP_OF_BOOK_SECONDS = env.float("MARKETDATA_TOP_OF_BOOK_SECONDS", default=5.0)
MARKETDATA_TRADE_BATCH_SECONDS = env.float("MARKETDATA_TRADE_BATCH_SECONDS", default=1.0)
BOOK_STALE_SECONDS = env.float("BOOK_STALE_SECONDS", default=10.0)
BOOK_DRIFT_CHECK_SECONDS = env.float("BOOK_DRIFT_CHECK_SECONDS", default=60.0)
# The dead-man switch armed on every account's private stream (marketdata/connectors/private.py):
# OKX cancel-all-after with this timeout (10..120, refreshed every third of it), Bybit DCP with
# this window (3..300), Deribit cancel-on-disconnect (on while > 0); 0 leaves it off.
PRIVATE_DEAD_MAN_SWITCH_SECONDS = env.int("PRIVATE_DEAD_MAN_SWITCH_SECONDS", default=60)
# Prometheus scrapes /metrics with `Authorization: Bearer $METRICS_TOKEN`; unset, only loopback
# clients (a scraper on the same host) are answered.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Reconciliation (portfolio.reconciliation): an order still `pending_new` this many seconds
# after it was sent, which the venue does not know, is rejected as "not found on venue".
RECONCILIATION_PENDING_GRACE_SECONDS = env.float(
    "RECONCILIATION_PENDING_GRACE_SECONDS", default=60.0
)
# Scheduled risk checks (risk.monitor): a running stream silent this long is stale data; the
# same finding is written again at most once per repeat interval.
RISK_STALE_SECONDS = env.float("RISK_STALE_SECONDS", default=30.0)
RISK_FINDING_REPEAT_SECONDS = env.int("RISK_FINDING_REPEAT_SECONDS", default=3600)
# An open limit order priced more than this percent from the reference price is a finding.
RISK_FAR_ORDER_PCT = env.float("RISK_FAR_ORDER_PCT", default=10.0)
# how long the kill switch keeps repeating an account's cancel-all through rate limits and a
# venue that does not answer
KILL_SWITCH_CANCEL_SECONDS = env.float("KILL_SWITCH_CANCEL_SECONDS", default=30.0)

# Market data retention (marketdata.storage.prune, run hourly by Celery beat): days of trades,
# 1-minute candles and top-of-book samples kept; 0 keeps forever.
# MARKETDATA_RETENTION_DAYS=trades=30,candles=0,top_of_book=7
MARKETDATA_RETENTION_DAYS = {
    "trades": 30,
    "candles": 0,
    "top_of_book": 7,
    **{k: int(v) for k, v in env.dict("MARKETDATA_RETENTION_DAYS", default={}).items()},
}
if set(MARKETDATA_RETENTION_DAYS) != {"trades", "candles", "top_of_book"}:
    raise ImproperlyConfigured(
        "MARKETDATA_RETENTION_DAYS takes trades=, candles= and top_of_book= (days, 0 = forever)"
    )

# Where the demo exchanges point (the local simulator started by run_gateway / run_simulator).
SIMULATOR_HOST = env.str("SIMULATOR_HOST", default="127.0.0.1")
SIMULATOR_PORTS = {
    "deribit": env.int("SIMULATOR_PORT_DERIBIT", default=8801),
    "okx": env.int("SIMULATOR_PORT_OKX", default=8802),
    "bybit": env.int("SIMULATOR_PORT_BYBIT", default=8803),
}
