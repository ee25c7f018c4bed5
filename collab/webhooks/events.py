"""Webhook events are written by session events, in the transaction of the change.

Like the search outbox (collab/outbox.py), no service calls this module: after each flush it
looks at new and changed threads, posts, votes, idea status changes, memberships and reopened
concerns and turns them into events (one per entity and transaction), and before the commit it
inserts one delivery row per event and matching active subscription on the transaction's
connection. A concern opened by the concerns' own scoring (a Core insert in their session
listener) arrives by their `concern_opened` signal and is written at once, on the same
connection. The change and its deliveries commit or roll back together; the sender
(collab/webhooks/delivery.py) drains them.
"""
import json
import uuid

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from collab import time
from collab.communities.models import Community, Membership, MembershipStatus
from collab.concerns.models import Concern, ConcernState
from collab.db import changed_columns, collect_outside_flush, db, listen_as_outbox
from collab.ideas.models import IdeaStatusChange, Vote
from collab.threads import written
from collab.threads.models import Post, Thread
from collab.webhooks import subscribers
from collab.webhooks.models import EventType, WebhookDelivery, WebhookSubscription

PENDING_KEY = "webhook_deliveries_pending"
THREAD_FIELDS = ("title", "body", "status", "pinned", "locked", "kind", "merged_into_id",
                 "accepted_post_id", "deleted_at", "community_id")


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _thread_data(thread: Thread) -> dict:
    return {"id": thread.id, "kind": thread.kind, "title": thread.title, "status": thread.status,
            "author_id": thread.author_id, "pinned": thread.pinned, "locked": thread.locked,
            "deleted": thread.deleted_at is not None, "merged_into": thread.merged_into_id}


def _concern_data(concern_id: int, thread_id: int, score: float, reasons: list[str],
                  opened_at, reopened: bool) -> dict:
    return {"concern": {"id": concern_id, "thread_id": thread_id, "state": ConcernState.OPEN.value,
                        "score": score, "reasons": reasons, "opened_at": opened_at.isoformat(),
                        "reopened": reopened}}


def _post_created(post) -> tuple:
    return (EventType.POST_CREATED, None, post.thread_id, {"post": {
        "id": post.id, "thread_id": post.thread_id, "author_id": post.author_id,
        "parent_id": post.parent_id, "body": post.body}})


def _events(session: Session) -> list[tuple[str, int | None, int | None, dict]]:
    """(type, community id, thread id, data) for each change in this flush."""
    found = []
    new_threads = set()
    for obj in session.new:
        if isinstance(obj, Thread):
            new_threads.add(obj.id)
            found.append((EventType.THREAD_CREATED, obj.community_id, obj.id,
                          {"thread": _thread_data(obj)}))
        elif isinstance(obj, Post):
            found.append(_post_created(obj))
        elif isinstance(obj, IdeaStatusChange):
            found.append((EventType.IDEA_STATUS_CHANGED, None, obj.thread_id, {
                "thread_id": obj.thread_id, "from_status": obj.from_status,
                "to_status": obj.to_status, "note": obj.note, "actor_id": obj.actor_id}))
        elif isinstance(obj, Vote):
            found.append((EventType.VOTE_CHANGED, None, obj.thread_id,
                          {"thread_id": obj.thread_id, "user_id": obj.user_id, "value": obj.value}))
        elif isinstance(obj, Membership) and obj.status == MembershipStatus.ACTIVE:
            found.append((EventType.MEMBER_JOINED, obj.community_id, None,
                          {"user_id": obj.user_id, "role": obj.role}))
        elif isinstance(obj, WebhookSubscription):
            subscribers.forget(session)  # changed in this transaction: read them again
    for obj in session.dirty:
        if isinstance(obj, Thread) and obj.id not in new_threads:
            changed = sorted(changed_columns(obj) & set(THREAD_FIELDS))
            if changed:
                found.append((EventType.THREAD_UPDATED, obj.community_id, obj.id,
                              {"thread": _thread_data(obj), "changed": changed}))
        elif isinstance(obj, Vote) and "value" in changed_columns(obj):
            found.append((EventType.VOTE_CHANGED, None, obj.thread_id,
                          {"thread_id": obj.thread_id, "user_id": obj.user_id, "value": obj.value}))
        elif isinstance(obj, Membership):
            changed = changed_columns(obj)
            if "status" in changed and obj.status == MembershipStatus.ACTIVE:
                found.append((EventType.MEMBER_JOINED, obj.community_id, None,
                              {"user_id": obj.user_id, "role": obj.role}))
            elif "role" in changed and obj.status == MembershipStatus.ACTIVE:
                previous = db.inspect(obj).attrs["role"].history.deleted
                found.append((EventType.MEMBER_ROLE_CHANGED, obj.community_id, None, {
                    "user_id": obj.user_id, "role": obj.role,
                    "previous_role": previous[0] if previous else None}))
        elif (isinstance(obj, Concern) and "state" in changed_columns(obj)
              and obj.state == ConcernState.OPEN):
            found.append((EventType.CONCERN_OPENED, obj.community_id, obj.thread_id, _concern_data(
                obj.id, obj.thread_id, obj.score, [r for r in obj.reasons.split(",") if r],
                obj.updated_at, reopened=True)))
        elif isinstance(obj, WebhookSubscription):
            subscribers.forget(session)
    for obj in session.deleted:
        if isinstance(obj, Vote):
            found.append((EventType.VOTE_CHANGED, None, obj.thread_id,
                          {"thread_id": obj.thread_id, "user_id": obj.user_id, "value": None}))
        elif isinstance(obj, WebhookSubscription):
            subscribers.forget(session)
    return found


def _collect_flush(session: Session, events: dict | None) -> dict | None:
    """After each flush: the transaction's events, one per entity (a later change replaces it)."""
    return _add_events(events, _events(session))


@written.listen
def _post_written(session: Session, post) -> None:
    """A reply inserted by a Core statement (threads.service.create_post): as a new Post in a flush."""
    collect_outside_flush(session, PENDING_KEY, lambda events: _add_events(events, [_post_created(post)]))


def _add_events(events: dict | None, found: list) -> dict | None:
    if not found:
        return events
    events = {} if events is None else events
    for event in found:
        kind, _, thread_id, data = event
        if kind == EventType.THREAD_UPDATED:
            key = (kind, thread_id)
            if key in events:  # changed again: one event naming every change
                changed = sorted(set(events[key][3]["changed"]) | set(data["changed"]))
                event = (*event[:3], {**data, "changed": changed})
        elif kind == EventType.VOTE_CHANGED:
            key = (kind, thread_id, data["user_id"])
        else:
            key = object()  # distinct events (created posts, status changes) all stay
        events.pop(key, None)  # keep the order of the latest change
        events[key] = event
    return events


def _concern_opened(session: Session, *, concern_id: int, community_id: int, thread_id: int,
                    score: float, reasons: list[str], opened_at, reopened: bool) -> None:
    if _write(session, {"concern": (EventType.CONCERN_OPENED, community_id, thread_id, _concern_data(
            concern_id, thread_id, score, reasons, opened_at, reopened))}):
        session.info[PENDING_KEY] = True


# Every write's transaction asks (built once), unless it read them already: who subscribes.
_ACTIVE_SUBSCRIPTIONS = select(WebhookSubscription.__table__.c.id,
                               WebhookSubscription.__table__.c.events,
                               WebhookSubscription.__table__.c.community_id).where(
    WebhookSubscription.__table__.c.active)


def _write(session: Session, events: dict, context=None) -> bool:
    """Once per transaction: one delivery per event and matching active subscription."""
    events = list(events.values())
    if not events:
        return False
    connection = session.connection()
    active = subscribers.remembered(session)  # read with the write's first statement, if so
    if active is None:
        active = connection.execute(_ACTIVE_SUBSCRIPTIONS).all()
    if not active:
        return False
    threads, communities = Thread.__table__, Community.__table__
    thread_ids = {thread_id for _, community_id, thread_id, _ in events
                  if community_id is None and thread_id is not None}
    community_of = dict(connection.execute(select(threads.c.id, threads.c.community_id)
                                           .where(threads.c.id.in_(thread_ids))).all()) \
        if thread_ids else {}
    resolved = [(kind, community_id or community_of.get(thread_id), thread_id, data)
                for kind, community_id, thread_id, data in events]
    slugs = dict(connection.execute(select(communities.c.id, communities.c.slug).where(
        communities.c.id.in_({c for _, c, _, _ in resolved if c is not None}))).all())
    stamp = time.now()
    rows = []
    for kind, community_id, thread_id, data in resolved:
        event_id = new_event_id()
        body = json.dumps({"type": kind, "timestamp": stamp.isoformat(), "data": {
            "community": {"id": community_id, "slug": slugs.get(community_id)}, **data}},
            separators=(",", ":"))
        for subscription_id, types, only_community in active:
            if kind in types.split() and only_community in (None, community_id):
                rows.append({"subscription_id": subscription_id, "event_id": event_id,
                             "event_type": kind, "community_id": community_id,
                             "thread_id": thread_id, "payload": body, "status": "pending",
                             "attempts": 0, "created_at": stamp, "next_attempt_at": stamp})
    if rows:
        connection.execute(insert(WebhookDelivery.__table__), rows)
        return True
    return False


def listen(session_class: type[Session]) -> None:
    """Attach the listeners once per session class (idempotent)."""
    listen_as_outbox(session_class, _collect_flush, _write, PENDING_KEY, "webhooks_wake")
    from collab.concerns.service import concern_opened

    concern_opened.connect(_concern_opened, weak=False)  # connecting again is a no-op
