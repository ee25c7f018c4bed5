"""A thread's counters written by the services' own UPDATE (threads.service.write_counters): the
stored counters equal a direct count, the version moves once per transaction, and the search
outbox queues the thread once, whatever else the transaction changes."""
from sqlalchemy import func, select

from collab import time
from collab.db import db
from collab.ideas import ranking
from collab.ideas.models import Vote
from collab.outbox import OutboxRow
from collab.threads import service as threads
from collab.threads.models import Post, Thread
from tests.api.content import API, join, make_post, make_thread, vote
from tests.api.test_write_statements import _outbox, _version


def _stored(app, thread_id):
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        stored = (thread.reply_count, thread.upvotes, thread.downvotes, thread.top_score,
                  thread.last_activity_at)
        counted = (
            db.session.scalar(select(func.count()).select_from(Post).where(
                Post.thread_id == thread_id, Post.deleted_at.is_(None))),
            db.session.scalar(select(func.count()).select_from(Vote).where(
                Vote.thread_id == thread_id, Vote.value == 1)),
            db.session.scalar(select(func.count()).select_from(Vote).where(
                Vote.thread_id == thread_id, Vote.value == -1)),
            db.session.scalar(select(func.max(Post.created_at)).where(
                Post.thread_id == thread_id)))
        db.session.remove()
    return stored, counted


def test_counters_written_by_votes_and_replies_equal_a_direct_count(app, make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    idea = make_thread(owner, "space", "idea")
    people = [make_user(f"p{i}") for i in range(4)]
    for person in people:
        join(person, "space")
    for person, value in zip(people, (1, 1, -1, 1)):
        vote(person, idea["id"], value)
    vote(people[0], idea["id"], -1)  # changed
    assert people[1].delete(f"{API}/threads/{idea['id']}/vote").status_code == 200  # withdrawn
    for person in people[:3]:
        make_post(person, idea["id"], "A reply.")
    answer = vote(people[3], idea["id"], 1)  # the same vote again: nothing changes
    (replies, up, down, top, last), (c_replies, c_up, c_down, c_last) = _stored(app, idea["id"])
    assert (replies, up, down) == (c_replies, c_up, c_down) == (3, 1, 2)
    assert top == ranking.wilson_lower_bound(1, 2)
    assert last == c_last
    assert (answer["upvotes"], answer["downvotes"]) == (1, 2)


def test_a_transaction_writing_counters_and_other_columns_bumps_the_version_once(
        app, make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    idea = make_thread(owner, "space", "idea")
    outbox, version = _outbox(app), _version(app, idea["id"])
    with app.app_context():
        thread = db.session.get(Thread, idea["id"])
        threads.lock_thread(thread)
        threads.write_counters(thread, reply_count=5, last_activity_at=time.now())
        thread.title = "Renamed"  # an ORM change of the same row, in the same transaction
        db.session.flush()
        threads.write_counters(thread, upvotes=2, top_score=ranking.wilson_lower_bound(2, 0))
        assert (thread.reply_count, thread.upvotes) == (5, 2)  # as written, without a read
        assert db.session.scalar(select(func.count()).select_from(OutboxRow)) == len(outbox)
        db.session.commit()
        db.session.remove()
    assert _outbox(app) == outbox + [("thread", idea["id"])]
    assert _version(app, idea["id"]) == version + 1
    with app.app_context():
        stored = db.session.get(Thread, idea["id"])
        assert (stored.title, stored.reply_count, stored.upvotes) == ("Renamed", 5, 2)
        db.session.remove()


def test_counters_alone_queue_the_thread(app, make_user, make_community):
    """No ORM change at all: the document is still queued, the version still moves."""
    owner = make_user("olga")
    make_community(owner, "space")
    idea = make_thread(owner, "space", "idea")
    outbox, version = _outbox(app), _version(app, idea["id"])
    with app.app_context():
        thread = db.session.get(Thread, idea["id"])
        threads.write_counters(thread, upvotes=1, top_score=ranking.wilson_lower_bound(1, 0))
        db.session.commit()
        db.session.remove()
    assert _outbox(app) == outbox + [("thread", idea["id"])]
    assert _version(app, idea["id"]) == version + 1


def test_a_rolled_back_transaction_forgets_its_counters(app, make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    idea = make_thread(owner, "space", "idea")
    outbox, version = _outbox(app), _version(app, idea["id"])
    with app.app_context():
        thread = db.session.get(Thread, idea["id"])
        threads.write_counters(thread, upvotes=7)
        db.session.rollback()
        thread = db.session.get(Thread, idea["id"])
        thread.body = "Edited."
        db.session.commit()  # a later transaction: its own version bump, its own outbox row
        db.session.remove()
    assert _outbox(app) == outbox + [("thread", idea["id"])]
    assert _version(app, idea["id"]) == version + 1
    assert _stored(app, idea["id"])[0][1] == 0
