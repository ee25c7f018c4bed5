"""Verifying or retiring an accepted answer, and noting that a thread is still read."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value

from collab import outbox, time
from collab.audit import service as audit
from collab.db import begin_writes, db
from collab.errors import Conflict, Forbidden
from collab.outbox import OutboxEntity, OutboxRow
from collab.people.models import User
from collab.permissions import is_moderator
from collab.threads import service as threads
from collab.threads.models import Thread

READ_RESOLUTION = timedelta(hours=1)


def _accepted_answer(actor: User, post_id: int):
    """The visible post (404), the caller its answerer or staff (403), and accepted (409)."""
    post = threads.find_visible_post(actor, post_id)
    thread = post.thread
    threads.require_contributor(actor, thread.community)
    if not (post.author_id == actor.id or is_moderator(actor, thread.community)):
        raise Forbidden("Only the answer's author and the community's moderators may do this.")
    if thread.accepted_post_id != post.id:
        raise Conflict("Only a question's accepted answer is verified or marked obsolete.")
    return post, thread


def verify(actor: User, post_id: int) -> threads.ThreadView:
    """Still right: the review clock starts again (an obsolete answer becomes current again)."""
    post, thread = _accepted_answer(actor, post_id)
    now = time.now()
    thread.answer_checked_at = thread.answer_verified_at = now
    thread.answer_verified_by_id = actor.id
    thread.answer_obsolete_at = None
    audit.record(actor, "answer.verify", "post", post.id, community_id=thread.community_id,
                 thread_id=thread.id)
    db.session.commit()  # the thread's change writes its outbox row (collab/outbox.py)
    return threads.thread_view(actor, thread)


def mark_obsolete(actor: User, post_id: int) -> threads.ThreadView:
    """No longer right: shown as obsolete until verified again or another answer is accepted."""
    post, thread = _accepted_answer(actor, post_id)
    if thread.answer_obsolete_at is None:
        thread.answer_obsolete_at = time.now()
        audit.record(actor, "answer.obsolete", "post", post.id, community_id=thread.community_id,
                     thread_id=thread.id)
        db.session.commit()
    return threads.thread_view(actor, thread)


def record_read(thread) -> None:
    """Note a read of a visible thread: one conditional UPDATE, at most once an hour per thread.

    No version bump and no ORM change (so the session events write no outbox row). Elasticsearch
    learns the read date from a reindex queued only by the first read of a UTC day of a thread with
    an accepted answer (the only threads whose freshness depends on reads), so its read date is at
    most a day behind the database's.
    """
    now = time.now()
    previous = thread.last_read_at
    if previous is not None and previous >= now - READ_RESOLUTION:
        return
    table = Thread.__table__
    begin_writes()  # the UPDATE and its outbox row in one transaction (GET reads run without)
    result = db.session.execute(
        update(table).where(table.c.id == thread.id, or_(
            table.c.last_read_at.is_(None), table.c.last_read_at < now - READ_RESOLUTION))
        .values(last_read_at=now).execution_options(synchronize_session=False))
    if result.rowcount == 1 and thread.accepted_post_id is not None and (
            previous is None or previous.date() != now.date()) and outbox.writes_rows(current_app):
        db.session.add(OutboxRow(entity=OutboxEntity.THREAD, entity_id=thread.id, created_at=now,
                                 next_attempt_at=now, attempts=0))
        db.session.info[outbox.PENDING_KEY] = True
    if result.rowcount == 1 and isinstance(thread, Thread):  # what the database now holds,
        set_committed_value(thread, "last_read_at", now)  # without marking the thread changed
    elif result.rowcount == 1:  # a thread read as columns (collab.threads.service.ListedThread)
        thread.last_read_at = now
    _commit_keeping_loaded()


def _commit_keeping_loaded() -> None:
    """Commit without expiring what the request already loaded (its response is built from it)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
