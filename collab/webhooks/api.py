"""Webhook subscription endpoints (scope `webhooks`)."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.schemas import PageArgs, page_schema
from collab.webhooks import service
from collab.webhooks.schemas import (
    DeliveryOut,
    NewSubscriptionOut,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionUpdate,
)

blueprint = Blueprint("webhooks", __name__, description="Webhook subscriptions and deliveries")
DeliveryPage = page_schema(DeliveryOut, "DeliveryPage")


@blueprint.post("/webhooks")
@blueprint.arguments(SubscriptionCreate, example={
    "url": "https://hooks.example.com/collab", "events": ["thread.created", "post.created"],
    "community": "product-ideas"})
@blueprint.response(201, NewSubscriptionOut)
def create_subscription(fields):
    """Subscribe a URL to events; you receive only events about communities you may see."""
    return service.create_subscription(current_user(), fields)


@blueprint.get("/webhooks")
@blueprint.response(200, SubscriptionOut(many=True))
def list_subscriptions():
    """The caller's subscriptions."""
    return service.list_subscriptions(current_user())


@blueprint.get("/webhooks/<int:subscription_id>")
@blueprint.response(200, SubscriptionOut)
def get_subscription(subscription_id):
    return service.get_subscription(current_user(), subscription_id)


@blueprint.patch("/webhooks/<int:subscription_id>")
@blueprint.arguments(SubscriptionUpdate, example={"active": True})
@blueprint.response(200, SubscriptionOut)
def update_subscription(fields, subscription_id):
    """Change the URL or events; `active: true` re-enables an automatically disabled one."""
    return service.update_subscription(current_user(), subscription_id, fields)


@blueprint.delete("/webhooks/<int:subscription_id>")
@blueprint.response(204)
def delete_subscription(subscription_id):
    service.delete_subscription(current_user(), subscription_id)


@blueprint.post("/webhooks/<int:subscription_id>/ping")
@blueprint.response(202, DeliveryOut)
def ping(subscription_id):
    """Queue a `ping` event."""
    return service.ping(current_user(), subscription_id)


@blueprint.get("/webhooks/<int:subscription_id>/deliveries")
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, DeliveryPage)
def list_deliveries(args, subscription_id):
    """The delivery log, newest first: status, response codes and timings of each attempt."""
    return service.list_deliveries(current_user(), subscription_id, args)


@blueprint.post("/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver")
@blueprint.response(202, DeliveryOut)
def redeliver(subscription_id, delivery_id):
    """Queue the same event again (same `webhook-id`)."""
    return service.redeliver(current_user(), subscription_id, delivery_id)
