"""Vote rules for posts: one vote per person and post, never on one's own post.

Like idea votes (collab/ideas/service.py), every change locks the post row first, writes, then
recounts from the post_votes table, so counts stay exact under concurrent voters. The counts are
not part of the search documents, so a vote writes no search outbox row (collab/outbox.py).
"""
from sqlalchemy import func, select

from collab import time
from collab.answers.models import PostVote
from collab.db import db
from collab.errors import Forbidden, NotFound
from collab.people.models import User
from collab.threads.models import Post
from collab.threads.service import PostView, find_visible_post, post_views, require_can_write


def _require_votable(actor: User, post: Post) -> None:
    """Checked again under the lock, so a concurrent delete, lock or merge is seen."""
    if post.deleted_at is not None:
        raise NotFound(f"No post {post.id}.")
    require_can_write(actor, post.thread)
    if post.author_id == actor.id:
        raise Forbidden("You cannot vote on your own post.")


def _lock_post(post: Post) -> None:
    """Re-read the post under a row lock (held until commit) before changing its counts."""
    db.session.execute(select(Post.id).where(Post.id == post.id).with_for_update())
    db.session.refresh(post)
    db.session.refresh(post.thread)


def _recount(post: Post) -> None:
    counts = dict(db.session.execute(select(PostVote.value, func.count()).where(
        PostVote.post_id == post.id).group_by(PostVote.value)).all())
    post.upvotes = counts.get(1, 0)
    post.downvotes = counts.get(-1, 0)
    post.score = post.upvotes - post.downvotes


def _my_vote(actor: User, post: Post) -> PostVote | None:
    return db.session.scalar(select(PostVote).where(PostVote.post_id == post.id,
                                                    PostVote.user_id == actor.id))


def _change(actor: User, post_id: int, value: int | None) -> PostView:
    """Set the caller's vote to `value` (None: withdraw); the same vote again changes nothing."""
    post = find_visible_post(actor, post_id)
    _require_votable(actor, post)
    _lock_post(post)
    _require_votable(actor, post)
    existing = _my_vote(actor, post)
    current = existing.value if existing is not None else None
    if current != value:
        now = time.now()
        if existing is None:
            db.session.add(PostVote(post_id=post.id, user_id=actor.id, value=value,
                                    created_at=now, updated_at=now))
        elif value is None:
            db.session.delete(existing)
        else:
            existing.value, existing.updated_at = value, now
        db.session.flush()
        # SQLite serialises writers at their first write: only from here is the count current.
        db.session.refresh(post)
        _recount(post)
    db.session.commit()
    return post_views(actor, [post])[0]


def vote(actor: User, post_id: int, value: int) -> PostView:
    return _change(actor, post_id, value)


def withdraw_vote(actor: User, post_id: int) -> PostView:
    return _change(actor, post_id, None)
