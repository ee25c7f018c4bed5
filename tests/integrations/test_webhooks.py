"""Webhooks against a real local HTTP receiver: signatures, retries, order, outages, permissions."""
import base64
import threading
import hashlib
import hmac
from datetime import timedelta

import pytest

from collab import time
from collab.db import db
from collab.webhooks import delivery
from tests.factories import set_membership
from tests.integrations.helpers import API, token_with
from tests.integrations.receiver import Receiver

ALL_EVENTS = ["thread.created", "post.created", "thread.updated", "idea.status_changed",
              "vote.changed", "member.joined", "member.role_changed"]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    try:
        server.stop()
    except Exception:  # already stopped by the test
        pass


@pytest.fixture
def drain(app):
    def run():
        with app.app_context():
            try:
                return delivery.drain()
            finally:
                db.session.remove()
    return run


@pytest.fixture
def clock(monkeypatch):
    """Move collab's clock forward without sleeping."""
    class Clock:
        offset = timedelta()

        def advance(self, **kwargs):
            self.offset += timedelta(**kwargs)

    state = Clock()
    real = time.now
    monkeypatch.setattr(time, "now", lambda: real() + state.offset)
    return state


def subscribe(caller, url, events=None, **fields):
    response = caller.post(f"{API}/webhooks", json={"url": url, "events": events or ALL_EVENTS,
                                                     **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def new_thread(caller, slug="lab", title="A thread", kind="discussion"):
    response = caller.post(f"{API}/communities/{slug}/threads",
                           json={"kind": kind, "title": title, "body": "Body"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def verify(secret: str, headers: dict, body: str) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, part.split(",", 1)[1])
               for part in headers["webhook-signature"].split() if part.startswith("v1,"))


def test_events_are_delivered_signed(make_user, make_community, receiver, drain):
    alice = make_user("alice")
    make_community(alice, "lab")
    subscription = subscribe(alice, receiver.url)
    thread = new_thread(alice, kind="idea")
    alice.post(f"{API}/threads/{thread['id']}/posts", json={"body": "reply"})
    alice.patch(f"{API}/threads/{thread['id']}", json={"title": "Renamed"})
    alice.post(f"{API}/threads/{thread['id']}/status", json={"status": "planned", "note": "go"})
    alice.put(f"{API}/threads/{thread['id']}/vote", json={"value": 1})
    stats = drain()
    assert stats.delivered == 6 and stats.failed_attempts == 0
    received = receiver.received()
    assert [e["type"] for e in received] == ["thread.created", "post.created", "thread.updated",
                                             "idea.status_changed", "thread.updated",
                                             "vote.changed"]
    for raw in receiver.requests:
        headers = {k.lower(): v for k, v in raw["headers"].items()}
        assert headers["webhook-id"].startswith("msg_")
        assert verify(subscription["secret"], headers, raw["body"])
        assert not verify("whsec_" + base64.b64encode(b"x" * 32).decode(), headers, raw["body"])
    assert received[0]["data"]["community"]["slug"] == "lab"
    assert received[2]["data"]["changed"] == ["title"]
    assert received[3]["data"]["to_status"] == "planned"
    assert received[4]["data"]["changed"] == ["status"]
    assert received[5]["data"]["value"] == 1


def test_member_events_and_community_filter(make_user, make_community, receiver, drain, app):
    owner, bob = make_user("owner"), make_user("bob")
    make_community(owner, "lab")
    make_community(owner, "other")
    subscribe(owner, receiver.url, ["member.joined", "member.role_changed"], community="lab")
    assert bob.post(f"{API}/communities/other/members", json={}).status_code in (200, 201)
    assert bob.post(f"{API}/communities/lab/members", json={}).status_code in (200, 201)
    response = owner.patch(f"{API}/communities/lab/members/{bob.id}", json={"role": "moderator"})
    assert response.status_code == 200, response.get_json()
    drain()
    events = [(e["type"], e["data"]["community"]["slug"], e["data"]["user_id"])
              for e in receiver.received()]
    assert events == [("member.joined", "lab", bob.id), ("member.role_changed", "lab", bob.id)]
    assert receiver.received()[1]["data"]["previous_role"] == "member"


def test_deliveries_commit_with_the_change(make_user, make_community, receiver, drain):
    """A refused write (validation error) leaves no delivery behind."""
    alice = make_user("alice")
    make_community(alice, "lab")
    subscribe(alice, receiver.url)
    bad = alice.post(f"{API}/communities/lab/threads", json={"kind": "nope", "title": "T", "body": "B"})
    assert bad.status_code == 422
    assert drain().delivered == 0 and receiver.requests == []


def test_retries_with_backoff_then_success_and_delivery_log(make_user, make_community, receiver,
                                                            drain, clock):
    alice = make_user("alice")
    make_community(alice, "lab")
    subscription = subscribe(alice, receiver.url, ["thread.created"])
    receiver.script = [500, 503]
    new_thread(alice)
    assert drain().failed_attempts == 1
    assert drain().failed_attempts == 0  # not due yet: backoff
    clock.advance(seconds=12)
    assert drain().failed_attempts == 1
    clock.advance(seconds=12)
    assert drain().failed_attempts == 0  # second backoff is ~20 s
    clock.advance(seconds=12)
    assert drain().delivered == 1
    log = alice.get(f"{API}/webhooks/{subscription['id']}/deliveries").get_json()["items"]
    assert len(log) == 1 and log[0]["status"] == "delivered" and log[0]["attempts"] == 3
    assert [a["status_code"] for a in log[0]["attempt_log"]] == [500, 503, 204]
    assert all(a["duration_ms"] >= 0 for a in log[0]["attempt_log"])
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1  # retries keep the event id


def test_order_per_thread_is_kept_across_retries(make_user, make_community, receiver, drain, clock):
    alice = make_user("alice")
    make_community(alice, "lab")
    subscribe(alice, receiver.url, ["thread.created", "post.created"])
    receiver.script = [500]
    thread = new_thread(alice)
    for n in range(3):
        alice.post(f"{API}/threads/{thread['id']}/posts", json={"body": f"reply {n}"})
    drain()  # the thread.created fails; the posts of that thread must wait behind it
    assert receiver.received() == []
    clock.advance(seconds=15)
    drain()
    bodies = [e["data"].get("post", {}).get("body") for e in receiver.received()]
    assert [e["type"] for e in receiver.received()] == ["thread.created"] + ["post.created"] * 3
    assert bodies[1:] == ["reply 0", "reply 1", "reply 2"]


def test_no_loss_while_the_receiver_is_down(make_user, make_community, receiver, drain, clock):
    alice = make_user("alice")
    make_community(alice, "lab")
    subscribe(alice, receiver.url, ["thread.created", "post.created"])
    receiver.stop()
    threads = [new_thread(alice, title=f"T{n}") for n in range(3)]
    for thread in threads:
        alice.post(f"{API}/threads/{thread['id']}/posts", json={"body": "r"})
    for _ in range(4):  # down for a while: several rounds of failed attempts
        drain()
        clock.advance(minutes=10)
    assert receiver.requests == []
    receiver.start()
    drain()
    received = receiver.received()
    assert len(received) == 6
    for thread in threads:
        mine = [e["type"] for e in received
                if e["data"].get("thread", {}).get("id") == thread["id"]
                or e["data"].get("post", {}).get("thread_id") == thread["id"]]
        assert mine == ["thread.created", "post.created"]


def test_repeated_failure_disables_and_owner_reenables(make_user, make_community, receiver, drain,
                                                       clock, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER_FAILURES", 3)
    alice = make_user("alice")
    make_community(alice, "lab")
    subscription = subscribe(alice, receiver.url, ["thread.created"])
    receiver.status = 500
    for n in range(3):
        new_thread(alice, title=f"T{n}")
    drain()
    state = alice.get(f"{API}/webhooks/{subscription['id']}").get_json()
    assert state["active"] is False and "3 consecutive" in state["disabled_reason"]
    new_thread(alice, title="while disabled")  # no deliveries for a disabled subscription
    receiver.status = 204
    clock.advance(hours=2)
    assert drain().delivered == 0
    assert alice.patch(f"{API}/webhooks/{subscription['id']}", json={"active": True}).status_code == 200
    drain()
    assert sorted(e["data"]["thread"]["title"] for e in receiver.received()) == ["T0", "T1", "T2"]


def test_gives_up_after_the_retry_window(make_user, make_community, receiver, drain, clock):
    alice = make_user("alice")
    make_community(alice, "lab")
    subscription = subscribe(alice, receiver.url, ["thread.created"])
    receiver.status = 500
    new_thread(alice)
    for _ in range(40):
        drain()
        clock.advance(hours=1)
    log = alice.get(f"{API}/webhooks/{subscription['id']}/deliveries").get_json()["items"]
    assert log[0]["status"] == "failed"
    assert 10 <= log[0]["attempts"] <= 40
    assert alice.get(f"{API}/webhooks/{subscription['id']}").get_json()["active"] is False


def test_member_who_left_stops_receiving(make_user, make_community, receiver, drain, app):
    owner, bob = make_user("owner"), make_user("bob")
    make_community(owner, "secret", visibility="private")
    set_membership(app, "secret", bob.id, "active")
    subscribe(bob, receiver.url, ["thread.created"])
    new_thread(owner, slug="secret", title="seen")
    drain()
    new_thread(owner, slug="secret", title="after leaving")
    assert bob.delete(f"{API}/communities/secret/members/{bob.id}").status_code == 204
    stats = drain()
    assert stats.skipped == 1
    assert [e["data"]["thread"]["title"] for e in receiver.received()] == ["seen"]


def test_subscriber_never_gets_events_of_hidden_communities(make_user, make_community, receiver,
                                                            drain):
    owner, outsider = make_user("owner"), make_user("outsider", audience="partner")
    make_community(owner, "staff")
    subscribe(outsider, receiver.url, ["thread.created"])
    new_thread(owner, slug="staff")
    drain()
    assert receiver.requests == []
    response = outsider.post(f"{API}/webhooks", json={"url": receiver.url, "events": ["ping"]})
    assert response.status_code == 422
    response = outsider.post(f"{API}/webhooks", json={
        "url": receiver.url, "events": ["thread.created"], "community": "staff"})
    assert response.status_code == 422 and "community" in response.get_json()["errors"]


def test_ping_and_manual_redelivery(make_user, make_community, receiver, drain):
    alice = make_user("alice")
    subscription = subscribe(alice, receiver.url, ["thread.created"])
    queued = alice.post(f"{API}/webhooks/{subscription['id']}/ping")
    assert queued.status_code == 202
    drain()
    assert receiver.received()[0]["type"] == "ping"
    redelivered = alice.post(
        f"{API}/webhooks/{subscription['id']}/deliveries/{queued.get_json()['id']}/redeliver")
    assert redelivered.status_code == 202
    drain()
    ids = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_subscriptions_are_private_and_need_the_webhooks_scope(make_user, receiver):
    alice, bob = make_user("alice"), make_user("bob")
    subscription = subscribe(alice, receiver.url)
    assert "secret" not in alice.get(f"{API}/webhooks/{subscription['id']}").get_json()
    assert bob.get(f"{API}/webhooks/{subscription['id']}").status_code == 404
    assert bob.get(f"{API}/webhooks").get_json() == []
    reader = token_with(alice, ["read", "write"])
    response = reader.get(f"{API}/webhooks")
    assert response.status_code == 403 and "'webhooks'" in response.get_json()["detail"]
    for payload, field in [({"url": "ftp://x", "events": ["thread.created"]}, "url"),
                           ({"url": receiver.url, "events": []}, "events"),
                           ({"url": receiver.url, "events": ["thread.exploded"]}, "events"),
                           ({"url": receiver.url, "events": ["post.created"], "secret": "x"}, "secret")]:
        response = alice.post(f"{API}/webhooks", json=payload)
        assert response.status_code == 422 and field in response.get_json()["errors"], payload


def test_cli_worker_delivers(make_user, make_community, receiver, app):
    alice = make_user("alice")
    make_community(alice, "lab")
    subscribe(alice, receiver.url, ["thread.created"])
    new_thread(alice)
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0, result.output
    assert "delivered 1" in result.output
    assert [e["type"] for e in receiver.received()] == ["thread.created"]


def test_in_process_sender_delivers_after_commit(make_user, make_community, receiver, app,
                                                 monkeypatch):
    import time as clock

    monkeypatch.setitem(app.config, "WEBHOOKS_DELIVER_IN_PROCESS", True)
    alice = make_user("alice")
    make_community(alice, "lab")
    subscribe(alice, receiver.url, ["thread.created"])
    new_thread(alice)
    deadline = clock.monotonic() + 10
    while not receiver.received() and clock.monotonic() < deadline:
        clock.sleep(0.05)
    assert [e["type"] for e in receiver.received()] == ["thread.created"]


def test_two_senders_never_send_one_delivery_twice(make_user, make_community, receiver, app):
    from concurrent.futures import ThreadPoolExecutor

    alice = make_user("alice")
    make_community(alice, "lab")
    subscribe(alice, receiver.url, ["thread.created"])
    for n in range(20):
        new_thread(alice, title=f"T{n}")
    barrier = threading.Barrier(2)

    def sender(_):
        with app.app_context():
            barrier.wait()
            try:
                return delivery.drain().delivered
            finally:
                db.session.remove()

    with ThreadPoolExecutor(2) as pool:
        delivered = sum(pool.map(sender, range(2)))
    ids = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert delivered == 20 and len(ids) == 20 and len(set(ids)) == 20
