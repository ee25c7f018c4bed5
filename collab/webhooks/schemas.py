"""Webhook subscriptions and deliveries in and out."""
from urllib.parse import urlsplit

from marshmallow import ValidationError, fields, validate

from collab.schemas import StrictSchema
from collab.webhooks.models import EventType

EVENT = validate.OneOf([e.value for e in EventType if e != EventType.PING])


def _http_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("An http:// or https:// URL.")


class SubscriptionCreate(StrictSchema):
    url = fields.String(required=True, validate=[validate.Length(1, 2000), _http_url])
    events = fields.List(fields.String(validate=EVENT), required=True,
                         validate=validate.Length(min=1))
    community = fields.String(load_default=None, allow_none=True,
                              metadata={"description": "Only events of this community (slug)."})
    secret = fields.String(load_default=None, validate=validate.Regexp(
        r"^whsec_[A-Za-z0-9+/]{32,88}={0,2}$", error="whsec_ followed by base64 (24-64 bytes)."),
        metadata={"description": "Optional; generated when omitted."})


class SubscriptionUpdate(StrictSchema):
    url = fields.String(validate=[validate.Length(1, 2000), _http_url])
    events = fields.List(fields.String(validate=EVENT), validate=validate.Length(min=1))
    active = fields.Boolean(metadata={"description": "Re-enable a disabled subscription."})


class SubscriptionOut(StrictSchema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String(), attribute="event_list")
    community = fields.Function(lambda s: s.community_slug)
    active = fields.Boolean()
    consecutive_failures = fields.Integer()
    disabled_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


class NewSubscriptionOut(SubscriptionOut):
    secret = fields.String(metadata={"description": "Signing secret; shown only on creation."})


class AttemptOut(StrictSchema):
    attempted_at = fields.DateTime()
    status_code = fields.Integer(allow_none=True)
    duration_ms = fields.Integer()
    error = fields.String(allow_none=True)


class DeliveryOut(StrictSchema):
    id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    created_at = fields.DateTime()
    next_attempt_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    attempt_log = fields.List(fields.Nested(AttemptOut), attribute="attempt_rows")
