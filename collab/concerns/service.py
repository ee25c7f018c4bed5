"""Concern rules: scoring new content, members' flags, and the moderators' queue.

New threads and posts are scored by session events (like the search outbox), so no service
that writes content can forget; a thread at or above the threshold opens a concern in its
community's queue, seen by owners and moderators only. The thread's author and the members who
flagged it see their concern's state and the response note, never the queue.
"""
from blinker import Namespace
from sqlalchemy import Integer, bindparam, event, insert, or_, select, update
from sqlalchemy.orm import Session

from collab import time
from collab.communities.models import Community
from collab.db import db
from collab.errors import Conflict, InvalidInput, NotFound
from collab.concerns import classifier, remembered
from collab.concerns.models import Concern, ConcernFlag, ConcernState
from collab.pagination import Page, SortKey, paginate
from collab.people.models import User
from collab.permissions import (
    find_visible_community,
    is_moderator,
    require_can_contribute,
    require_moderator,
    visible_community_ids,
)
from collab.threads import service as threads
from collab.threads import written
from collab.threads.models import Post, Thread

TRANSITIONS = {
    ConcernState.OPEN: {ConcernState.ACKNOWLEDGED, ConcernState.RESOLVED, ConcernState.DISMISSED},
    ConcernState.ACKNOWLEDGED: {ConcernState.RESOLVED, ConcernState.DISMISSED},
    ConcernState.RESOLVED: {ConcernState.OPEN},   # reopen
    ConcernState.DISMISSED: {ConcernState.OPEN},
}
SCORED_POSTS = 200  # a flag rescans the thread's latest posts
# Sent (sender: the session, in its transaction) when a concern opens; webhooks listen.
concern_opened = Namespace().signal("concern-opened")


# Scoring (session events) ----------------------------------------------------------------

@event.listens_for(Session, "after_flush")
def _assess_new_content(session: Session, flush_context, new=None) -> None:
    """Scores each new thread and post (`new`: a post written outside a flush, threads.written);
    the worst score per thread may open its concern."""
    worst: dict[int, classifier.Assessment] = {}
    for item in session.new if new is None else new:
        if isinstance(item, Thread):
            thread_id, text = item.id, f"{item.title}. {item.body}"
        elif isinstance(item, Post):
            thread_id, text = item.thread_id, item.body
        else:
            continue
        assessment = classifier.assess(text)
        if thread_id not in worst or assessment.score > worst[thread_id].score:
            worst[thread_id] = assessment
    if not worst:
        return
    for thread_id, assessment in worst.items():
        thread = written.loaded_thread(session, thread_id)
        community_id = thread.__dict__.get("community_id") if thread is not None else None
        _record(session, thread_id, assessment, flags=None, community_id=community_id)


written.listen(lambda session, post: _assess_new_content(session, None, new=(post,)))


# Every new post asks (built once): the thread's concern, if any.
_CONCERN_OF_THREAD = select(Concern.id, Concern.score, Concern.flags, Concern.reasons).where(
    Concern.thread_id == bindparam("thread_id", type_=Integer))


def _record(session: Session, thread_id: int, assessment: classifier.Assessment,
            flags: int | None, community_id: int | None = None) -> None:
    """Raise the concern's score (never lower it), or open a concern at the threshold."""
    connection = session.connection()
    known = remembered.take(session, thread_id) if flags is None else remembered.UNKNOWN
    if known is None and assessment.score < classifier.THRESHOLD:
        return  # no concern when the thread was read, and none to open: nothing to write
    if known is not None and known is not remembered.UNKNOWN:
        if _update(connection, known, assessment, known[2], snapshot=True):
            return
    row = connection.execute(_CONCERN_OF_THREAD, {"thread_id": thread_id}).first()
    flag_count = flags if flags is not None else (row.flags if row else 0)
    if row is not None:
        _update(connection, tuple(row), assessment, flag_count)
        return
    score = round(assessment.score + classifier.FLAG_WEIGHT * flag_count, 4)
    if score < classifier.THRESHOLD:
        return
    now = time.now()
    if community_id is None:  # the thread is not loaded in the session
        community_id = connection.execute(select(Thread.community_id)
                                          .where(Thread.id == thread_id)).scalar_one()
    concern_id = connection.execute(insert(Concern).values(
        community_id=community_id, thread_id=thread_id, state=ConcernState.OPEN, score=score,
        flags=flag_count, reasons=",".join(assessment.risk_terms), response_note="",
        opened_at=now, updated_at=now)).inserted_primary_key[0]
    concern_opened.send(session, concern_id=concern_id, community_id=community_id,
                        thread_id=thread_id, score=score, reasons=list(assessment.risk_terms),
                        opened_at=now, reopened=False)


def _update_statement(snapshot: bool):
    """Raise a concern by id; `snapshot`: only while it holds the score, flags and reasons read."""
    statement = update(Concern).where(Concern.id == bindparam("concern_id", type_=Integer))
    if snapshot:
        statement = statement.where(Concern.score == bindparam("stored_score"),
                                    Concern.flags == bindparam("stored_flags"),
                                    Concern.reasons == bindparam("stored_reasons"))
    return statement.values(score=bindparam("score"), flags=bindparam("flags"),
                            reasons=bindparam("reasons"), updated_at=bindparam("updated_at"))


_UPDATES = {snapshot: _update_statement(snapshot) for snapshot in (False, True)}  # built once


def _update(connection, row: tuple, assessment: classifier.Assessment, flag_count: int,
            snapshot: bool = False) -> bool:
    """Raise the concern `row` (id, score, flags, reasons); with `snapshot` (read earlier in the
    transaction, remembered.py) only if it still holds what `row` says. Returns whether it did."""
    concern_id, stored_score, stored_flags, stored_reasons = row
    score = round(assessment.score + classifier.FLAG_WEIGHT * flag_count, 4)
    reasons = sorted(set(filter(None, stored_reasons.split(","))) | set(assessment.risk_terms))
    result = connection.execute(_UPDATES[snapshot], {
        "concern_id": concern_id, "stored_score": stored_score, "stored_flags": stored_flags,
        "stored_reasons": stored_reasons, "score": max(score, stored_score),
        "flags": flag_count, "reasons": ",".join(reasons), "updated_at": time.now()})
    return not snapshot or result.rowcount == 1


# Flags ---------------------------------------------------------------------------------

def raise_flag(viewer: User, thread_id: int, fields: dict) -> dict:
    """Any active member flags a thread as a concern (once); it rescans the thread."""
    thread = threads.find_visible_thread(viewer, thread_id)
    require_can_contribute(viewer, thread.community)
    existing = db.session.scalar(select(ConcernFlag).where(
        ConcernFlag.thread_id == thread.id, ConcernFlag.user_id == viewer.id))
    if existing is None:
        db.session.add(ConcernFlag(thread_id=thread.id, user_id=viewer.id,
                                   reason=fields.get("reason", "")))
        db.session.flush()
    flags = db.session.scalar(select(db.func.count()).select_from(ConcernFlag)
                              .where(ConcernFlag.thread_id == thread.id))
    texts = [f"{thread.title}. {thread.body}"] + list(db.session.scalars(
        select(Post.body).where(Post.thread_id == thread.id, Post.deleted_at.is_(None))
        .order_by(Post.id.desc()).limit(SCORED_POSTS)))
    worst = max((classifier.assess(text) for text in texts), key=lambda a: a.score)
    _record(db.session(), thread.id, worst, flags=flags)
    db.session.commit()
    concern = _concern_of_thread(thread.id)
    return {"thread_id": thread.id, "flags": flags,
            "concern": _author_view(concern) if concern else None}


# The queue -----------------------------------------------------------------------------

def _concern_of_thread(thread_id: int) -> Concern | None:
    return db.session.scalar(select(Concern).where(Concern.thread_id == thread_id))


def _live(statement):
    return statement.join(Thread, Thread.id == Concern.thread_id).where(
        Thread.deleted_at.is_(None))


def list_concerns(viewer: User, slug: str, args: dict) -> Page:
    community = find_visible_community(viewer, slug)
    require_moderator(viewer, community)
    statement = _live(select(Concern)).where(Concern.community_id == community.id)
    if args.get("state"):
        statement = statement.where(Concern.state == args["state"])
    page = paginate(statement, [SortKey(Concern.id)], args["limit"], args["cursor"])
    refs = _thread_refs(page.items)
    page.items = [_queue_view(concern, refs[concern.thread_id]) for concern in page.items]
    return page


def _find(viewer: User, concern_id: int) -> tuple[Concern, Thread]:
    """A concern on a live thread the viewer may see, or 404."""
    row = db.session.execute(_live(select(Concern, Thread)).where(
        Concern.id == concern_id,
        Thread.community_id.in_(visible_community_ids(viewer)))).first()
    if row is None:
        raise NotFound(f"No concern {concern_id}.")
    return row[0], row[1]


def _is_raiser(viewer: User, concern: Concern, thread: Thread) -> bool:
    return thread.author_id == viewer.id or db.session.scalar(select(ConcernFlag.id).where(
        ConcernFlag.thread_id == concern.thread_id, ConcernFlag.user_id == viewer.id)) is not None


def get_concern(viewer: User, concern_id: int) -> dict:
    """Moderators see the whole concern; its raisers see its state and response."""
    concern, thread = _find(viewer, concern_id)
    if is_moderator(viewer, thread.community):
        return _queue_view(concern)
    if _is_raiser(viewer, concern, thread):
        return _author_view(concern)
    raise NotFound(f"No concern {concern_id}.")


def update_concern(viewer: User, concern_id: int, fields: dict) -> dict:
    concern, thread = _find(viewer, concern_id)
    require_moderator(viewer, thread.community)
    now = time.now()
    if "assignee_id" in fields:
        assignee_id = fields["assignee_id"]
        if assignee_id is not None:
            assignee = db.session.get(User, assignee_id)
            if assignee is None or not is_moderator(assignee, thread.community):
                raise InvalidInput({"assignee_id": [
                    "The assignee must be an owner or moderator of the community."]})
        concern.assignee_id = assignee_id
    if "response_note" in fields:
        concern.response_note = fields["response_note"]
    target = fields.get("state")
    if target is not None and target != concern.state:
        if target not in TRANSITIONS[ConcernState(concern.state)]:
            detail = f"A concern cannot go from {concern.state} to {target}."
            raise Conflict(detail, errors={"state": [detail]})
        if target in (ConcernState.ACKNOWLEDGED, ConcernState.RESOLVED, ConcernState.DISMISSED):
            concern.acknowledged_at = concern.acknowledged_at or now
        if target in (ConcernState.RESOLVED, ConcernState.DISMISSED):
            concern.resolved_at = now
        if target == ConcernState.OPEN:
            concern.resolved_at = None
        concern.state = target
    concern.updated_at = now
    db.session.commit()
    return _queue_view(concern)


def my_concerns(viewer: User, args: dict) -> Page:
    """Concerns on threads the caller started or flagged, with their state and response."""
    flagged = select(ConcernFlag.thread_id).where(ConcernFlag.user_id == viewer.id)
    statement = _live(select(Concern)).where(
        Thread.community_id.in_(visible_community_ids(viewer)),
        or_(Thread.author_id == viewer.id, Concern.thread_id.in_(flagged)))
    page = paginate(statement, [SortKey(Concern.id)], args["limit"], args["cursor"])
    refs = _thread_refs(page.items)
    page.items = [_author_view(concern, refs[concern.thread_id]) for concern in page.items]
    return page


def _thread_ref(concern: Concern) -> dict:
    thread = db.session.get(Thread, concern.thread_id)
    return {"id": thread.id, "title": thread.title, "community": thread.community.slug}


def _thread_refs(concerns: list[Concern]) -> dict[int, dict]:
    """The threads of a page of concerns in one query (not one per concern)."""
    if not concerns:
        return {}
    return {row.id: {"id": row.id, "title": row.title, "community": row.slug}
            for row in db.session.execute(
                select(Thread.id, Thread.title, Community.slug)
                .join(Community, Community.id == Thread.community_id)
                .where(Thread.id.in_([c.thread_id for c in concerns])))}


def _author_view(concern: Concern, thread: dict | None = None) -> dict:
    return {"id": concern.id, "thread": thread or _thread_ref(concern), "state": concern.state,
            "acknowledged": concern.acknowledged_at is not None,
            "acknowledged_at": concern.acknowledged_at, "resolved_at": concern.resolved_at,
            "response_note": concern.response_note, "opened_at": concern.opened_at}


def _queue_view(concern: Concern, thread: dict | None = None) -> dict:
    return {**_author_view(concern, thread), "score": concern.score, "flags": concern.flags,
            "reasons": [r for r in concern.reasons.split(",") if r],
            "assignee": concern.assignee, "updated_at": concern.updated_at}
