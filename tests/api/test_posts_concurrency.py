"""Reply counters stay exact when many people reply to one thread at the same moment."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from collab.db import db
from collab.ideas import ranking
from collab.outbox import OutboxRow
from collab.threads.models import Post, Thread
from tests.api.content import API, get_thread, join, make_thread
from tests.api.test_votes_concurrency import _all_at_once


@pytest.fixture
def frozen_clock(monkeypatch):
    instant = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    monkeypatch.setattr("collab.time.now", lambda: instant)
    return instant


@pytest.fixture
def slow_activity(monkeypatch):
    """Widen the window between reading the thread and writing it, so a missing lock loses updates."""
    add_activity = ranking.add_activity

    def slowly(trending_score, weight, at):
        import time
        time.sleep(0.01)
        return add_activity(trending_score, weight, at)

    monkeypatch.setattr(ranking, "add_activity", slowly)


def _thread_row(app, thread_id: int) -> dict:
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        row = {"reply_count": thread.reply_count, "version": thread.version,
               "trending_score": thread.trending_score,
               "last_activity_at": thread.last_activity_at,
               "posts": db.session.scalar(select(func.count()).select_from(Post)
                                          .where(Post.thread_id == thread_id)),
               "outbox": db.session.scalar(select(func.count()).select_from(OutboxRow)
                                           .where(OutboxRow.entity_id == thread_id,
                                                  OutboxRow.entity == "thread"))}
        db.session.remove()
    return row


def _concurrent_replies(app, make_user, make_community, frozen_clock, size: int) -> None:
    owner = make_user("olga")
    make_community(owner, "space")
    thread = make_thread(owner, "space", "question")
    crowd = [make_user() for _ in range(size)]
    for caller in crowd:
        join(caller, "space")
    before = _thread_row(app, thread["id"])
    url = f"{API}/threads/{thread['id']}/posts"

    statuses = _all_at_once(app, [(c, "POST", url, {"body": f"Reply from {c.handle}."})
                                  for c in crowd])
    assert statuses == [201] * size
    after = _thread_row(app, thread["id"])
    assert after["posts"] == size
    assert after["reply_count"] == before["reply_count"] + size
    assert after["last_activity_at"] == frozen_clock
    expected_trending = before["trending_score"]
    for _ in range(size):
        expected_trending = ranking.add_activity(expected_trending, ranking.REPLY_WEIGHT,
                                                 frozen_clock)
    assert after["trending_score"] == pytest.approx(expected_trending)
    # One version bump and one outbox row per reply: no more, none lost.
    assert after["version"] == before["version"] + size
    assert after["outbox"] == before["outbox"] + size
    assert get_thread(owner, thread["id"])["reply_count"] == size


def test_twenty_four_concurrent_replies_give_exact_counters(app, make_user, make_community,
                                                            frozen_clock, slow_activity):
    if app.config["BACKEND"] == "sqlite":
        pytest.skip("SQLite serialises writers; the smaller test below covers it")
    _concurrent_replies(app, make_user, make_community, frozen_clock, size=24)


def test_concurrent_replies_give_exact_counters(app, make_user, make_community, frozen_clock,
                                                slow_activity):
    _concurrent_replies(app, make_user, make_community, frozen_clock, size=6)
