"""A reply sets its thread's first reply by someone else from its own row (rollup.add_facts):
the stored fact must stay what a rebuild from every post gives, whatever order the replies
arrive in (a reply dated before the stored first reply moves it earlier; the author's own
replies and later replies leave it)."""
from datetime import timedelta

from sqlalchemy import select

from collab.db import db
from collab.insights.models import ThreadFact
from tests.api.content import join, make_post, make_thread
from tests.insights.test_insights_rollup import clock  # noqa: F401 (fixture)


def _fact(app, thread_id):
    with app.app_context():
        stored = db.session.scalar(select(ThreadFact.first_reply_at)
                                   .where(ThreadFact.thread_id == thread_id))
        db.session.remove()
    return stored


def _rebuilt(app, thread_id):
    result = app.test_cli_runner().invoke(args=["insights", "rebuild"])
    assert result.exit_code == 0, result.output
    return _fact(app, thread_id)


def test_first_reply_follows_the_replies_in_any_order(app, clock, make_user, make_community):
    author, other, third = make_user("ann"), make_user("bob"), make_user("cy")
    make_community(author, "eng")
    join(other, "eng")
    join(third, "eng")
    start = clock[0]
    thread = make_thread(author, "eng", "question", "Why?")
    clock[0] = start + timedelta(hours=1)
    make_post(author, thread["id"])                     # the author's own: no first reply
    assert _fact(app, thread["id"]) is None
    clock[0] = start + timedelta(hours=5)
    make_post(other, thread["id"])                      # the first reply
    assert _fact(app, thread["id"]) == start + timedelta(hours=5)
    clock[0] = start + timedelta(hours=7)
    make_post(third, thread["id"])                      # later: no change
    assert _fact(app, thread["id"]) == start + timedelta(hours=5)
    clock[0] = start + timedelta(hours=3)               # a reply dated earlier (a slow clock)
    make_post(third, thread["id"])
    assert _fact(app, thread["id"]) == start + timedelta(hours=3)
    assert _rebuilt(app, thread["id"]) == start + timedelta(hours=3)
