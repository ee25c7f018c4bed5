"""A vote and a reply cost a handful of statements, and one outbox row each.

The thread is read (and on PostgreSQL locked) once, the caller's membership along with it,
the transaction flushes once (SQLite: twice, it has no row lock) and writes one search outbox
row with one version bump; nothing is read again after the commit.
"""
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from collab.db import db
from collab.outbox import OutboxRow
from collab.threads.models import Thread
from tests.api.content import API, join, make_post, make_thread, vote


@contextmanager
def statements(app):
    """Every SQL statement the app sends while the block runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _selects(seen, table=None):
    found = [s for s in seen if s.upper().startswith("SELECT")]
    if table is not None:
        found = [s for s in found if re.search(rf"\bFROM {table}\b", s)]
    return found


def _loads(seen, table):
    """Statements that read rows of `table` (not the subqueries of a visibility filter)."""
    return [s for s in seen if s.startswith(f"SELECT {table}.")]


def _thread_loads(seen):
    """Statements that read a thread's row, its write rules at least (not the reputation events
    that join threads; a reply or a vote reads only what its rules, counters and answer need)."""
    return [s for s in _selects(seen, "threads") if "threads.merged_into_id" in s]


def _membership_read_with_the_thread(seen) -> bool:
    """The caller's membership comes with the thread's first read, and is not read again."""
    return (not _loads(seen, "memberships")
            and "LEFT OUTER JOIN memberships AS" in _thread_loads(seen)[0])


def _writes(seen, prefix=""):
    return [s for s in seen if not s.upper().startswith("SELECT") and s.startswith(prefix)]


def _outbox(app) -> list[tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(select(OutboxRow.entity, OutboxRow.entity_id)
                                  .order_by(OutboxRow.id)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def _version(app, thread_id: int) -> int:
    with app.app_context():
        version = db.session.scalar(select(Thread.version).where(Thread.id == thread_id))
        db.session.remove()
    return version


@pytest.fixture
def idea_and_voter(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    idea = make_thread(owner, "space", "idea")
    voter = make_user("vic")
    join(voter, "space")
    return idea, voter


@pytest.mark.parametrize("first", [True, False], ids=["first vote", "changed vote"])
def test_a_vote_reads_the_thread_and_membership_once_and_flushes_once(app, idea_and_voter, first):
    idea, voter = idea_and_voter
    if not first:
        vote(voter, idea["id"], -1)
    postgres = app.config["BACKEND"] == "postgresql"
    outbox, version = _outbox(app), _version(app, idea["id"])
    with statements(app) as seen:
        response = voter.put(f"{API}/threads/{idea['id']}/vote", json={"value": 1})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["upvotes"] == 1 and response.get_json()["downvotes"] == 0
    assert len(_thread_loads(seen)) == (1 if postgres else 2), seen  # SQLite: after its write
    if postgres:
        assert _thread_loads(seen)[0].endswith("FOR UPDATE OF threads")
    assert _membership_read_with_the_thread(seen), seen
    assert not [s for s in seen if s.startswith("SELECT votes.id")], seen  # it comes with the tallies
    assert len(_selects(seen, "votes")) == (1 if postgres else 2), seen  # SQLite: after its write
    assert len(_selects(seen)) <= (4 if postgres else 6), seen
    assert len(_writes(seen, "UPDATE threads")) == 1, seen  # counters and version together
    assert len(_writes(seen, "INSERT INTO search_outbox")) == 1, seen
    assert len([s for s in seen if "reputation_days" in s]) == 1, seen  # a difference, no events
    assert len(_writes(seen)) <= 4, seen
    assert _outbox(app) == outbox + [("thread", idea["id"])]
    assert _version(app, idea["id"]) == version + 1


def test_a_reply_reads_the_thread_and_membership_once_and_flushes_once(app, idea_and_voter):
    thread, poster = idea_and_voter
    postgres = app.config["BACKEND"] == "postgresql"
    make_post(poster, thread["id"], body="The first reply.")
    outbox, version = _outbox(app), _version(app, thread["id"])
    with statements(app) as seen:
        response = poster.post(f"{API}/threads/{thread['id']}/posts", json={"body": "Agreed."})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["body"], body["author"]["handle"], body["accepted"], body["my_vote"]) == (
        "Agreed.", "vic", False, None)
    assert len(_thread_loads(seen)) == (1 if postgres else 2), seen
    assert _membership_read_with_the_thread(seen), seen
    assert not _loads(seen, "posts") and not _loads(seen, "post_votes"), seen  # no re-read
    assert len(_selects(seen)) <= (4 if postgres else 5), seen
    assert len(_writes(seen, "UPDATE threads")) == 1, seen
    assert len(_writes(seen, "INSERT INTO search_outbox")) == 1, seen
    # The insight roll-ups (collab/insights/rollup.py): the reply adds to its day, and may move
    # the thread's first reply; one upsert each (one statement on PostgreSQL, the first reply's
    # in a WITH), outside the reply's own budget.
    rollups = _writes(seen, "INSERT INTO insight_") + _writes(seen, "WITH first_reply AS")
    assert len(rollups) == (1 if postgres else 2), seen
    assert len(_writes(seen)) - len(rollups) <= (3 if postgres else 4), seen
    assert _outbox(app) == outbox + [("thread", thread["id"])]
    assert _version(app, thread["id"]) == version + 1
    listed = voter_posts = poster.get(f"{API}/threads/{thread['id']}/posts").get_json()["items"]
    assert [p["body"] for p in voter_posts] == ["The first reply.", "Agreed."] and listed


def test_a_transaction_that_flushes_twice_writes_one_outbox_row(app, idea_and_voter):
    idea, _ = idea_and_voter
    outbox, version = _outbox(app), _version(app, idea["id"])
    with app.app_context():
        thread = db.session.get(Thread, idea["id"])
        thread.title = "Renamed"
        db.session.flush()
        thread.body = "Rewritten."
        db.session.flush()
        assert db.session.scalar(select(func.count()).select_from(OutboxRow)) == len(outbox)
        db.session.commit()
        db.session.remove()
    assert _outbox(app) == outbox + [("thread", idea["id"])]
    assert _version(app, idea["id"]) == version + 1
