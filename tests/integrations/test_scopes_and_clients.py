"""Scoped personal tokens, token expiry, API clients and the client-credentials grant."""
from datetime import datetime, timedelta

import pytest

from collab import time
from tests.factories import set_membership
from tests.integrations.helpers import (
    API,
    client_caller,
    client_token_response,
    register_client,
    token_with,
)

# (method, url template, json, scope required); urls use {slug}, {thread}, {user}
OPERATIONS = [
    ("GET", "/communities/{slug}", None, "read"),
    ("GET", "/communities/{slug}/threads", None, "read"),
    ("GET", "/threads/{thread}", None, "read"),
    ("POST", "/communities/{slug}/threads", {"kind": "discussion", "title": "T", "body": "B"}, "write"),
    ("POST", "/threads/{thread}/posts", {"body": "reply"}, "write"),
    ("PATCH", "/threads/{thread}", {"title": "New title"}, "write"),
    ("PUT", "/threads/{thread}/vote", {"value": 1}, "write"),
    ("POST", "/threads/{thread}/status", {"status": "planned", "note": "soon"}, "moderate"),
    ("PATCH", "/communities/{slug}", {"description": "new"}, "moderate"),
    ("POST", "/users", {"handle": "newbie", "email": "n@example.com", "audience": "employee"}, "admin"),
    ("GET", "/clients", None, "admin"),
]
SCOPES = ["read", "write", "moderate", "admin"]


@pytest.fixture
def world(make_user, make_community):
    admin = make_user("root", is_admin=True)
    make_community(admin, "lab")
    thread = admin.post(f"{API}/communities/lab/threads", json={
        "kind": "idea", "title": "An idea", "body": "Body"}).get_json()
    return admin, {"slug": "lab", "thread": thread["id"], "user": admin.id}


@pytest.mark.parametrize("scope", SCOPES)
def test_scopes_by_operation_matrix(world, scope):
    """Each operation passes with its scope and is 403 naming the scope without it."""
    admin, ids = world
    scoped = token_with(admin, [scope])
    for method, template, payload, required in OPERATIONS:
        response = scoped.request(method, API + template.format(**ids), json=payload)
        if required == scope:
            assert response.status_code < 400, (method, template, response.get_json())
        else:
            assert response.status_code == 403, (method, template, scope)
            body = response.get_json()
            assert response.mimetype == "application/problem+json"
            assert f"'{required}'" in body["detail"] and body["errors"]["scope"]


def test_read_token_refused_on_write_names_missing_scope(make_user, make_community):
    alice = make_user("alice")
    make_community(alice, "garden")
    reader = token_with(alice, ["read"])
    assert reader.get(f"{API}/communities/garden").status_code == 200
    response = reader.post(f"{API}/communities/garden/threads",
                           json={"kind": "discussion", "title": "T", "body": "B"})
    assert response.status_code == 403
    assert response.get_json()["detail"] == "This token lacks the 'write' scope."


def test_scopes_never_widen_rights(make_user, make_community):
    """A member's token with `moderate` still cannot moderate: the permission door decides."""
    owner, member = make_user("owner"), make_user("member")
    make_community(owner, "lab")
    set_membership(owner.client.application, "lab", member.id, "active")
    thread = member.post(f"{API}/communities/lab/threads",
                         json={"kind": "idea", "title": "I", "body": "B"}).get_json()
    moderate = token_with(member, ["moderate"])
    response = moderate.post(f"{API}/threads/{thread['id']}/status",
                             json={"status": "planned", "note": "x"})
    assert response.status_code == 403
    assert "scope" not in (response.get_json().get("errors") or {})


def test_a_token_cannot_mint_a_wider_token(make_user):
    alice = make_user("alice")
    reader = token_with(alice, ["read", "write"])
    response = reader.post(f"{API}/users/{alice.id}/tokens", json={"scopes": ["read", "admin"]})
    assert response.status_code == 403 and "admin" in response.get_json()["detail"]
    narrower = reader.post(f"{API}/users/{alice.id}/tokens", json={})
    assert narrower.status_code == 201 and narrower.get_json()["scopes"] == ["read", "write"]


def test_token_scope_validation_is_422(make_user):
    alice = make_user("alice")
    response = alice.post(f"{API}/users/{alice.id}/tokens", json={"scopes": ["root"]})
    assert response.status_code == 422 and "scopes" in response.get_json()["errors"]
    past = (time.now() - timedelta(hours=1)).isoformat()
    response = alice.post(f"{API}/users/{alice.id}/tokens", json={"expires_at": past})
    assert response.status_code == 422 and "expires_at" in response.get_json()["errors"]
    response = alice.post(f"{API}/users/{alice.id}/tokens", json={"expires_at": "2030-01-01T00:00:00"})
    assert response.status_code == 422 and "expires_at" in response.get_json()["errors"]


def test_personal_token_expires_at_once(make_user, monkeypatch):
    alice = make_user("alice")
    soon = time.now() + timedelta(minutes=5)
    scoped = token_with(alice, ["read"], expires_at=soon.isoformat())
    assert scoped.get(f"{API}/me").status_code == 200
    listed = alice.get(f"{API}/me/tokens").get_json()
    # Every token expires (TOKEN_LIFETIME_DAYS by default); the scoped one when it asked to.
    expiries = sorted(datetime.fromisoformat(t["expires_at"]) for t in listed)
    assert len(expiries) == 2 and abs((expiries[0] - soon).total_seconds()) < 1 < (expiries[1] - soon).days
    later = soon + timedelta(seconds=1)
    monkeypatch.setattr(time, "now", lambda: later)
    response = scoped.get(f"{API}/me")
    assert response.status_code == 401 and "expired" in response.get_json()["detail"]


def test_client_credentials_grant_issues_scoped_expiring_token(make_user, make_community, client):
    admin = make_user("root", is_admin=True)
    make_community(admin, "lab")
    registered = register_client(admin, scopes=["read"], communities=["lab"], all_communities=False)
    assert registered["communities"] == ["lab"] and registered["client_secret"]
    response = client_token_response(client, registered)
    assert response.status_code == 200
    token = response.get_json()
    assert token["token_type"].lower() == "bearer" and token["scope"] == "read"
    assert token["expires_in"] == 3600
    caller = client_caller(client, registered)
    me = caller.get(f"{API}/me").get_json()
    assert me["id"] == registered["service_user_id"] and me["display_name"] == "crm"
    refused = caller.post(f"{API}/communities/lab/threads",
                          json={"kind": "discussion", "title": "T", "body": "B"})
    assert refused.status_code == 403 and "'write'" in refused.get_json()["detail"]


def test_client_credentials_errors(make_user, client):
    admin = make_user("root", is_admin=True)
    registered = register_client(admin, scopes=["read"])
    assert client_token_response(client, registered, secret="wrong").status_code == 401
    assert client_token_response(client, registered, scope="admin").status_code == 400
    unknown = dict(registered, client_id="client_nope")
    assert client_token_response(client, unknown).status_code == 401


def test_client_sees_only_its_communities_with_its_audience(make_user, make_community, client):
    admin = make_user("root", is_admin=True)
    make_community(admin, "lab")
    make_community(admin, "other")
    make_community(admin, "partners", audiences=["partner"])
    registered = register_client(admin, communities=["lab", "partners"], all_communities=False,
                                 audience="employee")
    caller = client_caller(client, registered)
    slugs = [c["slug"] for c in caller.get(f"{API}/communities").get_json()["items"]]
    assert slugs == ["lab"]  # not 'other' (not its community), not 'partners' (audience)
    assert caller.get(f"{API}/communities/other").status_code == 404
    # it writes like a user: after joining, it may post
    assert caller.post(f"{API}/communities/lab/members", json={}).status_code in (200, 201)
    created = caller.post(f"{API}/communities/lab/threads",
                          json={"kind": "discussion", "title": "From CRM", "body": "B"})
    assert created.status_code == 201
    assert created.get_json()["author"]["id"] == registered["service_user_id"]


def test_client_revocation_is_immediate(make_user, client):
    admin = make_user("root", is_admin=True)
    registered = register_client(admin)
    caller = client_caller(client, registered)
    assert caller.get(f"{API}/me").status_code == 200
    assert admin.delete(f"{API}/clients/{registered['id']}").status_code == 204
    assert caller.get(f"{API}/me").status_code == 401
    assert client_token_response(client, registered).status_code == 401


def test_client_token_expires(make_user, client, monkeypatch):
    admin = make_user("root", is_admin=True)
    caller = client_caller(client, register_client(admin))
    later = time.now() + timedelta(seconds=3601)
    monkeypatch.setattr(time, "now", lambda: later)
    assert caller.get(f"{API}/me").status_code == 401


def test_only_admins_register_clients_and_input_is_validated(make_user, make_community):
    admin, alice = make_user("root", is_admin=True), make_user("alice")
    payload = {"name": "crm", "scopes": ["read"], "all_communities": True}
    assert alice.post(f"{API}/clients", json=payload).status_code == 403
    for bad, field in [({"scopes": ["root"]}, "scopes"), ({"all_communities": False}, "communities"),
                       ({"all_communities": False, "communities": ["nope"]}, "communities"),
                       ({"scopes": []}, "scopes")]:
        response = admin.post(f"{API}/clients", json={**payload, **bad})
        assert response.status_code == 422, bad
        assert field in response.get_json()["errors"], bad


def test_openapi_names_scopes_per_operation(anonymous):
    from openapi_spec_validator import validate

    spec = anonymous.get(f"{API}/openapi.json").get_json()
    validate(spec)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == f"{API}/oauth/token"
    assert spec["paths"]["/api/v1/threads/{thread_id}"]["get"]["security"][1] == {"oauth2": ["read"]}
    assert spec["paths"]["/api/v1/threads/{thread_id}/status"]["post"]["x-required-scope"] == "moderate"
    assert spec["paths"]["/api/v1/clients"]["post"]["x-required-scope"] == "admin"
    assert spec["paths"]["/api/v1/oauth/token"]["post"]["security"] == []


def test_openapi_operations_carry_recorded_examples_and_scopes(anonymous):
    from openapi_spec_validator import validate

    from collab.integrations.examples import recorded

    spec = anonymous.get(f"{API}/openapi.json").get_json()
    validate(spec)
    assert len(recorded()) >= 50
    for key, example in recorded().items():
        method, path = key.split(" ", 1)
        operation = spec["paths"][path][method.lower()]
        assert operation["security"] == [] or operation["x-required-scope"], key
        status = str(example["response"]["status"])
        if example["response"]["body"] is not None:
            assert "example" in operation["responses"][status]["content"]["application/json"], key
        if example["request"]["body"] is not None and "requestBody" in operation:
            media = next(iter(operation["requestBody"]["content"].values()))
            assert media["example"] == example["request"]["body"], key
    thread_post = spec["paths"]["/api/v1/communities/{slug}/threads"]["post"]
    assert thread_post["requestBody"]["content"]["application/json"]["example"]["kind"] == "idea"
    assert "Requires scope `write`." in thread_post["description"]
