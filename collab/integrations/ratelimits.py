"""Rate limits: per token for reads and for writes, per IP for failed authentication, stricter
for search and token issuance; `RateLimit-*` headers; 429 with `Retry-After` as problem+json.

Memory storage by default (one process); with `REDIS_URL` every process shares the counters.
Limits are read from the configuration on each request, so they change with the environment.

The limits are few and fixed, so one before-request hook checks them on the `limits` library's
storage and fixed-window strategy (what Flask-Limiter runs underneath): Flask-Limiter's
per-request resolution of decorated, default and exempt limits was about a fifth of the CPU of a
GET /me (issue 13). Counters, keys per caller and headers are as they were.
"""
import logging
import threading
import time as clock
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, Response, current_app, g, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string

from collab.errors import TooManyRequests, problem

log = logging.getLogger(__name__)
EXTENSION = "collab_limiter"
PREFIX = "collab"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Endpoints under their own, stricter limit (besides the read/write budget).
STRICT = {
    "search.search": "RATELIMIT_SEARCH",
    "search.suggest": "RATELIMIT_SEARCH",
    "search.related": "RATELIMIT_SEARCH",
    "search.similar_ideas": "RATELIMIT_SEARCH",
    "oauth.token": "RATELIMIT_TOKEN_ISSUE",
    "people.issue_token": "RATELIMIT_TOKEN_ISSUE",
}
DEFAULTS = {
    "RATELIMIT_READS": "600 per minute",
    "RATELIMIT_WRITES": "120 per minute",
    "RATELIMIT_SEARCH": "60 per minute",
    "RATELIMIT_TOKEN_ISSUE": "10 per minute",
    "RATELIMIT_FAILED_AUTH": "20 per minute",
}
# What the test suite uses so that only the rate-limit tests are ever throttled.
UNTHROTTLED = {name: "1000000 per minute" for name in DEFAULTS}


class _MemoryStorage(MemoryStorage):
    """limits' memory storage, counting a hit in one step: one lock, one clock read, and expired
    counters dropped at most once a second in the counting thread.

    limits' own increment read, expired and locked each key apart, answered its expiry with another
    call, and started a cleanup thread on nearly every hit (10 ms after the last one ended): about
    a tenth of a GET /me's CPU. The counts, windows and `reset()` are the same (fixed windows that
    start at a key's first hit).
    """

    STORAGE_SCHEME = ["collab-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._counting = threading.Lock()
        self._swept_at = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:
        return None  # swept by counted()

    def counted(self, key: str, expiry: float) -> tuple[int, float]:
        """Count one hit on `key`: (hits in its window, when the window ends)."""
        now = clock.time()
        counts, expirations = self.storage, self.expirations
        with self._counting:
            if now - self._swept_at >= self.SWEEP_SECONDS:
                self._swept_at = now
                for expired in [k for k, at in expirations.items() if at <= now]:
                    counts.pop(expired, None)
                    expirations.pop(expired, None)
                    self.locks.pop(expired, None)
            ends = expirations.get(key, 0)
            if ends <= now:
                counts[key] = 0
                ends = expirations[key] = now + expiry
            count = counts[key] = counts[key] + 1
        return count, ends

    def reset(self) -> int | None:
        with self._counting:
            return super().reset()


@dataclass
class RateLimits:
    """The counters (`limits` storage), counted in fixed windows."""

    storage: Storage

    def hit(self, item: RateLimitItem, *identifiers: str) -> tuple[bool, int, int]:
        """Count one hit: (allowed, remaining, seconds until the window resets). What the
        fixed-window strategy's hit and window stats answer, from the count the increment
        returns (one storage read fewer)."""
        key = item.key_for(PREFIX, *identifiers)
        if isinstance(self.storage, _MemoryStorage):
            count, reset_at = self.storage.counted(key, item.get_expiry())
        else:
            count = self.storage.incr(key, item.get_expiry())
            reset_at = self.storage.get_expiry(key)
        return count <= item.amount, max(0, item.amount - count), max(0, int(reset_at - clock.time()))

    def reset(self) -> None:
        """Forget every counter (tests)."""
        self.storage.reset()


@lru_cache(maxsize=64)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


def _caller(req, context) -> str:
    """The token (hashed: authentication's hash of it) when authenticated, else the client's
    address."""
    token_hash = context.get("token_hash")
    if token_hash is not None:
        return "token:" + token_hash[:24]
    return "ip:" + (req.remote_addr or "unknown")


def _check() -> None:
    """The caller's read or write budget, then the endpoint's stricter limit if it has one; the
    first one exceeded answers 429. Runs after authentication (limits are per token)."""
    # One lookup per context proxy: each attribute of a proxy looks its context up again.
    context, req = g._get_current_object(), request._get_current_object()
    app = current_app._get_current_object()
    context.pop("rate_limit", None)  # an app context may outlive a request (a CLI's test client)
    config = app.config
    endpoint = req.endpoint
    if endpoint is None or not config.get("RATELIMIT_ENABLED", True):
        return
    limits: RateLimits = app.extensions[EXTENSION]
    caller = _caller(req, context)
    budget = "read" if req.method in READ_METHODS else "write"
    checks = [(config["RATELIMIT_READS" if budget == "read" else "RATELIMIT_WRITES"], budget)]
    strict = STRICT.get(endpoint)
    if strict is not None:
        checks.append((config[strict], strict))
    for text, scope in checks:
        item = _limit(text)
        try:
            allowed, remaining, reset_in = limits.hit(item, caller, scope)
        except Exception:  # the storage (Redis) is down: serve rather than fail
            log.exception("rate limit storage failed; request not limited")
            return
        context.rate_limit = (item.amount, remaining, reset_in)
        if not allowed:
            raise TooManyRequests(f"Rate limit exceeded: {item}.", retry_after=reset_in)


def _headers(response: Response) -> Response:
    """RateLimit-* headers of the limit checked last; 401s count against the address, and past
    their limit answer 429 instead (guessing tokens)."""
    if response.status_code == 401 and current_app.config.get("RATELIMIT_ENABLED", True):
        limits: RateLimits = current_app.extensions[EXTENSION]
        item = _limit(current_app.config["RATELIMIT_FAILED_AUTH"])
        try:
            allowed, remaining, reset_in = limits.hit(
                item, request.remote_addr or "unknown", "failed-auth")
        except Exception:
            log.exception("rate limit storage failed; request not limited")
            return response
        if not allowed:
            response = problem(429, "Too many requests",
                               "Too many failed authentication attempts from this address.",
                               "too-many-requests")
            response.headers["Retry-After"] = str(max(1, reset_in))
        g.rate_limit = (item.amount, remaining, reset_in)
    counted = g.pop("rate_limit", None)
    if counted is not None:
        amount, remaining, reset_in = counted
        headers = response.headers
        headers["RateLimit-Limit"] = str(amount)
        headers["RateLimit-Remaining"] = str(remaining)
        headers["RateLimit-Reset"] = str(reset_in)
    return response


def init_app(app: Flask) -> None:
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "collab-memory://")
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions[EXTENSION] = RateLimits(storage)
    app.before_request(_check)  # registered after authentication's hook, so it runs after it
    # Run last, after every other hook changed the response.
    app.after_request_funcs.setdefault(None, []).insert(0, _headers)
