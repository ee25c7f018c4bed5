"""Settings per environment, every value read from environment variables."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _flag(name: str, default: bool | None) -> bool | None:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'collab.db'}"
    )
    # PostgreSQL's plan_cache_mode for the app's connections (empty: the server's default, auto).
    POSTGRES_PLAN_CACHE_MODE = os.environ.get("POSTGRES_PLAN_CACHE_MODE", "force_generic_plan")
    # Apply Alembic migrations when the app starts (the embedded default wants this).
    AUTO_MIGRATE = _flag("AUTO_MIGRATE", True)
    ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL") or None
    SEARCH_INDEX_PREFIX = os.environ.get("SEARCH_INDEX_PREFIX", "collab")
    # Write search outbox rows: unset = only when ELASTICSEARCH_URL is set (database-only mode has
    # nothing to drain them, so it writes none); on/off to force.
    SEARCH_OUTBOX = _flag("SEARCH_OUTBOX", None)
    # Drain the search outbox after each commit in a background thread (dev and embedded).
    SEARCH_SYNC_IN_PROCESS = _flag("SEARCH_SYNC_IN_PROCESS", True)
    # Sentence embeddings of created or edited threads (collab/similarity/vectors.py): computed
    # after the commit in a worker thread (background), in the request (inline), or left to the
    # indexer and `flask search embed` (off).
    SIMILARITY_EMBED_ON_WRITE = os.environ.get("SIMILARITY_EMBED_ON_WRITE", "background")
    JSON_SORT_KEYS = False
    # Seconds a user whose request to join was rejected waits before asking again (7 days).
    MEMBERSHIP_REQUEST_COOLDOWN = int(os.environ.get("MEMBERSHIP_REQUEST_COOLDOWN", 7 * 24 * 3600))
    # Request bodies (collab/json_body.py): bytes (413 beyond, streamed bodies too), nesting
    # depth, and digits of an integer.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_REQUEST_BYTES", 1024 * 1024))
    JSON_MAX_DEPTH = int(os.environ.get("JSON_MAX_DEPTH", 32))
    JSON_MAX_INT_DIGITS = int(os.environ.get("JSON_MAX_INT_DIGITS", 20))
    # API tokens: lifetime, and how many one user may be issued per window (429 beyond).
    # Knowledge freshness: an accepted answer unchecked for this long, in a thread read within the
    # read window, needs review (collab/freshness).
    FRESHNESS_REVIEW_AFTER_DAYS = int(os.environ.get("FRESHNESS_REVIEW_AFTER_DAYS", 180))
    FRESHNESS_READ_WINDOW_DAYS = int(os.environ.get("FRESHNESS_READ_WINDOW_DAYS", 30))
    TOKEN_LIFETIME_DAYS = int(os.environ.get("TOKEN_LIFETIME_DAYS", 90))
    TOKEN_ISSUE_LIMIT = int(os.environ.get("TOKEN_ISSUE_LIMIT", 10))
    # Moderation: this many independent flags from trusted members (active members for at least
    # MODERATION_TRUSTED_MEMBER_DAYS, or staff) hide content pending review.
    MODERATION_HIDE_THRESHOLD = int(os.environ.get("MODERATION_HIDE_THRESHOLD", 3))
    MODERATION_TRUSTED_MEMBER_DAYS = int(os.environ.get("MODERATION_TRUSTED_MEMBER_DAYS", 7))
    TOKEN_ISSUE_WINDOW_SECONDS = int(os.environ.get("TOKEN_ISSUE_WINDOW_SECONDS", 3600))
    # Webhooks: send deliveries in a thread of the web process (development), retry policy.
    WEBHOOKS_DELIVER_IN_PROCESS = _flag("WEBHOOKS_DELIVER_IN_PROCESS", False)
    WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "10"))
    WEBHOOK_RETRY_MAX_SECONDS = float(os.environ.get("WEBHOOK_RETRY_MAX_SECONDS", "3600"))
    WEBHOOK_RETRY_WINDOW_SECONDS = float(os.environ.get("WEBHOOK_RETRY_WINDOW_SECONDS", "86400"))
    WEBHOOK_DISABLE_AFTER_FAILURES = int(os.environ.get("WEBHOOK_DISABLE_AFTER_FAILURES", "50"))
    OAUTH2_TOKEN_EXPIRES_IN_SECONDS = int(os.environ.get("OAUTH2_TOKEN_EXPIRES_IN_SECONDS", "3600"))
    IDEMPOTENCY_TTL_SECONDS = float(os.environ.get("IDEMPOTENCY_TTL_SECONDS", "86400"))
    IDEMPOTENCY_WAIT_SECONDS = float(os.environ.get("IDEMPOTENCY_WAIT_SECONDS", "10"))
    # Rate limits ("<n> per <second|minute|hour>"); Redis shares counters between processes.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    RATELIMIT_READS = os.environ.get("RATELIMIT_READS", "600 per minute")
    RATELIMIT_WRITES = os.environ.get("RATELIMIT_WRITES", "120 per minute")
    RATELIMIT_SEARCH = os.environ.get("RATELIMIT_SEARCH", "60 per minute")
    RATELIMIT_TOKEN_ISSUE = os.environ.get("RATELIMIT_TOKEN_ISSUE", "10 per minute")
    RATELIMIT_FAILED_AUTH = os.environ.get("RATELIMIT_FAILED_AUTH", "20 per minute")
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
    # Webhook URLs resolving to loopback/private/link-local/reserved addresses (SSRF): refused
    # unless on (development and tests, whose receivers listen on localhost).
    WEBHOOK_ALLOW_PRIVATE_TARGETS = _flag("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
    # Expired idempotency keys are purged at most this often by a keyed write (0: only the CLI).
    IDEMPOTENCY_PURGE_INTERVAL_SECONDS = float(
        os.environ.get("IDEMPOTENCY_PURGE_INTERVAL_SECONDS", "3600"))

    API_TITLE = "collab"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    # The swagger-ui assets are served by the app itself (collab/apidocs.py), never from a CDN.


class DevelopmentConfig(Config):
    DEBUG = True
    WEBHOOKS_DELIVER_IN_PROCESS = _flag("WEBHOOKS_DELIVER_IN_PROCESS", True)
    WEBHOOK_ALLOW_PRIVATE_TARGETS = _flag("WEBHOOK_ALLOW_PRIVATE_TARGETS", True)


class TestingConfig(Config):
    TESTING = True
    SEARCH_SYNC_IN_PROCESS = _flag("SEARCH_SYNC_IN_PROCESS", False)
    WEBHOOK_ALLOW_PRIVATE_TARGETS = _flag("WEBHOOK_ALLOW_PRIVATE_TARGETS", True)


class ProductionConfig(Config):
    AUTO_MIGRATE = _flag("AUTO_MIGRATE", False)
    SEARCH_SYNC_IN_PROCESS = _flag("SEARCH_SYNC_IN_PROCESS", False)


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for_environment() -> type[Config]:
    """Pick the settings class from COLLAB_ENV (development by default)."""
    return CONFIGS[os.environ.get("COLLAB_ENV", "development")]
