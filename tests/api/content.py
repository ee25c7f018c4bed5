"""Helpers for tests of threads, posts and ideas: act through the API, assert it worked."""
from tests.factories import Caller

API = "/api/v1"


def join(caller: Caller, slug: str) -> None:
    response = caller.post(f"{API}/communities/{slug}/members", json={})
    assert response.status_code in (200, 201), response.get_json()
    assert response.get_json()["status"] == "active", response.get_json()


def promote(owner: Caller, user: Caller, slug: str, role: str = "moderator") -> None:
    """Invite `user` with `role` and have them accept."""
    response = owner.post(f"{API}/communities/{slug}/members", json={"user_id": user.id, "role": role})
    assert response.status_code == 201, response.get_json()
    join(user, slug)


def make_thread(caller: Caller, slug: str, kind: str = "discussion", title: str | None = None,
                body: str = "Some **Markdown**.", tags: list[str] | None = None) -> dict:
    payload = {"kind": kind, "title": title or f"A {kind}", "body": body}
    if tags is not None:
        payload["tags"] = tags
    response = caller.post(f"{API}/communities/{slug}/threads", json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def make_post(caller: Caller, thread_id: int, body: str = "A reply.", parent_id: int | None = None) -> dict:
    payload = {"body": body}
    if parent_id is not None:
        payload["parent_id"] = parent_id
    response = caller.post(f"{API}/threads/{thread_id}/posts", json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def vote(caller: Caller, thread_id: int, value: int) -> dict:
    response = caller.put(f"{API}/threads/{thread_id}/vote", json={"value": value})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def set_status(caller: Caller, thread_id: int, status: str, note: str = "") -> dict:
    response = caller.post(f"{API}/threads/{thread_id}/status", json={"status": status, "note": note})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def get_thread(caller: Caller, thread_id: int) -> dict:
    response = caller.get(f"{API}/threads/{thread_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def list_all(caller: Caller, url: str, limit: int = 100) -> list[dict]:
    """Every item of a cursor-paginated list, following next_cursor."""
    items, cursor = [], None
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        separator = "&" if "?" in url else "?"
        response = caller.get(url + separator + "&".join(f"{k}={v}" for k, v in query.items()))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return items
