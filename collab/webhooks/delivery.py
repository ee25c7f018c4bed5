"""Sends webhook deliveries: Standard Webhooks signatures, retries with backoff, auto-disable.

Deliveries of one subscription about one thread go out in the order they were written: a
delivery waits while an earlier one of the same thread is still pending (retrying). Each attempt
is logged with its response code and duration. Before sending, the subscriber's right to see the
event's community is checked again, so a member who left stops receiving (and `concern.*`
events go only to the community's owners and moderators, whose queue they belong to).
One sender at a time is assumed (the CLI worker or the in-process thread); receivers should
de-duplicate on `webhook-id` like any Standard Webhooks consumer.
"""
import base64
import hashlib
import hmac
import logging
import random
import threading
import time as clock
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select, update

from collab import time
from collab.communities.models import Community
from collab.db import db
from collab.permissions import is_moderator, visible_communities
from collab.webhooks import targets
from collab.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 500
# A claimed delivery is retried after this if its sender dies mid-attempt.
LEASE = timedelta(seconds=120)
USER_AGENT = "collab-webhooks/1"


def sign(secret: str, event_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, the key being the secret's base64 part."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{event_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def backoff_seconds(attempts: int) -> float:
    config = current_app.config
    base = float(config.get("WEBHOOK_RETRY_BASE_SECONDS", 10))
    cap = float(config.get("WEBHOOK_RETRY_MAX_SECONDS", 3600))
    return min(base * 2 ** (attempts - 1), cap) * random.uniform(0.9, 1.1)


@dataclass
class DrainStats:
    delivered: int = 0
    failed_attempts: int = 0
    skipped: int = 0
    waiting: int = 0
    next_due: datetime | None = None


def _post(url: str, headers: dict, body: str) -> tuple[int | None, str | None]:
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers=headers)
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
    try:
        with targets.open_url(request, timeout=timeout) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except targets.RefusedTarget as error:  # the host resolves elsewhere since it was checked
        return None, f"refused: {error}"[:500]
    except urllib.error.URLError as error:
        if isinstance(error.reason, targets.RefusedTarget):
            return None, f"refused: {error.reason}"[:500]
        return None, str(error.reason)[:500]
    except (OSError, ValueError) as error:
        return None, str(error)[:500]


def _may_see(owner, community_id: int | None, cache: dict) -> bool:
    if owner.deactivated_at is not None:
        return False
    if community_id is None:
        return True
    key = (owner.id, community_id)
    if key not in cache:
        cache[key] = db.session.scalar(select(Community.id).where(
            Community.id == community_id, visible_communities(owner))) is not None
    return cache[key]


def _may_moderate(owner, community_id: int, cache: dict) -> bool:
    """Concern events are the moderation queue's: owners and moderators (and admins) only."""
    key = ("moderate", owner.id, community_id)
    if key not in cache:
        community = db.session.get(Community, community_id)
        cache[key] = community is not None and is_moderator(owner, community)
    return cache[key]


def _may_receive(subscription, delivery, cache: dict) -> bool:
    """Checked at delivery: the owner's rights now, not when the event happened."""
    owner = subscription.owner
    if not _may_see(owner, delivery.community_id, cache) or (
            subscription.community_id is not None
            and not _may_see(owner, subscription.community_id, cache)):
        return False
    if delivery.event_type.startswith("concern.") and (
            delivery.community_id is None
            or not _may_moderate(owner, delivery.community_id, cache)):
        return False
    return True


def send(delivery: WebhookDelivery) -> bool:
    """One attempt; records it and schedules the next one. True when the receiver took it."""
    subscription = delivery.subscription
    config = current_app.config
    timestamp = int(time.now().timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "webhook-id": delivery.event_id, "webhook-timestamp": str(timestamp),
               "webhook-signature": sign(subscription.secret, delivery.event_id, timestamp,
                                         delivery.payload)}
    started = clock.perf_counter()
    status_code, error = _post(subscription.url, headers, delivery.payload)
    duration_ms = int((clock.perf_counter() - started) * 1000)
    now = time.now()
    ok = status_code is not None and 200 <= status_code < 300
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = status_code, None if ok else error
    delivery.attempt_rows.append(WebhookAttempt(attempted_at=now, status_code=status_code,
                                                duration_ms=duration_ms, error=None if ok else error))
    if ok:
        delivery.status, delivery.finished_at = DeliveryStatus.DELIVERED, now
        subscription.consecutive_failures = 0
        return True
    subscription.consecutive_failures += 1
    window = timedelta(seconds=float(config.get("WEBHOOK_RETRY_WINDOW_SECONDS", 86400)))
    retry_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
    if retry_at - delivery.created_at > window:
        delivery.status, delivery.finished_at = DeliveryStatus.FAILED, now
        subscription.active = False
        subscription.disabled_reason = "A delivery failed for the whole retry window."
    else:
        delivery.next_attempt_at = retry_at
    if subscription.consecutive_failures >= int(config.get("WEBHOOK_DISABLE_AFTER_FAILURES", 50)):
        subscription.active = False
        subscription.disabled_reason = (
            f"{subscription.consecutive_failures} consecutive failed attempts.")
    return False


def _claim(ids: list[int], now: datetime) -> set[int]:
    """Take due deliveries for this sender: their due time moves past a lease, if nobody did first."""
    table = WebhookDelivery.__table__
    claimed = set(db.session.execute(
        update(table).where(table.c.id.in_(ids), table.c.status == DeliveryStatus.PENDING,
                            table.c.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE).returning(table.c.id)).scalars())
    db.session.commit()
    return claimed


def _release(delivery_id: int, now: datetime) -> None:
    """Give back a claimed delivery that must wait behind an earlier one of its thread."""
    table = WebhookDelivery.__table__
    db.session.execute(update(table).where(table.c.id == delivery_id).values(next_attempt_at=now))


def drain(limit: int = BATCH_SIZE) -> DrainStats:
    """Send every due delivery once, keeping each thread's deliveries in order."""
    stats = DrainStats()
    now = time.now()
    pending = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.subscription_id, WebhookDelivery.thread_id,
               WebhookDelivery.next_attempt_at, WebhookSubscription.active)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING)
        .order_by(WebhookDelivery.id).limit(limit)).all()
    blocked: set[tuple] = set()
    visible: dict = {}

    def wait(key, due, active=True):
        if key[1] is not None:
            blocked.add(key)
        stats.waiting += 1
        if active and (stats.next_due is None or due < stats.next_due):
            stats.next_due = due

    candidates = []
    for delivery_id, subscription_id, thread_id, due, active in pending:
        key = (subscription_id, thread_id)
        if not active or key in blocked or due > now:
            wait(key, due, active)  # a waiting delivery holds back the later ones of its thread
        else:
            candidates.append((delivery_id, key))
    claimed = _claim([delivery_id for delivery_id, _ in candidates], now) if candidates else set()
    for delivery_id, key in candidates:
        if delivery_id not in claimed:
            wait(key, now + LEASE)  # another sender has it
            continue
        if key in blocked:  # an earlier delivery of this thread failed in this pass
            _release(delivery_id, now)
            db.session.commit()
            stats.waiting += 1
            continue
        delivery = db.session.get(WebhookDelivery, delivery_id)
        subscription = delivery.subscription
        if not _may_receive(subscription, delivery, visible):
            delivery.status, delivery.finished_at = DeliveryStatus.SKIPPED, now
            delivery.last_error = "The subscriber may not see this event."
            stats.skipped += 1
        elif not subscription.active:  # disabled earlier in this pass
            delivery.next_attempt_at = now
            wait(key, now, active=False)
        elif send(delivery):
            stats.delivered += 1
        else:
            stats.failed_attempts += 1
            if delivery.status == DeliveryStatus.PENDING:
                wait(key, delivery.next_attempt_at)
        db.session.commit()
    return stats


def run(app: Flask, *, follow: bool, poll_seconds: float = 1.0, echo=print,
        stop: threading.Event | None = None) -> DrainStats:
    """The worker loop behind `flask webhooks deliver [--follow]`."""
    stop = stop or threading.Event()
    total = DrainStats()
    while True:
        try:
            stats = drain()
            while stats.delivered and follow and not stop.is_set():
                total.delivered += stats.delivered
                total.failed_attempts += stats.failed_attempts
                total.skipped += stats.skipped
                echo(f"delivered {stats.delivered}, failed attempts {stats.failed_attempts}, "
                     f"skipped {stats.skipped}, waiting {stats.waiting}")
                stats = drain()
            total.delivered += stats.delivered
            total.failed_attempts += stats.failed_attempts
            total.skipped += stats.skipped
            total.waiting = stats.waiting
            if stats.delivered or stats.failed_attempts or stats.skipped:
                echo(f"delivered {stats.delivered}, failed attempts {stats.failed_attempts}, "
                     f"skipped {stats.skipped}, waiting {stats.waiting}")
        finally:
            db.session.remove()
        if not follow:
            return total
        stop.wait(poll_seconds)
        if stop.is_set():
            return total


class InProcessSender:
    """A daemon thread woken after each commit that wrote deliveries (development)."""

    def __init__(self, app: Flask):
        self.app = app
        self.event = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def wake(self) -> None:
        if not self.app.config.get("WEBHOOKS_DELIVER_IN_PROCESS"):
            return
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
                self.thread.start()
        self.event.set()

    def _run(self) -> None:
        timeout = None
        while True:
            self.event.wait(timeout)
            self.event.clear()
            if not self.app.config.get("WEBHOOKS_DELIVER_IN_PROCESS"):
                timeout = None  # switched off: sleep until woken
                continue
            with self.app.app_context():
                try:
                    stats = drain()
                    while stats.delivered and stats.waiting:  # more may have become sendable
                        stats = drain()
                    timeout = None if stats.next_due is None else max(
                        0.05, (stats.next_due - time.now()).total_seconds())
                except Exception:  # noqa: BLE001 - a daemon must survive; deliveries stay queued
                    log.exception("in-process webhook delivery failed")
                    timeout = 5.0
                finally:
                    db.session.remove()


def install_in_process_sender(app: Flask) -> None:
    sender = InProcessSender(app)
    app.extensions["webhooks_sender"] = sender
    app.extensions["webhooks_wake"] = sender.wake
