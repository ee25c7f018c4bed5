"""A thread's concern, read with the thread by the statement that loads and locks it for a write
(threads.service.find_thread_columns), so scoring a new reply (concerns.service._record) asks
no more: most threads have none, and a reply below the threshold then writes nothing.

The row read is a snapshot: an update made from it only applies if the concern still holds the
score, flags and reasons it was computed from (else it is recomputed from a fresh read), and it
serves once, in the transaction that read it.
"""
from sqlalchemy.orm import Session

from collab.concerns.models import Concern
from collab.db import keep_for_transaction, kept_for_transaction

KEY = "collab_concerns_remembered"
TABLE = Concern.__table__
# Selected beside the thread (an outer join on the unique thread_id): all NULL when it has none.
COLUMNS = (TABLE.c.id.label("concern_id"), TABLE.c.score.label("concern_score"),
           TABLE.c.flags.label("concern_flags"), TABLE.c.reasons.label("concern_reasons"))
UNKNOWN = object()


def join_condition(thread_id_column):
    return TABLE.c.thread_id == thread_id_column


def remember(session: Session, thread_id: int, concern_id, score, flags, reasons) -> None:
    """What the thread's statement read of its concern (concern_id None: it has none)."""
    row = None if concern_id is None else (concern_id, score, flags, reasons)
    rows = kept_for_transaction(session, KEY)
    if rows is None:
        rows = {}
        keep_for_transaction(session, KEY, rows)
    rows[thread_id] = row


def take(session: Session, thread_id: int):
    """The concern row (id, score, flags, reasons) or None read earlier in this transaction, once;
    UNKNOWN when it was not read (or was already used)."""
    rows = kept_for_transaction(session, KEY)
    return UNKNOWN if rows is None else rows.pop(thread_id, UNKNOWN)
