"""SSRF guard: webhook URLs must reach public addresses (WEBHOOK_ALLOW_PRIVATE_TARGETS off)."""
import socket

import pytest
from sqlalchemy import func, select

from collab.db import db
from collab.webhooks import targets
from collab.webhooks.models import WebhookSubscription
from tests.integrations.helpers import API
from tests.integrations.test_webhooks import drain, new_thread, receiver, subscribe  # noqa: F401

PUBLIC = "93.184.216.34"  # a global address; nothing connects to it in these tests
REFUSED = [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook",
    "http://172.16.0.9/hook", "http://192.168.1.1/hook", "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hook", "http://0.0.0.0/hook", "http://224.0.0.1/hook",
    "http://240.0.0.1/hook", "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:10.0.0.1]/hook", "http://[fe80::1]/hook", "http://[fc00::1]/hook",
    "http://[ff02::1]/hook", "https://[::]/hook",
]


@pytest.fixture
def guarded(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False)


@pytest.fixture
def dns(monkeypatch):
    """The names a test puts here resolve to its address, or not at all (None)."""
    table: dict[str, str | None] = {}
    real = targets._resolve

    def resolve(host, port):
        if host in table and table[host] is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if host in table:
            family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (table[host], port))]
        return real(host, port)

    monkeypatch.setattr(targets, "_resolve", resolve)
    return table


def subscriptions(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(WebhookSubscription))
        finally:
            db.session.remove()


@pytest.mark.parametrize("url", REFUSED)
def test_private_targets_are_refused_with_a_url_error(make_user, app, guarded, url):
    alice = make_user("alice")
    response = alice.post(f"{API}/webhooks", json={"url": url, "events": ["thread.created"]})
    assert response.status_code == 422, (url, response.get_json())
    assert response.mimetype == "application/problem+json"
    assert list(response.get_json()["errors"]) == ["url"]
    assert subscriptions(app) == 0


def test_public_targets_are_accepted_and_updates_are_checked(make_user, app, guarded, dns):
    alice = make_user("alice")
    dns["hooks.example.test"], dns["inside.example.test"] = PUBLIC, "10.0.0.7"
    dns["nowhere.example.test"] = None
    created = alice.post(f"{API}/webhooks", json={"url": f"http://{PUBLIC}/hook",
                                                  "events": ["thread.created"]})
    assert created.status_code == 201, created.get_json()
    named = subscribe(alice, "https://hooks.example.test/hook", ["thread.created"])
    assert named["url"] == "https://hooks.example.test/hook"
    moved = alice.patch(f"{API}/webhooks/{named['id']}", json={"url": "http://inside.example.test/"})
    assert moved.status_code == 422 and "url" in moved.get_json()["errors"]
    assert alice.get(f"{API}/webhooks/{named['id']}").get_json()["url"] == named["url"]
    unresolvable = alice.post(f"{API}/webhooks", json={"url": "http://nowhere.example.test/hook",
                                                       "events": ["thread.created"]})
    assert unresolvable.status_code == 422 and "url" in unresolvable.get_json()["errors"]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_name_that_resolves_privately_at_delivery_is_not_contacted(make_user, make_community,
                                                                     app, guarded, dns, receiver,
                                                                     drain, scheme):
    alice = make_user("alice")
    make_community(alice, "lab")
    dns["hooks.example.test"] = PUBLIC
    subscription = subscribe(alice, f"{scheme}://hooks.example.test:{receiver.port}/hook",
                             ["thread.created"])
    dns["hooks.example.test"] = "127.0.0.1"  # DNS rebinding: now it points inside
    new_thread(alice)
    stats = drain()
    assert stats.delivered == 0 and stats.failed_attempts == 1
    assert receiver.requests == []
    log = alice.get(f"{API}/webhooks/{subscription['id']}/deliveries").get_json()["items"]
    assert log[0]["attempt_log"][0]["error"].startswith("refused:")


def test_with_the_setting_on_a_local_receiver_is_reached(make_user, make_community, app, receiver,
                                                         drain, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_TARGETS", True)
    alice = make_user("alice")
    make_community(alice, "lab")
    subscribe(alice, receiver.url, ["thread.created"])
    new_thread(alice)
    assert drain().delivered == 1 and len(receiver.requests) == 1


def test_the_guard_refuses_ipv4_mapped_and_accepts_global_addresses():
    assert targets.refused_address("::ffff:192.168.0.1")
    assert targets.refused_address("fe80::1%eth0")
    assert not targets.refused_address(PUBLIC)
    assert not targets.refused_address("2606:4700:4700::1111")
