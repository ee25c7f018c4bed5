"""Votes stay exact when many people vote on one idea at the same moment."""
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from collab.db import db
from collab.ideas import ranking
from collab.ideas.models import Vote
from tests.api.content import API, get_thread, join, make_thread
from tests.factories import Caller


@pytest.fixture
def frozen_clock(monkeypatch):
    """All events at one instant, so the expected trending score is exact."""
    instant = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    monkeypatch.setattr("collab.time.now", lambda: instant)
    return instant


@pytest.fixture
def slow_recount(monkeypatch):
    """Widen the window between recounting and writing, so a missing lock loses updates."""
    wilson = ranking.wilson_lower_bound

    def slowly(upvotes, downvotes):
        time.sleep(0.01)
        return wilson(upvotes, downvotes)

    monkeypatch.setattr(ranking, "wilson_lower_bound", slowly)


def _all_at_once(app, requests: list[tuple[Caller, str, str, dict | None]]) -> list[int]:
    """Send every request from its own thread and test client, released together by a barrier."""
    barrier = threading.Barrier(len(requests))

    def send(request):
        caller, method, url, payload = request
        own = Caller(app.test_client(), caller.token, caller.user)
        barrier.wait()
        kwargs = {"json": payload} if payload is not None else {}
        return own.request(method, url, **kwargs).status_code

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def _stored_votes(app, thread_id: int) -> dict[int, int]:
    with app.app_context():
        counts = dict(db.session.execute(select(Vote.value, func.count()).where(
            Vote.thread_id == thread_id).group_by(Vote.value)).all())
        db.session.remove()
    return counts


def _concurrent_voting(app, make_user, make_community, frozen_clock, size: int) -> None:
    owner = make_user("olga")
    make_community(owner, "space", audiences=["employee", "partner"])
    idea = make_thread(owner, "space", "idea")
    partners = size // 5
    crowd = [make_user(audience="partner", organization="acme") for _ in range(partners)] + [
        make_user() for _ in range(size - partners)]
    for caller in crowd:
        join(caller, "space")
    up_count = size * 3 // 5
    upvoters, downvoters = crowd[:up_count], crowd[up_count:]
    url = f"{API}/threads/{idea['id']}/vote"

    statuses = _all_at_once(app, [(c, "PUT", url, {"value": 1}) for c in upvoters]
                            + [(c, "PUT", url, {"value": -1}) for c in downvoters])
    assert statuses == [200] * size
    thread = get_thread(owner, idea["id"])
    assert (thread["upvotes"], thread["downvotes"]) == (len(upvoters), len(downvoters))
    partner_up = sum(1 for c in upvoters if c.user["audience"] == "partner")
    partner_down = partners - partner_up
    assert thread["votes_by_audience"] == {
        "employee": {"up": len(upvoters) - partner_up, "down": len(downvoters) - partner_down},
        "partner": {"up": partner_up, "down": partner_down},
        "customer": {"up": 0, "down": 0}}
    assert thread["top_score"] == pytest.approx(
        ranking.wilson_lower_bound(len(upvoters), len(downvoters)))
    # Creation plus every up-vote, all at one instant: no lost update of the running sum.
    expected_trending = ranking.activity_exponent(1, frozen_clock) + math.log2(1 + len(upvoters))
    assert thread["trending_score"] == pytest.approx(expected_trending)
    assert _stored_votes(app, idea["id"]) == {1: len(upvoters), -1: len(downvoters)}

    # Second wave: two thirds of the up-voters switch, the rest withdraw, down-voters repeat.
    switchers = upvoters[: len(upvoters) * 2 // 3]
    withdrawers = upvoters[len(switchers):]
    statuses = _all_at_once(app, [(c, "PUT", url, {"value": -1}) for c in switchers]
                            + [(c, "DELETE", url, None) for c in withdrawers]
                            + [(c, "PUT", url, {"value": -1}) for c in downvoters])
    assert statuses == [200] * size
    thread = get_thread(owner, idea["id"])
    expected_down = len(switchers) + len(downvoters)
    assert (thread["upvotes"], thread["downvotes"], thread["score"]) == (0, expected_down,
                                                                          -expected_down)
    assert thread["top_score"] == 0
    assert thread["trending_score"] == pytest.approx(expected_trending)
    assert _stored_votes(app, idea["id"]) == {-1: expected_down}


def test_fifty_concurrent_voters_give_exact_counts(app, make_user, make_community, frozen_clock,
                                                   slow_recount):
    if app.config["BACKEND"] == "sqlite":
        pytest.skip("SQLite serialises writers; the smaller test below covers it")
    _concurrent_voting(app, make_user, make_community, frozen_clock, size=50)


def test_concurrent_voters_give_exact_counts(app, make_user, make_community, frozen_clock,
                                             slow_recount):
    _concurrent_voting(app, make_user, make_community, frozen_clock, size=10)
