"""Posts written by a Core INSERT (threads.service.create_post), outside the unit of work: the
features that watch a flush's new posts (the search outbox, webhooks, concern scoring, the insight
roll-up) are told here as well, through the same code their flush listener runs for a new post.

A listener is called with the session (its transaction holds the new row) and the post: an
object with the row's columns as attributes (`id`, `thread_id`, `author_id`, `parent_id`,
`body`, `created_at`, ...), not an ORM entity.
"""
from collections.abc import Callable

_LISTENERS: list[Callable] = []


def listen(listener: Callable) -> Callable:
    """Call `listener(session, post)` for every post written outside a flush (idempotent)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    return listener


def post_written(session, post) -> None:
    """Tell every listener about `post`, just inserted in the session's transaction."""
    for listener in _LISTENERS:
        listener(session, post)
