"""Idempotency-Key on POST: replay, mismatch, expiry, per caller, and concurrent duplicates."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from collab import time
from collab.db import db
from collab.threads.models import Thread
from tests.factories import Caller
from tests.integrations.helpers import API

THREAD = {"kind": "discussion", "title": "Once", "body": "Only once"}


def count_threads(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(Thread))
        finally:
            db.session.remove()


@pytest.fixture
def alice(make_user, make_community):
    alice = make_user("alice")
    make_community(alice, "lab")
    return alice


def test_same_key_and_body_replays_the_first_response(alice, app):
    first = alice.post(f"{API}/communities/lab/threads", json=THREAD,
                       headers={"Idempotency-Key": "k-1"})
    again = alice.post(f"{API}/communities/lab/threads", json=THREAD,
                       headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.mimetype == "application/json"
    assert count_threads(app) == 1


def test_same_key_other_body_is_422(alice, app):
    alice.post(f"{API}/communities/lab/threads", json=THREAD, headers={"Idempotency-Key": "k-1"})
    other = alice.post(f"{API}/communities/lab/threads", json={**THREAD, "title": "Other"},
                       headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert "Idempotency-Key" in other.get_json()["errors"]
    assert count_threads(app) == 1


def test_errors_are_replayed_too_and_keys_are_per_caller(alice, make_user, app):
    bad = alice.post(f"{API}/communities/lab/threads", json={"title": ""},
                     headers={"Idempotency-Key": "k-2"})
    assert bad.status_code == 422
    replay = alice.post(f"{API}/communities/lab/threads", json={"title": ""},
                        headers={"Idempotency-Key": "k-2"})
    assert replay.status_code == 422 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.mimetype == "application/problem+json"
    bob = make_user("bob")
    bob.post(f"{API}/communities/lab/members", json={})
    mine = bob.post(f"{API}/communities/lab/threads", json=THREAD, headers={"Idempotency-Key": "k-2"})
    assert mine.status_code == 201 and "Idempotent-Replayed" not in mine.headers


def test_keys_expire_after_a_day(alice, app, monkeypatch):
    alice.post(f"{API}/communities/lab/threads", json=THREAD, headers={"Idempotency-Key": "k-3"})
    later = time.now() + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(time, "now", lambda: later)
    again = alice.post(f"{API}/communities/lab/threads", json=THREAD,
                       headers={"Idempotency-Key": "k-3"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert count_threads(app) == 2


def test_bad_key_is_422_and_no_key_means_no_replay(alice, app):
    response = alice.post(f"{API}/communities/lab/threads", json=THREAD,
                          headers={"Idempotency-Key": "x" * 256})
    assert response.status_code == 422 and "Idempotency-Key" in response.get_json()["errors"]
    alice.post(f"{API}/communities/lab/threads", json=THREAD)
    alice.post(f"{API}/communities/lab/threads", json=THREAD)
    assert count_threads(app) == 2


def test_concurrent_duplicates_make_one_write(alice, app):
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    barrier = threading.Barrier(8)

    def send(_):
        own = Caller(app.test_client(), alice.token, alice.user)
        barrier.wait()
        return own.post(f"{API}/communities/lab/threads", json=THREAD,
                        headers={"Idempotency-Key": "race"})

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(send, range(8)))
    assert [r.status_code for r in responses] == [201] * 8
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    assert count_threads(app) == 1


def test_openapi_documents_the_header_on_posts(anonymous):
    spec = anonymous.get(f"{API}/openapi.json").get_json()
    names = [p["name"] for p in spec["paths"]["/api/v1/communities/{slug}/threads"]["post"]["parameters"]]
    assert "Idempotency-Key" in names


def key_count(app) -> int:
    from collab.integrations.models import IdempotencyKey
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(IdempotencyKey))
        finally:
            db.session.remove()


def test_purge_command_deletes_only_expired_keys(alice, app, monkeypatch):
    for n in range(3):
        alice.post(f"{API}/communities/lab/threads", json={**THREAD, "title": f"Old {n}"},
                   headers={"Idempotency-Key": f"old-{n}"})
    later = time.now() + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(time, "now", lambda: later)
    app.config["IDEMPOTENCY_PURGE_INTERVAL_SECONDS"] = 0  # no opportunistic purge here
    alice.post(f"{API}/communities/lab/threads", json=THREAD, headers={"Idempotency-Key": "new"})
    assert key_count(app) == 4

    result = app.test_cli_runner().invoke(args=["integrations", "purge-idempotency-keys",
                                                "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "purged 3 expired idempotency keys" in result.output
    assert key_count(app) == 1
    replay = alice.post(f"{API}/communities/lab/threads", json=THREAD,
                        headers={"Idempotency-Key": "new"})
    assert replay.headers["Idempotent-Replayed"] == "true"
    again = app.test_cli_runner().invoke(args=["integrations", "purge-idempotency-keys"])
    assert "purged 0 expired" in again.output and key_count(app) == 1


def test_expired_keys_are_purged_opportunistically_at_most_once_per_interval(alice, app,
                                                                              monkeypatch):
    from collab.integrations import idempotency

    alice.post(f"{API}/communities/lab/threads", json=THREAD, headers={"Idempotency-Key": "a"})
    alice.post(f"{API}/communities/lab/threads", json={**THREAD, "title": "B"},
               headers={"Idempotency-Key": "b"})
    later = time.now() + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(time, "now", lambda: later)
    monkeypatch.setitem(idempotency._last_purge, "at", float("-inf"))
    app.config["IDEMPOTENCY_PURGE_INTERVAL_SECONDS"] = 3600
    alice.post(f"{API}/communities/lab/threads", json={**THREAD, "title": "C"},
               headers={"Idempotency-Key": "c"})
    assert key_count(app) == 1  # a and b went with c's stored response

    much_later = later + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(time, "now", lambda: much_later)
    alice.post(f"{API}/communities/lab/threads", json={**THREAD, "title": "D"},
               headers={"Idempotency-Key": "d"})
    assert key_count(app) == 2  # the interval has not passed: c stays until the next purge
