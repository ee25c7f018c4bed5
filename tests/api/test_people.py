"""Users, tokens and authentication."""
import pytest


def test_missing_token_is_401_problem(anonymous):
    response = anonymous.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 401 and body["title"] and body["type"] and body["detail"]


def test_unknown_token_is_401(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_me_shows_the_caller_with_email(make_user):
    alice = make_user("alice", audience="partner", organization="acme")
    body = alice.get("/api/v1/me").get_json()
    assert body["handle"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["audience"] == "partner" and body["organization"] == "acme"


def test_admin_creates_user_and_token_then_token_works(make_user, client):
    admin = make_user("root", is_admin=True)
    response = admin.post("/api/v1/users", json={
        "handle": "bob", "email": "Bob@Example.com", "audience": "customer", "organization": "globex"})
    assert response.status_code == 201, response.get_json()
    bob = response.get_json()
    assert bob["email"] == "bob@example.com" and bob["display_name"] == "bob"
    token = admin.post(f"/api/v1/users/{bob['id']}/tokens", json={}).get_json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["id"] == bob["id"]


def test_non_admin_cannot_create_users(make_user):
    alice = make_user("alice")
    response = alice.post("/api/v1/users", json={
        "handle": "bob", "email": "b@example.com", "audience": "employee"})
    assert response.status_code == 403


@pytest.mark.parametrize("payload, field", [
    ({"email": "b@example.com", "audience": "employee"}, "handle"),
    ({"handle": "Bad Handle", "email": "b@example.com", "audience": "employee"}, "handle"),
    ({"handle": "bob", "email": "not-an-email", "audience": "employee"}, "email"),
    ({"handle": "bob", "email": "b@example.com", "audience": "robot"}, "audience"),
    ({"handle": "bob", "email": "b@example.com", "audience": "employee", "colour": "red"}, "colour"),
    ({"handle": "bob", "email": "b@example.com", "audience": "employee", "is_admin": "maybe"}, "is_admin"),
])
def test_user_validation_errors_name_the_field(make_user, payload, field):
    admin = make_user("root", is_admin=True)
    response = admin.post("/api/v1/users", json=payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_duplicate_handle_or_email_is_409(make_user):
    admin = make_user("root", is_admin=True)
    make_user("bob")
    response = admin.post("/api/v1/users", json={
        "handle": "bob", "email": "other@example.com", "audience": "employee"})
    assert response.status_code == 409
    assert "handle" in response.get_json()["errors"]
    response = admin.post("/api/v1/users", json={
        "handle": "bobby", "email": "bob@example.com", "audience": "employee"})
    assert response.status_code == 409
    assert "email" in response.get_json()["errors"]


def test_malformed_json_is_400(make_user):
    admin = make_user("root", is_admin=True)
    response = admin.post("/api/v1/users", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_revoked_token_stops_working(make_user, client):
    alice = make_user("alice")
    tokens = alice.get("/api/v1/me/tokens").get_json()
    assert len(tokens) == 1 and "token" not in tokens[0]
    assert alice.delete(f"/api/v1/tokens/{tokens[0]['id']}").status_code == 204
    assert alice.get("/api/v1/me").status_code == 401


def test_tokens_of_others_are_hidden(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    token_id = alice.get("/api/v1/me/tokens").get_json()[0]["id"]
    assert bob.delete(f"/api/v1/tokens/{token_id}").status_code == 404
    assert bob.post(f"/api/v1/users/{alice.id}/tokens", json={}).status_code == 403
    assert alice.get("/api/v1/me").status_code == 200


def test_self_service_token(make_user, client):
    alice = make_user("alice")
    response = alice.post(f"/api/v1/users/{alice.id}/tokens", json={"name": "laptop"})
    assert response.status_code == 201
    token = response.get_json()["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_email_hidden_from_other_users(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    body = bob.get(f"/api/v1/users/{alice.id}").get_json()
    assert body["handle"] == "alice" and "email" not in body


def test_partner_cannot_see_employee_outside_shared_spaces(make_user, make_community):
    alice = make_user("alice")
    partner = make_user("pat", audience="partner", organization="acme")
    assert partner.get(f"/api/v1/users/{alice.id}").status_code == 404
    make_community(alice, "shared", audiences=["employee", "partner"])
    assert partner.get(f"/api/v1/users/{alice.id}").status_code == 200


def test_unknown_route_is_problem_404(make_user):
    response = make_user().get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_openapi_document_is_public_valid_and_lists_paths(anonymous):
    from openapi_spec_validator import validate

    response = anonymous.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    for path in ("/api/v1/communities/{slug}/members", "/api/v1/threads/{thread_id}/vote",
                 "/api/v1/posts/{post_id}/accept", "/api/v1/threads/{thread_id}/merge"):
        assert path in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = anonymous.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.data.lower()


def test_huge_ids_are_404_not_500(make_user):
    alice = make_user("alice")
    assert alice.get("/api/v1/users/99999999999999999999").status_code == 404
    assert alice.delete("/api/v1/tokens/3000000000").status_code == 404


def test_nul_characters_are_422(make_user):
    admin = make_user("root", is_admin=True)
    response = admin.post("/api/v1/users", json={
        "handle": "bob", "email": "b@example.com", "audience": "employee", "display_name": "B\x00b"})
    assert response.status_code == 422
    assert "display_name" in response.get_json()["errors"]
