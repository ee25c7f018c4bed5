"""A reply's concern scoring uses the concern read with the thread's lock (concerns.remembered):
no statement of its own when the thread has none, and the same concern as a fresh read gives
when it has one, even when the concern changed after the thread was read."""
from types import SimpleNamespace

from sqlalchemy import select, update

from collab.concerns import classifier
from collab.concerns.models import Concern
from collab.db import db
from collab.people.models import User
from collab.threads import service as threads
from collab.threads.models import Post
from collab import time
from tests.api.content import API, join, make_post, make_thread
from tests.api.test_write_statements import statements
from tests.insights.test_concerns import ANGRY, CALM

OTHER_ANGRY = "Our payroll export is still broken again and this is a breach of the contract."


def _concern(app, thread_id):
    with app.app_context():
        row = db.session.execute(select(Concern.score, Concern.flags, Concern.reasons,
                                        Concern.updated_at)
                                 .where(Concern.thread_id == thread_id)).first()
        db.session.remove()
    return row


def _expected(stored, *texts, flags=0):
    """The concern `_record` computes from a fresh read: the highest score, reasons merged."""
    score, reasons = stored.score, set(filter(None, stored.reasons.split(",")))
    for text in texts:
        assessment = classifier.assess(text)
        score = max(score, round(assessment.score + classifier.FLAG_WEIGHT * flags, 4))
        reasons |= set(assessment.risk_terms)
    return score, ",".join(sorted(reasons))


def test_a_calm_reply_in_a_thread_without_concern_reads_no_concern(app, make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "eng")
    member = make_user("mia")
    join(member, "eng")
    thread = make_thread(owner, "eng", "question", "Release notes", CALM)
    with statements(app) as seen:
        make_post(member, thread["id"], CALM)
    assert not [s for s in seen if "FROM concerns" in s and not s.startswith("SELECT communities")], seen
    assert not [s for s in seen if "concerns" in s and not s.upper().startswith("SELECT")], seen
    assert _concern(app, thread["id"]) is None
    make_post(member, thread["id"], ANGRY)  # at the threshold: opened, as before
    opened = _concern(app, thread["id"])
    assert (opened.score, opened.reasons) == (
        classifier.assess(ANGRY).score, ",".join(classifier.assess(ANGRY).risk_terms))


def test_replies_in_a_thread_with_a_concern_raise_it_as_a_fresh_read_would(
        app, make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "eng")
    member = make_user("mia")
    join(member, "eng")
    thread = make_thread(member, "eng", "discussion", "Export broken again", ANGRY)
    opened = _concern(app, thread["id"])
    assert opened is not None
    make_post(owner, thread["id"], CALM)
    calm = _concern(app, thread["id"])
    assert (calm.score, calm.reasons) == _expected(opened, CALM)
    assert calm.updated_at >= opened.updated_at
    make_post(owner, thread["id"], OTHER_ANGRY)
    angry = _concern(app, thread["id"])
    assert (angry.score, angry.reasons) == _expected(calm, OTHER_ANGRY)
    assert set(angry.reasons.split(",")) > set(calm.reasons.split(","))


def test_a_concern_changed_after_the_thread_was_read_is_read_again(app, make_user, make_community):
    """A flag raised between the thread's read and the reply's flush: the reply's update does not
    overwrite it with what was read before (the snapshot no longer matches: a fresh read)."""
    owner = make_user("olga")
    make_community(owner, "eng")
    member = make_user("mia")
    join(member, "eng")
    thread = make_thread(member, "eng", "discussion", "Export broken again", ANGRY)
    opened = _concern(app, thread["id"])
    with app.test_request_context():
        actor = db.session.get(User, owner.id)
        locked = threads.find_thread_columns(actor, thread["id"], threads.REPLY_COLUMNS)
        assert locked.id == thread["id"]
        with db.engine.connect() as other:  # another transaction, committed meanwhile
            other.execute(update(Concern).where(Concern.thread_id == thread["id"]).values(
                flags=2, score=opened.score + 1.0, reasons=opened.reasons + ",flagged"))
            other.commit()
        now = time.now()
        db.session.add(Post(thread_id=locked.id, author_id=actor.id, body=OTHER_ANGRY,
                            created_at=now, updated_at=now))
        db.session.commit()
        db.session.remove()
    after = _concern(app, thread["id"])
    flagged = SimpleNamespace(score=opened.score + 1.0, reasons=opened.reasons + ",flagged")
    assert after.flags == 2
    assert (after.score, after.reasons) == _expected(flagged, OTHER_ANGRY, flags=2)
    assert "flagged" in after.reasons.split(",")
