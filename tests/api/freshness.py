"""Helpers for knowledge-freshness tests: a movable clock and answered questions."""
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.content import API, make_post, make_thread
from tests.factories import Caller

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGE = timedelta(days=181)  # past the default FRESHNESS_REVIEW_AFTER_DAYS (180)


class Clock:
    def __init__(self):
        self.now = T0

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(app, monkeypatch):
    """A frozen clock that tests move forward by months (tokens outlive the jumps)."""
    monkeypatch.setitem(app.config, "TOKEN_LIFETIME_DAYS", 3650)
    frozen = Clock()
    monkeypatch.setattr("collab.time.now", lambda: frozen.now)
    return frozen


def answered_question(asker: Caller, answerer: Caller, slug: str, title: str) -> tuple[dict, dict]:
    """A question in `slug` by `asker`, answered by `answerer`, the answer accepted by `asker`."""
    question = make_thread(asker, slug, kind="question", title=title, body=f"About {title}?")
    answer = make_post(answerer, question["id"], body=f"Here is how {title} works.")
    response = asker.post(f"{API}/posts/{answer['id']}/accept")
    assert response.status_code == 200, response.get_json()
    return question, answer


def freshness(caller: Caller, thread_id: int) -> dict | None:
    """The thread's answer_freshness, as a GET (which also records the read) returns it."""
    response = caller.get(f"{API}/threads/{thread_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["answer_freshness"]


def state(caller: Caller, thread_id: int) -> str | None:
    described = freshness(caller, thread_id)
    return None if described is None else described["state"]


def verify(caller: Caller, post_id: int, action: str = "verify"):
    return caller.post(f"{API}/posts/{post_id}/{action}")
