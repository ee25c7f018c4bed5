"""Who subscribes, read with a write's first statement instead of in a statement of its own.

Every write's transaction asks which subscriptions are active before it writes its deliveries
(events.py). A write that starts by reading its thread under lock (threads.service's
find_thread_columns) reads them in that same statement, as one aggregated string
(`active_column`), and remembers them for its transaction (`remember`); the deliveries then use
them (`remembered`) and skip their own SELECT. Nothing outlives the transaction: this is the
read the transaction would do anyway, done earlier in it (no cache). A transaction that itself
changes a subscription forgets them (`forget`), and reads again.
"""
from sqlalchemy import String, cast, func, literal_column
from sqlalchemy.orm import Session

from collab.db import keep_for_transaction, kept_for_transaction
from collab.webhooks.models import WebhookSubscription

ACTIVE_KEY = "webhook_subscriptions_active"
_subscriptions = WebhookSubscription.__table__


def active_column():
    """A scalar subquery: the active subscriptions as `id,community_id,events` joined by `;`
    (community_id empty for every community; events space-separated), NULL when none."""
    entry = (cast(_subscriptions.c.id, String) + literal_column("','")
             + func.coalesce(cast(_subscriptions.c.community_id, String), literal_column("''"))
             + literal_column("','") + _subscriptions.c.events)
    return (func.aggregate_strings(entry, literal_column("';'"))
            .select().where(_subscriptions.c.active).scalar_subquery())


def parse(text: str | None) -> list[tuple[int, str, int | None]]:
    """(id, events, community_id) per active subscription, as events.py's SELECT gives them."""
    found = []
    for entry in (text or "").split(";") if text else ():
        subscription_id, community_id, events = entry.split(",", 2)
        found.append((int(subscription_id), events,
                      int(community_id) if community_id else None))
    return found


def remember(session: Session, text: str | None) -> None:
    """The active subscriptions read in this transaction (active_column's value)."""
    keep_for_transaction(session, ACTIVE_KEY, parse(text))


def remembered(session: Session) -> list | None:
    """The active subscriptions read earlier in this transaction, or None (ask the database)."""
    return kept_for_transaction(session, ACTIVE_KEY)


def forget(session: Session) -> None:
    session.info.pop(ACTIVE_KEY, None)
