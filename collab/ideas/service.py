"""Idea rules: one vote per person, the status lifecycle, and merging duplicates.

Every change of votes locks the thread row first, writes, then recounts from the votes table,
so counts stay exact under concurrent voters.
"""
from datetime import datetime

from sqlalchemy import Integer, Select, bindparam, case, func, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from collab import time
from collab.audit import service as audit
from collab.db import commit_keeping, db
from collab.errors import Conflict, InvalidInput
from collab.ideas import ranking
from collab.ideas.models import IdeaStatusChange, Vote
from collab.people.models import Audience, User
from collab.threads.models import Thread, ThreadKind, ThreadStatus
from collab.threads.service import (
    VOTE_COLUMNS,
    LockedThread,
    ThreadView,
    find_thread_columns,
    find_visible_thread,
    lock_thread,
    reread_columns,
    reread_thread,
    row_locks,
    require_can_write,
    require_thread_moderator,
    status_history,
    thread_view,
    write_counters,
)

S = ThreadStatus
# Forward (steps may be skipped), any open state to declined, declined reopens for review, and
# done reopens (back to under_review or in_progress).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.NEW: (S.UNDER_REVIEW, S.PLANNED, S.IN_PROGRESS, S.DONE, S.DECLINED),
    S.UNDER_REVIEW: (S.PLANNED, S.IN_PROGRESS, S.DONE, S.DECLINED),
    S.PLANNED: (S.IN_PROGRESS, S.DONE, S.DECLINED),
    S.IN_PROGRESS: (S.DONE, S.DECLINED),
    # A mistaken "done" can be undone by the same people who set it (owners, moderators).
    S.DONE: (S.UNDER_REVIEW, S.IN_PROGRESS),
    S.DECLINED: (S.UNDER_REVIEW,),
    S.DUPLICATE: (),  # set by a merge; a merged idea is read-only
}
FROZEN = (S.DONE, S.DECLINED)


def _require_idea(thread: Thread) -> None:
    if thread.kind != ThreadKind.IDEA:
        raise Conflict(f"Thread {thread.id} is a {thread.kind}, not an idea.")


def _require_votable(actor: User, thread: Thread) -> None:
    """Checked again under the lock, so a concurrent status change or merge is seen."""
    require_can_write(actor, thread)
    _require_idea(thread)
    if thread.status in FROZEN:
        raise Conflict(f"Votes are frozen: the idea is {thread.status}.")


def _recount(thread: Thread) -> None:
    counts = dict(db.session.execute(select(Vote.value, func.count()).where(
        Vote.thread_id == thread.id).group_by(Vote.value)).all())
    thread.upvotes = counts.get(1, 0)
    thread.downvotes = counts.get(-1, 0)
    thread.top_score = ranking.wilson_lower_bound(thread.upvotes, thread.downvotes)


def _votes_statement() -> Select:
    """A thread's votes by audience and value, read from the tally index alone (migration
    0023), the group holding the caller's vote marked; its id and when it was cast are looked
    up once by its unique key."""
    thread_id = bindparam("thread_id", type_=Integer)
    user_id = bindparam("user_id", type_=Integer)

    def mine(column):
        return select(column).where(Vote.thread_id == thread_id,
                                    Vote.user_id == user_id).scalar_subquery()

    return (select(Vote.audience, Vote.value, func.count(),
                   func.max(case((Vote.user_id == user_id, literal_column("1")))),
                   mine(Vote.id), mine(Vote.created_at))
            .where(Vote.thread_id == thread_id)
            .group_by(Vote.audience, Vote.value))


_VOTES = _votes_statement()  # built once: the same statement for every vote


def _votes(actor: User, thread: Thread) -> tuple[Vote | None, dict[str, dict[str, int]]]:
    """The caller's vote, and everyone else's votes by audience, in one statement.

    The caller's vote becomes a persistent object from what the statement read (its id,
    value, audience, when it was cast), without loading the row again; everyone else's votes
    are the response's tallies, the caller's own being what this request decides.
    """
    session = db.session()
    tallies = {a.value: {"up": 0, "down": 0} for a in Audience}
    mine = None
    # On the session's connection (Core): the ORM's execution path added nothing to plain
    # columns but its overhead, and no flush is due here (SQLite's path flushed already).
    rows = session.connection().execute(_VOTES, {"thread_id": thread.id,
                                                 "user_id": actor.id}).all()
    for audience, value, count, holds_mine, my_id, cast_at in rows:
        if holds_mine:
            count -= 1
            mine = session.identity_map.get(identity_key(Vote, my_id))
            if mine is None:
                mine = Vote(id=my_id, thread_id=thread.id, user_id=actor.id, value=value,
                            audience=audience, created_at=cast_at)
                make_transient_to_detached(mine)  # as if loaded; updated_at stays unloaded
                session.add(mine)
        tallies.setdefault(audience, {"up": 0, "down": 0})["up" if value > 0 else "down"] += count
    return mine, tallies


def _set_vote(actor: User, thread: LockedThread, value: int | None) -> ThreadView:
    """The caller's vote becomes `value` (None: withdrawn); counters recounted under the lock.

    PostgreSQL: the thread was read under its row lock, so the votes read now are current and
    one flush at commit writes the vote and the counters. SQLite has no row lock: the vote is
    written first (from there on writers are serialised), then the thread and the votes are
    read again.
    """
    existing, tallies = _votes(actor, thread)
    changed = (existing.value if existing is not None else None) != value
    now = time.now()

    def write() -> None:
        if value is None:
            db.session.delete(existing)
        elif existing is None:
            db.session.add(Vote(thread_id=thread.id, user_id=actor.id, value=value,
                                audience=actor.audience, created_at=now, updated_at=now))
        else:
            existing.value, existing.audience, existing.updated_at = value, actor.audience, now

    if changed and not row_locks():
        write()
        db.session.flush()
        reread_columns(thread)
        _require_votable(actor, thread)
        _, tallies = _votes(actor, thread)
    if value is not None:
        tallies.setdefault(actor.audience, {"up": 0, "down": 0})["up" if value > 0 else "down"] += 1
    if changed:
        if row_locks():
            write()
        upvotes = sum(t["up"] for t in tallies.values())
        downvotes = sum(t["down"] for t in tallies.values())
        counters = {"upvotes": upvotes, "downvotes": downvotes,
                    "top_score": ranking.wilson_lower_bound(upvotes, downvotes)}
        if value is not None and value > 0:
            counters["trending_score"] = ranking.add_activity(thread.trending_score,
                                                              ranking.UPVOTE_WEIGHT, now)
        write_counters(thread, **counters)
    commit_keeping(thread)
    return ThreadView(thread, value, tallies)


def vote(actor: User, thread_id: int, value: int) -> ThreadView:
    """Cast or change the caller's vote; repeating the same vote changes nothing.

    The same person voting twice at once (SQLite has no row lock) may lose the race to insert:
    the unique vote constraint then says the vote exists, and the second try is the no-op.
    """
    try:
        return _vote(actor, thread_id, value)
    except IntegrityError:
        db.session.rollback()
        return _vote(actor, thread_id, value)


def _vote(actor: User, thread_id: int, value: int) -> ThreadView:
    thread = find_thread_columns(actor, thread_id, VOTE_COLUMNS)
    _require_votable(actor, thread)
    return _set_vote(actor, thread, value)


def withdraw_vote(actor: User, thread_id: int) -> ThreadView:
    """Remove the caller's vote (if any); past activity still counts, decaying, for trending."""
    thread = find_thread_columns(actor, thread_id, VOTE_COLUMNS)
    _require_votable(actor, thread)
    return _set_vote(actor, thread, None)


def change_status(actor: User, thread_id: int, fields: dict) -> IdeaStatusChange:
    """Move an idea along its lifecycle (owners and moderators), recorded with a public note."""
    thread = find_visible_thread(actor, thread_id)
    require_thread_moderator(actor, thread)
    _require_idea(thread)
    lock_thread(thread)
    change = apply_status(actor, thread, fields["status"], fields["note"])
    db.session.commit()
    return change


def apply_status(actor: User, thread: Thread, target: str, note: str) -> IdeaStatusChange:
    """One lifecycle step, unchecked as to who (callers decide), uncommitted (callers commit)."""
    allowed = TRANSITIONS[thread.status]
    if target not in allowed:
        detail = (f"An idea cannot go from {thread.status} to {target}; allowed: "
                  f"{', '.join(allowed) or 'none'}.")
        raise Conflict(detail, errors={"status": [detail]})
    now = time.now()
    change = IdeaStatusChange(thread_id=thread.id, from_status=thread.status, to_status=target,
                              note=note, actor_id=actor.id, created_at=now,
                              hours_in_status=stay_hours(thread, now))
    db.session.add(change)
    audit.record(actor, "idea.status", "thread", thread.id, community_id=thread.community_id,
                 **{"from": thread.status, "to": target})
    thread.status = target
    thread.updated_at = now
    return change


def stay_hours(thread: Thread, now: datetime) -> float:
    """Hours the idea spent in its current status: since its latest change, or its creation."""
    entered = db.session.scalar(
        select(IdeaStatusChange.created_at).where(IdeaStatusChange.thread_id == thread.id)
        .order_by(IdeaStatusChange.id.desc()).limit(1)) or thread.created_at
    return (now - entered).total_seconds() / 3600


def list_status_changes(viewer: User, thread_id: int) -> list[IdeaStatusChange]:
    return status_history(find_visible_thread(viewer, thread_id))


def merge(actor: User, thread_id: int, into: int) -> ThreadView:
    """Fold a duplicate idea into another: votes move (a voter's vote on the target wins)."""
    source = find_visible_thread(actor, thread_id)
    require_thread_moderator(actor, source)
    _require_idea(source)
    if into == source.id:
        raise InvalidInput({"into": ["An idea cannot be merged into itself."]})
    target = db.session.scalar(select(Thread).where(
        Thread.id == into, Thread.community_id == source.community_id, Thread.deleted_at.is_(None)))
    if target is None:
        raise InvalidInput({"into": ["No such thread in this community."]})
    if target.kind != ThreadKind.IDEA:
        raise InvalidInput({"into": [f"Thread {target.id} is a {target.kind}, not an idea."]})
    for thread in sorted((source, target), key=lambda t: t.id):  # one lock order: no deadlocks
        lock_thread(thread)
    if source.merged_into_id is not None:
        raise Conflict(f"This idea was already merged into thread {source.merged_into_id}.")
    if target.merged_into_id is not None:
        raise InvalidInput({"into": [f"Thread {target.id} was itself merged into "
                                     f"thread {target.merged_into_id}."]})
    target_voters = set(db.session.scalars(select(Vote.user_id).where(Vote.thread_id == target.id)))
    moved_upvotes = []
    for vote_row in db.session.scalars(select(Vote).where(Vote.thread_id == source.id)).all():
        if vote_row.user_id in target_voters:
            db.session.delete(vote_row)
        else:
            vote_row.thread_id = target.id
            if vote_row.value > 0:
                moved_upvotes.append(vote_row.updated_at)
    db.session.flush()
    now = time.now()
    for thread in (source, target):
        reread_thread(thread)
        _recount(thread)
    for at in moved_upvotes:
        target.trending_score = ranking.add_activity(target.trending_score,
                                                     ranking.UPVOTE_WEIGHT, at)
    db.session.add(IdeaStatusChange(
        thread_id=source.id, from_status=source.status, to_status=S.DUPLICATE,
        note=f"Merged into thread {target.id}.", actor_id=actor.id, created_at=now,
        hours_in_status=stay_hours(source, now)))
    source.status = S.DUPLICATE
    source.merged_into_id = target.id
    audit.record(actor, "idea.merge", "thread", source.id, community_id=source.community_id,
                 into=target.id)
    source.locked = True
    source.updated_at = now
    db.session.commit()
    return thread_view(actor, source)
