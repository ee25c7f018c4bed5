"""A vote's or reply's deliveries use the subscriptions read with its thread (webhooks.subscribers).

The deliveries written must be exactly those a direct reading of the active subscriptions gives:
by event type, community filter and active flag, after subscriptions are created, changed,
disabled and deleted between writes; and no write asks for the subscriptions a second time.
"""
from sqlalchemy import select

from collab.db import db
from collab.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.api.content import API, join, make_thread
from tests.api.test_write_statements import statements
from tests.integrations.test_webhooks import subscribe


def _deliveries(app) -> list[tuple[int, str, int]]:
    with app.app_context():
        rows = db.session.execute(select(WebhookDelivery.subscription_id,
                                         WebhookDelivery.event_type, WebhookDelivery.thread_id)
                                  .order_by(WebhookDelivery.id)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def _expected(app, kind: str, community_id: int, thread_id: int) -> list[tuple[int, str, int]]:
    """The deliveries of one event, from the subscriptions as they are now (direct reading)."""
    with app.app_context():
        subscriptions = db.session.scalars(select(WebhookSubscription)
                                           .where(WebhookSubscription.active)).all()
        found = sorted((s.id, kind, thread_id) for s in subscriptions
                       if kind in s.events.split() and s.community_id in (None, community_id))
        db.session.remove()
    return found


def _subscription_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and "FROM webhook_subscriptions" in s
            and "FROM threads" not in s]


def test_vote_and_reply_deliveries_match_the_active_subscriptions(app, make_user, make_community):
    owner = make_user("olga")
    lab = make_community(owner, "lab")
    make_community(owner, "other")
    idea = make_thread(owner, "lab", "idea")
    voter = make_user("vic")
    join(voter, "lab")
    with statements(app) as seen:
        value = 1

        def write_and_check(kind: str) -> None:
            nonlocal value
            before = _deliveries(app)
            seen.clear()
            if kind == "vote.changed":
                response = voter.put(f"{API}/threads/{idea['id']}/vote", json={"value": value})
                value = -value
            else:
                response = voter.post(f"{API}/threads/{idea['id']}/posts", json={"body": "Yes."})
            assert response.status_code in (200, 201), response.get_json()
            assert not _subscription_reads(seen), seen  # read with the thread, once
            added = _deliveries(app)[len(before):]
            assert sorted(added) == _expected(app, kind, lab["id"], idea["id"])

        write_and_check("vote.changed")  # no subscriptions yet
        write_and_check("post.created")
        everything = subscribe(owner, "http://127.0.0.1:9/a")
        only_votes = subscribe(owner, "http://127.0.0.1:9/b", ["vote.changed"])
        subscribe(owner, "http://127.0.0.1:9/c", community="other")  # never this one
        here = subscribe(owner, "http://127.0.0.1:9/d", ["post.created"], community="lab")
        write_and_check("vote.changed")
        write_and_check("post.created")
        assert owner.patch(f"{API}/webhooks/{everything['id']}",
                           json={"active": False}).status_code == 200
        assert owner.patch(f"{API}/webhooks/{only_votes['id']}",
                           json={"events": ["post.created"]}).status_code == 200
        write_and_check("vote.changed")
        write_and_check("post.created")
        assert owner.delete(f"{API}/webhooks/{here['id']}").status_code == 204
        assert owner.delete(f"{API}/webhooks/{only_votes['id']}").status_code == 204
        write_and_check("post.created")  # a deleted subscription: no delivery, no error
        write_and_check("vote.changed")
