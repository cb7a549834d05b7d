"""Configuration classes, read from the environment.

`create_app()` picks one by `APP_ENV` (development | testing | production).
Every variable is documented in README.md.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_list(name: str, default: str) -> tuple[str, ...]:
    return tuple(item.strip().upper() for item in os.environ.get(name, default).split(",") if item.strip())


def database_url(url: str | None) -> str:
    """Normalise a database URL: plain `postgresql://` URLs use psycopg 3."""
    if not url:
        return f"sqlite:///{BASE_DIR / 'instance' / 'marketplace.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-secret-key")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    #: SQLite: how long a transaction that may write waits for the write lock (then 503 `database_busy`).
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", 15000))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 1024 * 1024))
    JSON_SORT_KEYS = False

    # OpenAPI / flask-smorest
    API_TITLE = "Buy BRICS marketplace API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"

    # Locales and money
    SUPPORTED_LOCALES = ("en", "pt", "ru", "hi", "zh", "ar", "fa", "id", "am")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    SUPPORTED_CURRENCIES = _env_list("SUPPORTED_CURRENCIES", "BRL,RUB,INR,CNY,ZAR,EGP,ETB,IRR,AED,IDR,USD,EUR")
    BASE_CURRENCY = os.environ.get("BASE_CURRENCY", "USD").upper()
    FX_STALE_AFTER_HOURS = int(os.environ.get("FX_STALE_AFTER_HOURS", 96))

    # Vendors
    ELIGIBLE_COUNTRIES = _env_list("ELIGIBLE_COUNTRIES", "BR,RU,IN,CN,ZA,EG,ET,IR,AE,ID")

    # Accounts
    PASSWORD_HASH_METHOD = "scrypt"
    ACCESS_TOKEN_TTL = timedelta(seconds=int(os.environ.get("ACCESS_TOKEN_TTL_SECONDS", 3600)))
    #: Every login attempt from one client address.
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per minute")
    #: Failed logins for one account from one address: then that address may not log in to it for a while.
    LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS",
                                                         "5 per minute; 20 per hour")
    #: Failed logins for one account from all addresses together (several addresses are needed to reach it).
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "100 per hour")
    #: Every sign-up attempt from one client address.
    REGISTER_LIMIT_PER_ADDRESS = os.environ.get("REGISTER_LIMIT_PER_ADDRESS", "10 per hour")

    # Rate limiting (Flask-Limiter): counters shared by every process of this host (a SQLite file) unless
    # set; several hosts share Redis (redis://host:6379/0). `memory://` counts per process.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or f"sqlite:///{BASE_DIR / 'instance' / 'ratelimit.db'}"
    #: How many proxies of ours stand before the app (each appends to X-Forwarded-For); 0 ignores the header.
    RATELIMIT_TRUSTED_PROXIES = int(os.environ.get("RATELIMIT_TRUSTED_PROXIES", 0))
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = True

    # Pagination
    MAX_PER_PAGE = 100

    # Checkout and payments
    PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "manual")
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
    PLATFORM_COMMISSION_RATE = os.environ.get("PLATFORM_COMMISSION_RATE", "0.08")
    RESERVATION_MINUTES = int(os.environ.get("RESERVATION_MINUTES", 30))
    IDEMPOTENCY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_TTL_HOURS", 48))
    #: Returns: days a vendor has to approve or reject a return request before it escalates to a dispute.
    RETURN_ANSWER_DAYS = float(os.environ.get("RETURN_ANSWER_DAYS", 2))

    # Partner API (marketplace/partners)
    PARTNER_RATE_LIMIT = os.environ.get("PARTNER_RATE_LIMIT", "600 per minute")
    PARTNER_SYNC_MAX_BYTES = int(os.environ.get("PARTNER_SYNC_MAX_BYTES", 16 * 1024 * 1024))
    PARTNER_JOB_MAX_BYTES = int(os.environ.get("PARTNER_JOB_MAX_BYTES", 256 * 1024 * 1024))
    PARTNER_JOB_MAX_LINES = int(os.environ.get("PARTNER_JOB_MAX_LINES", 100_000))
    PARTNER_JOB_CHUNK = int(os.environ.get("PARTNER_JOB_CHUNK", 1000))
    #: Hold changes back from the listing feed until they are this old (0: as soon as they commit).
    PARTNER_FEED_SETTLE_SECONDS = int(os.environ.get("PARTNER_FEED_SETTLE_SECONDS", 0))
    PARTNER_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("PARTNER_WEBHOOK_TIMEOUT_SECONDS", 5))
    PARTNER_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("PARTNER_WEBHOOK_MAX_ATTEMPTS", 10))
    PARTNER_WEBHOOK_BACKOFF_SECONDS = int(os.environ.get("PARTNER_WEBHOOK_BACKOFF_SECONDS", 60))
    PARTNER_WEBHOOK_BACKOFF_CAP_SECONDS = int(os.environ.get("PARTNER_WEBHOOK_BACKOFF_CAP_SECONDS", 3600))
    #: On-premise installs only: webhooks may also reach private, unique-local, CGNAT and reserved addresses.
    PARTNER_WEBHOOK_ALLOW_PRIVATE = os.environ.get("PARTNER_WEBHOOK_ALLOW_PRIVATE", "0") == "1"

    # Search
    SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "embedded")
    SEARCH_INDEX_DIR = os.environ.get("SEARCH_INDEX_DIR", str(BASE_DIR / "instance" / "search"))
    #: SEARCH_BACKEND=tantivy (opt-in): its index directory; empty: `tantivy/` inside SEARCH_INDEX_DIR.
    TANTIVY_INDEX_DIR = os.environ.get("TANTIVY_INDEX_DIR", "")
    ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    ELASTICSEARCH_INDEX = os.environ.get("ELASTICSEARCH_INDEX", "buybrics-products")
    #: Rendered search answers kept per process (0 turns the cache off).
    SEARCH_CACHE_SIZE = int(os.environ.get("SEARCH_CACHE_SIZE", 2048))
    #: How often (seconds) a process asks whether campaigns changed, for its search answer cache.
    SEARCH_PRICING_RECHECK_SECONDS = float(os.environ.get("SEARCH_PRICING_RECHECK_SECONDS", 1.0))
    #: Deliver outbox events right after each committing request (the default with the engines on local
    #: files, embedded and tantivy: a request reads its own write).
    OUTBOX_DRAIN_INLINE = os.environ.get("OUTBOX_DRAIN_INLINE",
                                         "1" if SEARCH_BACKEND in ("embedded", "tantivy") else "0") == "1"


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")
    RATELIMIT_STORAGE_URI = "memory://"
    PARTNER_FEED_SETTLE_SECONDS = 0
    SEARCH_PRICING_RECHECK_SECONDS = 0.0  # tests change campaigns and search at once (see test_search_cache)
    # Still scrypt, with a small work factor: the suite creates thousands of accounts.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")

    @classmethod
    def check(cls) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"Production needs these environment variables: {', '.join(missing)}")


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}


def config_for_env() -> type[Config]:
    name = os.environ.get("APP_ENV", "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
