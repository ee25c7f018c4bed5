"""Rate limits: per token reads and writes, stricter search and token issuance, per IP failed
authentication; RateLimit-* headers, 429 with Retry-After as problem+json."""
import pytest

from tests.integrations.helpers import API, client_token_response, register_client


@pytest.fixture
def limits(app, monkeypatch):
    """Lower one limit for this test; every counter starts empty."""
    app.extensions["collab_limiter"].reset()

    def lower(name, value):
        monkeypatch.setitem(app.config, name, value)
    yield lower
    app.extensions["collab_limiter"].reset()


def assert_429(response):
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["RateLimit-Remaining"] == "0"


def test_headers_on_every_response(make_user, anonymous, limits):
    alice = make_user("alice")
    response = alice.get(f"{API}/me")
    assert int(response.headers["RateLimit-Limit"]) > 0
    assert int(response.headers["RateLimit-Remaining"]) >= 0
    assert 0 <= int(response.headers["RateLimit-Reset"]) <= 61
    assert "RateLimit-Limit" in anonymous.get(f"{API}/me").headers  # a 401 too
    assert "RateLimit-Limit" in alice.get(f"{API}/threads/999").headers  # and a 404
    assert "RateLimit-Limit" in anonymous.get(f"{API}/openapi.json").headers


def test_reads_are_limited_per_token(make_user, limits):
    limits("RATELIMIT_READS", "3 per minute")
    alice, bob = make_user("alice"), make_user("bob")
    remaining = [int(alice.get(f"{API}/me").headers["RateLimit-Remaining"]) for _ in range(3)]
    assert remaining == [2, 1, 0]
    assert_429(alice.get(f"{API}/me"))
    assert bob.get(f"{API}/me").status_code == 200  # another token has its own budget
    # writes have their own budget
    assert alice.post(f"{API}/communities", json={}).status_code == 422


def test_writes_are_limited_per_token(make_user, limits):
    limits("RATELIMIT_WRITES", "2 per minute")
    alice = make_user("alice")
    for _ in range(2):
        assert alice.post(f"{API}/communities", json={}).status_code == 422
    assert_429(alice.post(f"{API}/communities", json={}))
    assert alice.get(f"{API}/me").status_code == 200


def test_search_is_stricter(make_user, limits):
    limits("RATELIMIT_SEARCH", "2 per minute")
    alice = make_user("alice")
    for _ in range(2):
        assert alice.get(f"{API}/search?q=x").status_code == 200
    assert_429(alice.get(f"{API}/search?q=x"))
    assert alice.get(f"{API}/me").status_code == 200


def test_token_issuance_is_stricter(make_user, client, limits):
    limits("RATELIMIT_TOKEN_ISSUE", "2 per minute")
    admin = make_user("root", is_admin=True)
    registered = register_client(admin)
    for _ in range(2):
        assert client_token_response(client, registered).status_code == 200
    response = client_token_response(client, registered)
    assert_429(response)
    for _ in range(2):
        assert admin.post(f"{API}/users/{admin.id}/tokens", json={}).status_code == 201
    assert_429(admin.post(f"{API}/users/{admin.id}/tokens", json={}))


def test_failed_authentication_is_limited_per_address(make_user, client, limits):
    limits("RATELIMIT_FAILED_AUTH", "3 per minute")
    alice = make_user("alice")
    for _ in range(3):
        assert client.get(f"{API}/me", headers={"Authorization": "Bearer guess"}).status_code == 401
    assert_429(client.get(f"{API}/me", headers={"Authorization": "Bearer guess"}))
    assert alice.get(f"{API}/me").status_code == 200  # a valid token still works


def test_a_stricter_limit_names_itself_in_the_headers(make_user, limits):
    limits("RATELIMIT_SEARCH", "5 per minute")
    limits("RATELIMIT_READS", "50 per minute")
    alice = make_user("alice")
    response = alice.get(f"{API}/search?q=x")
    assert (response.headers["RateLimit-Limit"], response.headers["RateLimit-Remaining"]) == \
        ("5", "4")
    response = alice.get(f"{API}/me")  # the read budget counted the search too
    assert (response.headers["RateLimit-Limit"], response.headers["RateLimit-Remaining"]) == \
        ("50", "48")


def test_limits_switched_off(app, make_user, limits, monkeypatch):
    limits("RATELIMIT_READS", "1 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)
    alice = make_user("alice")
    for _ in range(3):
        response = alice.get(f"{API}/me")
        assert response.status_code == 200 and "RateLimit-Limit" not in response.headers


def test_memory_counters_count_fixed_windows_and_drop_expired_ones(monkeypatch):
    """The in-process counting (collab.integrations.ratelimits._MemoryStorage.counted): hits add
    up within a window, a window ends at its first hit plus the period, expired keys go."""
    from collab.integrations import ratelimits

    now = [1000.0]
    monkeypatch.setattr(ratelimits.clock, "time", lambda: now[0])
    storage = ratelimits._MemoryStorage()
    limits = ratelimits.RateLimits(storage)
    item = ratelimits._limit("3 per minute")
    assert limits.hit(item, "token:a", "read") == (True, 2, 60)
    now[0] += 10
    assert limits.hit(item, "token:a", "read") == (True, 1, 50)
    assert limits.hit(item, "token:b", "read") == (True, 2, 60)  # another caller, another count
    assert limits.hit(item, "token:a", "read") == (True, 0, 50)
    assert limits.hit(item, "token:a", "read") == (False, 0, 50)
    now[0] += 50  # a's window ends; b's has 10 s left
    assert limits.hit(item, "token:a", "read") == (True, 2, 60)
    now[0] += 11  # b's window ended: swept with the next hit
    limits.hit(item, "token:a", "read")
    assert [key for key in storage.expirations if "token:b" in key] == []
    limits.reset()
    assert limits.hit(item, "token:a", "read") == (True, 2, 60)
