"""Subscribing to webhooks, reading the delivery log, ping and manual redelivery."""
import base64
import json
import secrets

from sqlalchemy import select

from collab import time
from collab.communities.models import Community
from collab.db import db
from collab.errors import InvalidInput, NotFound
from collab.pagination import Page, SortKey, paginate
from collab.people.models import User
from collab.permissions import find_visible_community
from collab.webhooks import targets
from collab.webhooks.events import new_event_id
from collab.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookSubscription,
)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _with_slug(subscription: WebhookSubscription) -> WebhookSubscription:
    subscription.community_slug = (db.session.scalar(select(Community.slug).where(
        Community.id == subscription.community_id)) if subscription.community_id else None)
    return subscription


def _mine(actor: User, subscription_id: int) -> WebhookSubscription:
    """The caller's subscription (admins: any); others' are 404."""
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None or not (actor.is_admin or subscription.owner_id == actor.id):
        raise NotFound(f"No webhook subscription {subscription_id}.")
    return subscription


def _ordered_events(events: list[str]) -> str:
    return " ".join(e.value for e in EventType if e.value in set(events))


def _check_target(url: str) -> None:
    refused = targets.check_url(url)
    if refused is not None:
        raise InvalidInput({"url": [refused]}, "The webhook URL may not be a target.")


def create_subscription(actor: User, fields: dict) -> WebhookSubscription:
    _check_target(fields["url"])
    community_id = None
    if fields["community"] is not None:
        try:
            community_id = find_visible_community(actor, fields["community"]).id
        except NotFound:
            raise InvalidInput({"community": [f"No community '{fields['community']}'."]}) from None
    subscription = WebhookSubscription(
        owner_id=actor.id, url=fields["url"], secret=fields["secret"] or new_secret(),
        events=_ordered_events(fields["events"]), community_id=community_id, active=True,
        consecutive_failures=0)
    db.session.add(subscription)
    db.session.commit()
    return _with_slug(subscription)


def list_subscriptions(actor: User) -> list[WebhookSubscription]:
    return [_with_slug(s) for s in db.session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.owner_id == actor.id)
        .order_by(WebhookSubscription.id))]


def get_subscription(actor: User, subscription_id: int) -> WebhookSubscription:
    return _with_slug(_mine(actor, subscription_id))


def update_subscription(actor: User, subscription_id: int, fields: dict) -> WebhookSubscription:
    subscription = _mine(actor, subscription_id)
    if "url" in fields:
        _check_target(fields["url"])
        subscription.url = fields["url"]
    if "events" in fields:
        subscription.events = _ordered_events(fields["events"])
    if fields.get("active") is True and not subscription.active:
        subscription.active, subscription.disabled_reason = True, None
        subscription.consecutive_failures = 0
    elif fields.get("active") is False:
        subscription.active, subscription.disabled_reason = False, "Disabled by its owner."
    db.session.commit()
    _wake()
    return _with_slug(subscription)


def delete_subscription(actor: User, subscription_id: int) -> None:
    db.session.delete(_mine(actor, subscription_id))
    db.session.commit()


def _queue(subscription: WebhookSubscription, **fields) -> WebhookDelivery:
    stamp = time.now()
    delivery = WebhookDelivery(subscription_id=subscription.id, status=DeliveryStatus.PENDING,
                               attempts=0, created_at=stamp, next_attempt_at=stamp, **fields)
    db.session.add(delivery)
    db.session.commit()
    _wake()
    return delivery


def ping(actor: User, subscription_id: int) -> WebhookDelivery:
    """Queue a `ping` event, to check the receiver and its signature verification."""
    subscription = _mine(actor, subscription_id)
    stamp = time.now()
    body = json.dumps({"type": EventType.PING, "timestamp": stamp.isoformat(),
                       "data": {"subscription_id": subscription.id}}, separators=(",", ":"))
    return _queue(subscription, event_id=new_event_id(), event_type=EventType.PING, payload=body)


def list_deliveries(actor: User, subscription_id: int, args: dict) -> Page:
    """The delivery log, newest first, each with its attempts (codes and timings)."""
    subscription = _mine(actor, subscription_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    return paginate(statement, [SortKey(WebhookDelivery.id)], args["limit"], args["cursor"])


def redeliver(actor: User, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """Send an event again (same `webhook-id`, so receivers can de-duplicate)."""
    subscription = _mine(actor, subscription_id)
    original = db.session.get(WebhookDelivery, delivery_id)
    if original is None or original.subscription_id != subscription.id:
        raise NotFound(f"No delivery {delivery_id}.")
    return _queue(subscription, event_id=original.event_id, event_type=original.event_type,
                  community_id=original.community_id, thread_id=original.thread_id,
                  payload=original.payload)


def _wake() -> None:
    from flask import current_app

    wake = current_app.extensions.get("webhooks_wake")
    if wake is not None:
        wake()
