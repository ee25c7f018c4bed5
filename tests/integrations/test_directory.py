"""The user directory: who sees whom, lookup by handle, admin changes, deactivation."""
from tests.factories import set_membership
from tests.integrations.helpers import API


def handles(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [u["handle"] for u in response.get_json()["items"]]


def test_directory_visibility_by_audience(make_user, make_community, app):
    admin = make_user("root", is_admin=True)
    employee = make_user("emma")
    partner = make_user("pat", audience="partner", organization="acme")
    make_user("carl", audience="customer", organization="globex")
    make_community(admin, "joint", audiences=["employee", "partner"])
    set_membership(app, "joint", employee.id, "active")
    set_membership(app, "joint", partner.id, "active")
    assert handles(admin.get(f"{API}/users")) == ["carl", "emma", "pat", "root"]
    assert handles(employee.get(f"{API}/users")) == ["carl", "emma", "pat", "root"]
    # the partner sees itself and people active in a community it may see (the owner root too)
    assert handles(partner.get(f"{API}/users")) == ["emma", "pat", "root"]
    assert partner.get(f"{API}/users/by-handle/carl").status_code == 404
    found = partner.get(f"{API}/users/by-handle/emma")
    assert found.status_code == 200 and "email" not in found.get_json()
    assert "email" in admin.get(f"{API}/users/by-handle/emma").get_json()


def test_search_filters_and_pages(make_user):
    admin = make_user("root", is_admin=True)
    for handle in ("anna", "annabel", "bob"):
        make_user(handle, audience="partner" if handle == "bob" else "employee")
    assert handles(admin.get(f"{API}/users?q=ANN")) == ["anna", "annabel"]
    assert handles(admin.get(f"{API}/users?q=bob@example")) == ["bob"]  # admins: email
    assert handles(admin.get(f"{API}/users?audience=partner")) == ["bob"]
    first = admin.get(f"{API}/users?limit=2").get_json()
    second = admin.get(f"{API}/users?limit=2&cursor={first['next_cursor']}").get_json()
    assert [u["handle"] for u in first["items"] + second["items"]] == ["anna", "annabel", "bob", "root"]
    for bad in ("audience=robot", "limit=0", "cursor=zzz", "colour=red"):
        response = admin.get(f"{API}/users?{bad}")
        assert response.status_code == 422, bad


def test_admin_updates_audience_organization_and_admin_flag(make_user):
    admin, alice, bob = make_user("root", is_admin=True), make_user("alice"), make_user("bob")
    assert bob.patch(f"{API}/users/{alice.id}", json={"audience": "partner"}).status_code == 403
    response = admin.patch(f"{API}/users/{alice.id}", json={
        "audience": "partner", "organization": "acme", "is_admin": True})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["audience"], body["organization"], body["is_admin"]) == ("partner", "acme", True)
    assert bob.get(f"{API}/users/by-handle/alice").get_json()["audience"] == "partner"
    bad = admin.patch(f"{API}/users/{alice.id}", json={"audience": "robot"})
    assert bad.status_code == 422 and "audience" in bad.get_json()["errors"]
    assert admin.patch(f"{API}/users/999", json={"audience": "partner"}).status_code == 404


def test_deactivation_revokes_tokens_and_keeps_content(make_user, make_community, app):
    admin, alice = make_user("root", is_admin=True), make_user("alice")
    make_community(admin, "lab")
    set_membership(app, "lab", alice.id, "active")
    thread = alice.post(f"{API}/communities/lab/threads",
                        json={"kind": "discussion", "title": "Mine", "body": "B"}).get_json()
    response = admin.post(f"{API}/users/{alice.id}/deactivate")
    assert response.status_code == 200 and response.get_json()["deactivated"] is True
    assert alice.get(f"{API}/me").status_code == 401
    kept = admin.get(f"{API}/threads/{thread['id']}").get_json()
    assert kept["title"] == "Mine" and kept["author"]["display_name"] == "Deactivated user"
    assert handles(admin.get(f"{API}/users")) == ["root"]
    assert handles(admin.get(f"{API}/users?include_deactivated=true")) == ["alice", "root"]
    assert admin.post(f"{API}/users/{admin.id}/deactivate").status_code == 403
    assert alice.post(f"{API}/users/{admin.id}/deactivate").status_code == 401
    assert admin.post(f"{API}/users/{alice.id}/reactivate").status_code == 200
    assert alice.get(f"{API}/me").status_code == 401  # old tokens stay revoked


def test_directory_admin_operations_need_admin_scope(make_user):
    from tests.integrations.helpers import token_with

    admin, alice = make_user("root", is_admin=True), make_user("alice")
    writer = token_with(admin, ["read", "write"])
    response = writer.post(f"{API}/users/{alice.id}/deactivate")
    assert response.status_code == 403 and "'admin'" in response.get_json()["detail"]
    assert writer.get(f"{API}/users").status_code == 200
