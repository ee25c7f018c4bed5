"""Fixtures of the search tests.

Tests that take `es_app` (or `elasticsearch_url`) are the Elasticsearch ones: they run against the
real node of tests/es_node.py, with an index prefix unique to the test, deleted afterwards.
"""
import itertools
import uuid

import pytest

from search import client as search_client

_session = uuid.uuid4().hex[:8]
_counter = itertools.count(1)


@pytest.fixture
def es_app(app, elasticsearch_url):
    """The app pointed at the real Elasticsearch node, with its own index prefix for this test."""
    prefix = f"test-{_session}-{next(_counter)}"
    saved = {k: app.config.get(k) for k in ("ELASTICSEARCH_URL", "SEARCH_INDEX_PREFIX",
                                            "SEARCH_SYNC_IN_PROCESS")}
    app.config.update(ELASTICSEARCH_URL=elasticsearch_url, SEARCH_INDEX_PREFIX=prefix,
                      SEARCH_SYNC_IN_PROCESS=False)
    _reset(app)
    yield app
    with app.app_context():
        es = search_client.client(app)
        names = list(es.indices.get(index=f"{prefix}-content-v*", allow_no_indices=True))
        if names:
            es.indices.delete(index=",".join(names))
    app.config.update(saved)
    _reset(app)


def _reset(app) -> None:
    app.extensions.pop("search_known_aliases", None)
    with app.app_context():
        search_client.breaker(app).reset()


@pytest.fixture
def embed_on_write(app):
    """Vectors stored by the commit that writes a thread (as the background worker does in
    production), for the database fallback's semantic signal; the suite's default is off."""
    app.config["SIMILARITY_EMBED_ON_WRITE"] = "inline"
    yield
    app.config["SIMILARITY_EMBED_ON_WRITE"] = "off"
