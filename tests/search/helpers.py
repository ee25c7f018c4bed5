"""Helpers shared by the search tests: act through the API, sync the index, read answers."""
from collab.db import db
from search import client as search_client
from search import indexer
from tests.api.content import API, join, make_post, make_thread, set_status, vote  # noqa: F401


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


def ids(result) -> list[int]:
    return [item["thread"]["id"] for item in result["items"]]


def facet(result, name) -> dict[str, int]:
    return {bucket["value"]: bucket["count"] for bucket in result["facets"][name]}


def all_pages(caller, **params) -> list[int]:
    """Thread ids of every page of a search, following next_cursor."""
    page = search(caller, **params)
    seen = ids(page)
    while page["next_cursor"]:
        page = search(caller, **params, cursor=page["next_cursor"])
        seen += ids(page)
    return seen
