"""Communities: creation, validation, updates, listing and membership flows."""
import pytest


def test_employee_creates_community_and_becomes_owner(make_user):
    alice = make_user("alice")
    response = alice.post("/api/v1/communities", json={
        "slug": "innovation", "name": "Innovation", "purpose": "Collect ideas that matter.",
        "visibility": "restricted", "audiences": ["employee", "partner"]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["slug"] == "innovation" and body["purpose"] == "Collect ideas that matter."
    assert body["audiences"] == ["employee", "partner"] and body["organizations"] == []
    assert body["my_membership"] == {"role": "owner", "status": "active"}
    assert body["member_count"] == 1 and body["archived"] is False
    members = alice.get("/api/v1/communities/innovation/members").get_json()["items"]
    assert [(m["user"]["handle"], m["role"]) for m in members] == [("alice", "owner")]


@pytest.mark.parametrize("audience", ["partner", "customer"])
def test_only_employees_create_communities(make_user, audience):
    outsider = make_user("out", audience=audience, organization="acme")
    response = outsider.post("/api/v1/communities", json={
        "slug": "x", "name": "X", "purpose": "p"})
    assert response.status_code == 403


def test_admin_of_any_audience_creates(make_user):
    admin = make_user("root", audience="partner", organization="acme", is_admin=True)
    assert admin.post("/api/v1/communities", json={
        "slug": "x", "name": "X", "purpose": "p"}).status_code == 201


@pytest.mark.parametrize("payload, field", [
    ({"name": "X", "purpose": "p"}, "slug"),
    ({"slug": "Bad Slug", "name": "X", "purpose": "p"}, "slug"),
    ({"slug": "-x", "name": "X", "purpose": "p"}, "slug"),
    ({"slug": "x", "purpose": "p"}, "name"),
    ({"slug": "x", "name": "X"}, "purpose"),
    ({"slug": "x", "name": "X", "purpose": ""}, "purpose"),
    ({"slug": "x", "name": "X", "purpose": "p", "visibility": "secret"}, "visibility"),
    ({"slug": "x", "name": "X", "purpose": "p", "audiences": []}, "audiences"),
    ({"slug": "x", "name": "X", "purpose": "p", "audiences": ["robots"]}, "audiences"),
    ({"slug": "x", "name": "X", "purpose": "p", "audiences": ["partner", "partner"]}, "audiences"),
    ({"slug": "x", "name": "X", "purpose": "p", "organizations": "acme"}, "organizations"),
    ({"slug": "x", "name": "X", "purpose": "p", "organizations": ["a", "a"]}, "organizations"),
    ({"slug": "x", "name": "X", "purpose": "p", "owner": 3}, "owner"),
    ({"slug": 5, "name": "X", "purpose": "p"}, "slug"),
])
def test_community_validation_names_the_field_and_writes_nothing(make_user, payload, field):
    alice = make_user("alice")
    response = alice.post("/api/v1/communities", json=payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert alice.get("/api/v1/communities").get_json()["items"] == []


def test_non_object_body_is_rejected(make_user):
    alice = make_user("alice")
    response = alice.post("/api/v1/communities", json=["slug"])
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_duplicate_slug_is_409(make_user, make_community):
    alice = make_user("alice")
    make_community(alice, "dup")
    response = alice.post("/api/v1/communities", json={"slug": "dup", "name": "D", "purpose": "p"})
    assert response.status_code == 409
    assert "slug" in response.get_json()["errors"]


def test_owner_updates_community_member_cannot(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "team")
    assert bob.post("/api/v1/communities/team/members", json={}).status_code == 201
    assert bob.patch("/api/v1/communities/team", json={"name": "Mine"}).status_code == 403
    response = alice.patch("/api/v1/communities/team", json={
        "name": "Team", "audiences": ["employee", "customer"], "organizations": ["globex"],
        "archived": True})
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "Team" and body["audiences"] == ["customer", "employee"]
    assert body["organizations"] == ["globex"] and body["archived"] is True


def test_patch_validation(make_user, make_community):
    alice = make_user("alice")
    make_community(alice, "team")
    for payload, field in [({"visibility": "x"}, "visibility"), ({"slug": "new"}, "slug"),
                           ({"archived": "soon"}, "archived"), ({"name": ""}, "name")]:
        response = alice.patch("/api/v1/communities/team", json=payload)
        assert response.status_code == 422, payload
        assert field in response.get_json()["errors"]
    assert alice.get("/api/v1/communities/team").get_json()["name"] == "Team"


def test_list_filters_and_cursor_pagination(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    for i in range(7):
        make_community(alice, f"c{i}", visibility="open" if i % 2 else "restricted")
    assert bob.post("/api/v1/communities/c1/members", json={}).status_code == 201
    seen, cursor = [], None
    while True:
        url = "/api/v1/communities?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = bob.get(url).get_json()
        seen += [c["slug"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"c{i}" for i in range(7)]
    mine = bob.get("/api/v1/communities?member=true").get_json()["items"]
    assert [c["slug"] for c in mine] == ["c1"]
    restricted = bob.get("/api/v1/communities?visibility=restricted").get_json()["items"]
    assert [c["slug"] for c in restricted] == ["c0", "c2", "c4", "c6"]


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"),
    ("cursor=%%%", "cursor"), ("visibility=secret", "visibility"), ("member=perhaps", "member"),
])
def test_list_query_validation(make_user, query, field):
    response = make_user().get(f"/api/v1/communities?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_restricted_join_is_pending_until_approved(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "r", visibility="restricted")
    response = bob.post("/api/v1/communities/r/members", json={})
    assert response.status_code == 201 and response.get_json()["status"] == "pending"
    # Pending requests are for moderators' eyes.
    assert bob.get("/api/v1/communities/r/members?status=pending").status_code == 403
    pending = alice.get("/api/v1/communities/r/members?status=pending").get_json()["items"]
    assert [m["user"]["handle"] for m in pending] == ["bob"]
    # Bob cannot approve himself.
    assert bob.patch(f"/api/v1/communities/r/members/{bob.id}",
                     json={"status": "active"}).status_code == 403
    response = alice.patch(f"/api/v1/communities/r/members/{bob.id}", json={"status": "active"})
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    assert bob.get("/api/v1/communities/r").get_json()["my_membership"]["status"] == "active"


def test_reject_request_by_deleting_it(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "r", visibility="restricted")
    bob.post("/api/v1/communities/r/members", json={})
    assert alice.delete(f"/api/v1/communities/r/members/{bob.id}").status_code == 204
    assert alice.get("/api/v1/communities/r/members?status=pending").get_json()["items"] == []


def test_private_community_by_invitation(make_user, make_community):
    alice, carol = make_user("alice"), make_user("carol", audience="customer", organization="globex")
    make_community(alice, "board", visibility="private", audiences=["employee", "customer"])
    assert carol.get("/api/v1/communities/board").status_code == 404
    assert carol.post("/api/v1/communities/board/members", json={}).status_code == 404
    response = alice.post("/api/v1/communities/board/members", json={"user_id": carol.id})
    assert response.status_code == 201 and response.get_json()["status"] == "invited"
    # Invited is not yet a member: still hidden, but the invitation can be answered.
    assert carol.get("/api/v1/communities/board").status_code == 404
    response = carol.patch(f"/api/v1/communities/board/members/{carol.id}", json={"status": "active"})
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    assert carol.get("/api/v1/communities/board").status_code == 200


def test_invitee_accepts_by_joining_or_declines(make_user, make_community):
    alice, bob, dan = make_user("alice"), make_user("bob"), make_user("dan")
    make_community(alice, "board", visibility="private")
    alice.post("/api/v1/communities/board/members", json={"user_id": bob.id})
    alice.post("/api/v1/communities/board/members", json={"user_id": dan.id})
    response = bob.post("/api/v1/communities/board/members", json={})
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    assert dan.delete(f"/api/v1/communities/board/members/{dan.id}").status_code == 204
    assert dan.get("/api/v1/communities/board").status_code == 404


def test_plain_members_cannot_invite_and_only_owners_grant_staff_roles(make_user, make_community):
    alice, bob, carol, dan = (make_user(h) for h in ("alice", "bob", "carol", "dan"))
    make_community(alice, "team")
    bob.post("/api/v1/communities/team/members", json={})
    assert bob.post("/api/v1/communities/team/members",
                    json={"user_id": carol.id}).status_code == 403
    assert alice.patch(f"/api/v1/communities/team/members/{bob.id}",
                       json={"role": "moderator"}).status_code == 200
    # A moderator invites members but cannot hand out staff roles.
    assert bob.post("/api/v1/communities/team/members",
                    json={"user_id": carol.id}).status_code == 201
    assert bob.post("/api/v1/communities/team/members",
                    json={"user_id": dan.id, "role": "owner"}).status_code == 403
    assert bob.patch(f"/api/v1/communities/team/members/{alice.id}",
                     json={"role": "member"}).status_code == 403


def test_invite_validation_and_conflicts(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "team")
    response = alice.post("/api/v1/communities/team/members", json={"user_id": 99999})
    assert response.status_code == 422 and "user_id" in response.get_json()["errors"]
    response = alice.post("/api/v1/communities/team/members", json={"user_id": "bob"})
    assert response.status_code == 422 and "user_id" in response.get_json()["errors"]
    response = alice.post("/api/v1/communities/team/members", json={"user_id": bob.id, "role": "king"})
    assert response.status_code == 422 and "role" in response.get_json()["errors"]
    bob.post("/api/v1/communities/team/members", json={})
    assert alice.post("/api/v1/communities/team/members",
                      json={"user_id": bob.id}).status_code == 409
    response = alice.patch(f"/api/v1/communities/team/members/{bob.id}", json={})
    assert response.status_code == 422


def test_ban_hides_community_and_blocks_rejoin_until_lifted(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "team")
    bob.post("/api/v1/communities/team/members", json={})
    assert bob.patch(f"/api/v1/communities/team/members/{alice.id}",
                     json={"status": "banned"}).status_code == 403
    assert alice.patch(f"/api/v1/communities/team/members/{bob.id}",
                       json={"status": "banned"}).status_code == 200
    assert bob.get("/api/v1/communities/team").status_code == 404
    assert bob.post("/api/v1/communities/team/members", json={}).status_code == 404
    assert [c["slug"] for c in bob.get("/api/v1/communities").get_json()["items"]] == []
    banned = alice.get("/api/v1/communities/team/members?status=banned").get_json()["items"]
    assert [m["user"]["handle"] for m in banned] == ["bob"]
    # Lifting the ban (deleting the row) lets bob see and join again.
    assert alice.delete(f"/api/v1/communities/team/members/{bob.id}").status_code == 204
    assert bob.post("/api/v1/communities/team/members", json={}).status_code == 201


def test_last_owner_cannot_leave_or_be_demoted(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "team")
    assert alice.delete(f"/api/v1/communities/team/members/{alice.id}").status_code == 409
    assert alice.patch(f"/api/v1/communities/team/members/{alice.id}",
                       json={"role": "member"}).status_code == 409
    bob.post("/api/v1/communities/team/members", json={})
    alice.patch(f"/api/v1/communities/team/members/{bob.id}", json={"role": "owner"})
    assert alice.delete(f"/api/v1/communities/team/members/{alice.id}").status_code == 204


def test_member_leaves_and_cannot_remove_others(make_user, make_community):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    make_community(alice, "team")
    bob.post("/api/v1/communities/team/members", json={})
    carol.post("/api/v1/communities/team/members", json={})
    assert bob.delete(f"/api/v1/communities/team/members/{carol.id}").status_code == 403
    assert bob.delete(f"/api/v1/communities/team/members/{bob.id}").status_code == 204
    assert bob.delete(f"/api/v1/communities/team/members/{bob.id}").status_code == 404


def test_joining_twice_is_idempotent(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "team")
    assert bob.post("/api/v1/communities/team/members", json={}).status_code == 201
    assert bob.post("/api/v1/communities/team/members", json={}).status_code == 200
    assert alice.get("/api/v1/communities/team").get_json()["member_count"] == 2


def test_archived_community_cannot_be_joined(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "old")
    alice.patch("/api/v1/communities/old", json={"archived": True})
    assert bob.get("/api/v1/communities/old").status_code == 200
    assert bob.post("/api/v1/communities/old/members", json={}).status_code == 403


def test_out_of_range_user_id_is_422(make_user, make_community):
    alice = make_user("alice")
    make_community(alice, "team")
    response = alice.post("/api/v1/communities/team/members", json={"user_id": 2**40})
    assert response.status_code == 422 and "user_id" in response.get_json()["errors"]


def test_forged_cursor_with_wrong_types_is_422(make_user):
    import base64
    import json

    alice = make_user("alice")
    for values in ([True, "x"], ["name", "not-an-id"], [1, 2, 3], {"a": 1}, ["name", 2**70]):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
        response = alice.get(f"/api/v1/communities?cursor={cursor}")
        assert response.status_code == 422, values
        assert "cursor" in response.get_json()["errors"]


def test_unknown_query_parameter_is_422(make_user):
    response = make_user().get("/api/v1/communities?visibilty=open")
    assert response.status_code == 422
    assert "visibilty" in response.get_json()["errors"]
