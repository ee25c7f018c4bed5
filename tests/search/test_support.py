"""Fixtures and helpers shared by the search tests (no tests here; star-imported by the test modules).

Tests that take `es_app` (or `elasticsearch_url`) are the Elasticsearch ones: they run against the
real node of tests/es_node.py, with an index prefix unique to the test, deleted afterwards.
"""
import itertools
import uuid

import pytest

from collab.db import db
from search import client as search_client
from search import indexer
from tests.api.content import API, join, make_post, make_thread, set_status, vote  # noqa: F401

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


def sync(app) -> indexer.DrainStats:
    """Drain the outbox and refresh, so the next search sees every change."""
    with app.app_context():
        stats = indexer.drain(app)
        search_client.client(app).indices.refresh(index=search_client.settings(app).alias)
        db.session.remove()
    return stats


def search(caller, **params):
    response = caller.get(f"{API}/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def titles(result) -> list[str]:
    return [item["thread"]["title"] for item in result["items"]]


def facet(result, name) -> dict[str, int]:
    return {bucket["value"]: bucket["count"] for bucket in result["facets"][name]}


def open_community(make_user, make_community, slug="eng", **fields):
    """An owner, a member and an open community they both write in."""
    owner = make_user()
    make_community(owner, slug, **fields)
    return owner
