"""Rows a write reads and writes by Core statements, outside the unit of work.

Posts written by a Core INSERT (threads.service.create_post), outside the unit of work: the
features that watch a flush's new posts (the search outbox, webhooks, concern scoring, the insight
roll-up) are told here as well, through the same code their flush listener runs for a new post.

A listener is called with the session (its transaction holds the new row) and the post: an
object with the row's columns as attributes (`id`, `thread_id`, `author_id`, `parent_id`,
`body`, `created_at`, ...), not an ORM entity.
"""
from collections.abc import Callable

from sqlalchemy.orm.util import identity_key

from collab.db import keep_for_transaction, kept_for_transaction
from collab.threads.models import Thread

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


LOCKED_KEY = "collab_threads_locked"


def remember_locked(session, thread) -> None:
    """A thread read and locked as plain columns (threads.service.find_thread_columns), kept for
    its transaction, so flush listeners that would look for a loaded Thread (its community,
    author, whether live) read it here instead of asking the database again."""
    threads = kept_for_transaction(session, LOCKED_KEY)
    if threads is None:
        threads = {}
        keep_for_transaction(session, LOCKED_KEY, threads)
    threads[thread.id] = thread


def locked_thread(session, thread_id: int):
    """The thread remember_locked kept in this transaction, or None."""
    threads = kept_for_transaction(session, LOCKED_KEY)
    return None if threads is None else threads.get(thread_id)


def loaded_thread(session, thread_id: int):
    """The thread as this transaction already holds it, without a statement: loaded in the
    session (an ORM Thread), or read as plain columns by the write (remember_locked); or None."""
    thread = session.identity_map.get(identity_key(Thread, thread_id))
    return thread if thread is not None else locked_thread(session, thread_id)
