"""Rate limits (Flask-Limiter): per token for reads and for writes, per IP for failed
authentication, stricter for search and token issuance; `RateLimit-*` headers; 429 with
`Retry-After` as problem+json.

Memory storage by default (one process); with `REDIS_URL` every process shares the counters.
Limits are read from the configuration on each request, so they change with the environment.
"""
import hashlib
import threading
import time as clock

from flask import Flask, Response, current_app, g, request
from flask_limiter import HeaderNames, Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import MemoryStorage

from collab.errors import problem

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
    """limits' memory storage starts a cleanup thread on a hit whenever the last one ended
    (after 10 ms), i.e. on nearly every request; reads check expiry themselves, so cleaning up
    at most once a second keeps the same counts for a fraction of the cost."""

    STORAGE_SCHEME = ["collab-memory"]

    def _MemoryStorage__schedule_expiry(self) -> None:
        if not self.timer.is_alive():
            self.timer = threading.Timer(1.0, self._MemoryStorage__expire_events)
            self.timer.daemon = True
            self.timer.start()


def _caller() -> str:
    """The token (hashed) when authenticated, else the client's address."""
    header = request.headers.get("Authorization", "")
    if "user" in g and header:
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:24]
    return "ip:" + (get_remote_address() or "unknown")


def _is_read() -> bool:
    return request.method in ("GET", "HEAD", "OPTIONS")


def _budget_key() -> str:
    return f"{_caller()}:{'read' if _is_read() else 'write'}"


def _budget() -> str:
    return current_app.config["RATELIMIT_READS" if _is_read() else "RATELIMIT_WRITES"]


def _strict_key() -> str:
    return f"{_caller()}:{STRICT.get(request.endpoint, '')}"


def _strict_limit() -> str:
    return current_app.config[STRICT.get(request.endpoint, "RATELIMIT_SEARCH")]


def _failed_auth(response: Response) -> Response:
    """Count 401s per address; past the limit, answer 429 instead (guessing tokens)."""
    if response.status_code != 401:
        return response
    limiter: Limiter = current_app.extensions["collab_limiter"]
    item = parse(current_app.config["RATELIMIT_FAILED_AUTH"])
    key = get_remote_address() or "unknown"
    allowed = limiter.limiter.hit(item, "failed-auth", key)
    stats = limiter.limiter.get_window_stats(item, "failed-auth", key)
    reset_in = max(1, int(stats.reset_time - clock.time()))
    if not allowed:
        response = problem(429, "Too many requests",
                           "Too many failed authentication attempts from this address.",
                           "too-many-requests")
        response.headers["Retry-After"] = str(reset_in)
    response.headers["RateLimit-Limit"] = str(item.amount)
    response.headers["RateLimit-Remaining"] = str(stats.remaining)
    response.headers["RateLimit-Reset"] = str(reset_in)
    return response


def _reset_as_delta(response: Response) -> Response:
    """RateLimit-Reset in seconds from now (the IETF draft), not an epoch."""
    reset = response.headers.get("RateLimit-Reset")
    if reset and reset.isdigit() and int(reset) > 1_000_000_000:
        response.headers["RateLimit-Reset"] = str(max(0, int(reset) - int(clock.time())))
    return response


def init_app(app: Flask) -> None:
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "collab-memory://")
    app.config.setdefault("RATELIMIT_HEADER_RETRY_AFTER_VALUE", "delta-seconds")
    limiter = Limiter(
        _budget_key, app=app, application_limits=[_budget], headers_enabled=True,
        header_name_mapping={HeaderNames.LIMIT: "RateLimit-Limit",
                             HeaderNames.REMAINING: "RateLimit-Remaining",
                             HeaderNames.RESET: "RateLimit-Reset"},
        key_prefix="collab", swallow_errors=True)
    app.extensions["collab_limiter"] = limiter
    for endpoint in STRICT:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = limiter.limit(
                _strict_limit, key_func=_strict_key)(app.view_functions[endpoint])
    # Run last, after Flask-Limiter added its headers.
    app.after_request_funcs.setdefault(None, []).insert(0, _reset_as_delta)
    app.after_request_funcs[None].insert(0, _failed_auth)
