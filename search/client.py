"""The Elasticsearch client, built from the app's settings, with short timeouts and a circuit breaker.

A request path never waits on a sick cluster twice in a row: after a transport failure the
breaker stays open for a few seconds and searches answer from the database meanwhile.
"""
import json
import threading
import time as clock
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import ApiError, Elasticsearch, TransportError
from flask import Flask, current_app

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
CONTENT_MAPPING_VERSION = 3
# Seconds: searches must fail fast so the database fallback answers instead.
SEARCH_TIMEOUT = 3.0
# Seconds: bulk writes from the indexer may take longer.
WRITE_TIMEOUT = 30.0
BREAKER_OPEN_SECONDS = 5.0


class SearchUnavailable(Exception):
    """The cluster could not be reached or did not answer in time; callers fall back or retry."""


@dataclass
class _Breaker:
    open_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def is_open(self) -> bool:
        return clock.monotonic() < self.open_until

    def trip(self) -> None:
        with self.lock:
            self.open_until = clock.monotonic() + BREAKER_OPEN_SECONDS

    def reset(self) -> None:
        with self.lock:
            self.open_until = 0.0


@dataclass
class SearchSettings:
    url: str | None
    prefix: str

    @property
    def alias(self) -> str:
        return f"{self.prefix}-content"

    def new_index_name(self, version: int = CONTENT_MAPPING_VERSION) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        return f"{self.prefix}-content-v{version}-{stamp}"

    def first_index_name(self, version: int = CONTENT_MAPPING_VERSION) -> str:
        """The index `init_index` creates: named before any reindex's stamp, and the same in
        every process."""
        return f"{self.prefix}-content-v{version}-00000000000000000000"

    @property
    def index_pattern(self) -> str:
        return f"{self.prefix}-content-v*"


def settings(app: Flask | None = None) -> SearchSettings:
    config = (app or current_app).config
    return SearchSettings(url=config.get("ELASTICSEARCH_URL") or None,
                          prefix=config.get("SEARCH_INDEX_PREFIX", "collab"))


def is_configured(app: Flask | None = None) -> bool:
    return settings(app).url is not None


def _state(app: Flask) -> dict:
    return app.extensions.setdefault("search_client", {"clients": {}, "breaker": _Breaker(),
                                                        "lock": threading.Lock()})


def client(app: Flask | None = None, timeout: float = SEARCH_TIMEOUT) -> Elasticsearch:
    """A client for the configured cluster (cached per URL and timeout; tests change the URL)."""
    app = app or current_app._get_current_object()
    url = settings(app).url
    if url is None:
        raise SearchUnavailable("ELASTICSEARCH_URL is not set")
    state = _state(app)
    key = (url, timeout)
    with state["lock"]:
        if key not in state["clients"]:
            state["clients"][key] = Elasticsearch(url, request_timeout=timeout, max_retries=0,
                                                  retry_on_timeout=False)
        return state["clients"][key]


def breaker(app: Flask | None = None) -> _Breaker:
    return _state(app or current_app._get_current_object())["breaker"]


def is_transport_failure(error: Exception) -> bool:
    """Connection refused, timeouts and 5xx from the cluster: the engine, not the request, failed."""
    if isinstance(error, TransportError):
        return True
    return isinstance(error, ApiError) and (error.meta.status >= 500 or error.meta.status == 429)


def content_index_body(version: int = CONTENT_MAPPING_VERSION) -> dict:
    return json.loads((MAPPINGS_DIR / f"content-v{version}.json").read_text())
