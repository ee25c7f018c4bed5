"""Digest rules: a community's news since a date, for anyone who may see the community.

Everything comes from the community itself (visible to the caller by the permission door); open
concerns are listed for owners and moderators only, other readers get their number. Newly
answered questions and new experts are those whose answers were accepted in the period
(threads.answer_accepted_at), however old the answer.
"""
from datetime import timedelta

from sqlalchemy import func, select

from collab import time
from collab.concerns.models import Concern, ConcernState
from collab.db import db
from collab.errors import InvalidInput
from collab.ideas.models import IdeaStatusChange
from collab.people.models import User
from collab.permissions import find_visible_community, is_moderator
from collab.threads.models import Post, Thread, ThreadKind, ThreadTag

SIZE = 5


def digest(viewer: User, slug: str, args: dict) -> dict:
    community = find_visible_community(viewer, slug)
    now = time.now()
    since = args.get("since") or now - timedelta(days=7)
    if since.tzinfo is None:
        since = since.replace(tzinfo=now.tzinfo)
    if since >= now:
        raise InvalidInput({"since": ["Must be in the past."]})
    live = (Thread.community_id == community.id, Thread.deleted_at.is_(None),
            Thread.merged_into_id.is_(None))

    def threads(statement):
        return [{"id": t.id, "title": t.title, "kind": t.kind, "status": t.status,
                 "reply_count": t.reply_count, "score": t.upvotes - t.downvotes,
                 "created_at": t.created_at}
                for t in db.session.scalars(statement.limit(SIZE))]
    new_threads = threads(select(Thread).where(*live, Thread.created_at >= since)
                          .order_by(Thread.created_at.desc(), Thread.id.desc()))
    rising = threads(select(Thread).where(*live, Thread.last_activity_at >= since)
                     .order_by(Thread.trending_score.desc(), Thread.id.desc()))
    answered = threads(select(Thread).where(*live, Thread.kind == ThreadKind.QUESTION,
                                            Thread.accepted_post_id.is_not(None),
                                            Thread.answer_accepted_at >= since)
                       .order_by(Thread.answer_accepted_at.desc(), Thread.id.desc()))
    moves = db.session.execute(
        select(Thread.id, Thread.title, IdeaStatusChange.from_status, IdeaStatusChange.to_status,
               IdeaStatusChange.note, IdeaStatusChange.created_at)
        .join(Thread, Thread.id == IdeaStatusChange.thread_id)
        .where(*live, IdeaStatusChange.created_at >= since)
        .order_by(IdeaStatusChange.created_at.desc(), IdeaStatusChange.id.desc()).limit(SIZE * 2))
    ideas = [{"thread_id": m.id, "title": m.title, "from_status": m.from_status,
              "to_status": m.to_status, "note": m.note, "at": m.created_at} for m in moves]
    open_states = (ConcernState.OPEN, ConcernState.ACKNOWLEDGED)
    concerns_statement = (select(Concern.id, Concern.state, Concern.opened_at, Thread.id,
                                 Thread.title)
                          .join(Thread, Thread.id == Concern.thread_id)
                          .where(*live, Concern.state.in_(open_states)))
    open_count = db.session.scalar(select(func.count()).select_from(
        concerns_statement.subquery()))
    concerns = None
    if is_moderator(viewer, community):
        concerns = [{"id": c[0], "state": c[1], "opened_at": c[2], "thread_id": c[3],
                     "title": c[4]} for c in db.session.execute(
            concerns_statement.order_by(Concern.opened_at).limit(SIZE))]
    return {"community": community.slug, "since": since, "until": now,
            "new_threads": new_threads, "rising_threads": rising,
            "newly_answered": answered, "ideas_moved": ideas,
            "open_concerns": {"count": open_count, "items": concerns},
            "new_experts": _new_experts(community, since)}


def _new_experts(community, since) -> list[dict]:
    """People whose answers were accepted in the period, most accepted first."""
    rows = db.session.execute(
        select(Post.author_id, func.count().label("accepted"))
        .join(Thread, Thread.accepted_post_id == Post.id)
        .where(Thread.community_id == community.id, Thread.deleted_at.is_(None),
               Post.deleted_at.is_(None), Thread.answer_accepted_at >= since)
        .group_by(Post.author_id).order_by(func.count().desc(), Post.author_id)
        .limit(SIZE)).all()
    users = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([r.author_id for r in rows])))} if rows else {}
    tags: dict[int, list[str]] = {}
    for author_id, tag in db.session.execute(
            select(Post.author_id, ThreadTag.tag)
            .join(Thread, Thread.accepted_post_id == Post.id)
            .join(ThreadTag, ThreadTag.thread_id == Thread.id)
            .where(Thread.community_id == community.id, Thread.answer_accepted_at >= since,
                   Post.author_id.in_(list(users)))):
        tags.setdefault(author_id, []).append(tag)
    return [{"user": users[r.author_id], "accepted_answers": r.accepted,
             "tags": sorted(set(tags.get(r.author_id, [])))[:3]} for r in rows]
