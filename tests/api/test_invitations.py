"""Membership made usable: invitations one can find, invites by handle, a people look-up that
respects who may see whom, pending requests shown to staff, and a cool-down after a rejection."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from collab import time
from collab.communities.models import Membership, MembershipRejection
from collab.db import db
from tests.api.content import API, join, promote


def _count(app, model) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return count


def test_invitations_are_listed_for_the_invitee_even_when_the_community_is_hidden(make_user,
                                                                                make_community):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    make_community(alice, "board", visibility="private", purpose="Decide the roadmap.")
    make_community(alice, "club", visibility="restricted")
    assert bob.get(f"{API}/me/invitations").get_json() == {"items": [], "next_cursor": None}
    assert alice.post(f"{API}/communities/board/members", json={"handle": "bob"}).status_code == 201
    bob.post(f"{API}/communities/club/members", json={})  # a request is not an invitation
    assert bob.get(f"{API}/communities/board").status_code == 404

    body = bob.get(f"{API}/me/invitations").get_json()
    assert len(body["items"]) == 1
    invitation = body["items"][0]
    assert invitation["community"] == {"slug": "board", "name": "Board",
                                       "purpose": "Decide the roadmap.", "visibility": "private",
                                       "archived": False}
    assert invitation["role"] == "member" and invitation["invited_by"]["handle"] == "alice"
    assert invitation["created_at"]
    assert carol.get(f"{API}/me/invitations").get_json()["items"] == []  # only one's own
    # Accepting (joining) takes it off the list.
    assert bob.post(f"{API}/communities/board/members", json={}).status_code == 200
    assert bob.get(f"{API}/me/invitations").get_json()["items"] == []
    assert bob.get(f"{API}/me/invitations?limit=0").status_code == 422


def test_invitations_page_newest_first(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    for slug in ("one", "two", "three"):
        make_community(alice, slug, visibility="private")
        alice.post(f"{API}/communities/{slug}/members", json={"user_id": bob.id})
    first = bob.get(f"{API}/me/invitations?limit=2").get_json()
    rest = bob.get(f"{API}/me/invitations?limit=2&cursor={first['next_cursor']}").get_json()
    slugs = [i["community"]["slug"] for i in first["items"] + rest["items"]]
    assert slugs == ["three", "two", "one"] and rest["next_cursor"] is None


def test_invite_by_handle(app, make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "team", visibility="private")
    response = alice.post(f"{API}/communities/team/members",
                          json={"handle": "bob", "role": "moderator"})
    assert response.status_code == 201
    assert response.get_json()["user"]["id"] == bob.id
    assert response.get_json()["status"] == "invited" and response.get_json()["role"] == "moderator"
    assert alice.post(f"{API}/communities/team/members", json={"handle": "bob"}).status_code == 409
    # Your own handle is joining: nothing changes for an owner.
    assert alice.post(f"{API}/communities/team/members", json={"handle": "alice"}).status_code == 200


@pytest.mark.parametrize("payload, fields", [
    ({"handle": "nobody"}, {"handle"}),
    ({"handle": "Not A Handle"}, {"handle"}),
    ({"handle": 42}, {"handle"}),
    ({"handle": ""}, {"handle"}),
    ({"user_id": 1, "handle": "bob"}, {"user_id", "handle"}),
])
def test_bad_invites_are_422_and_write_nothing(app, make_user, make_community, payload, fields):
    alice = make_user("alice")
    make_user("bob")
    make_community(alice, "team")
    before = _count(app, Membership)
    response = alice.post(f"{API}/communities/team/members", json=payload)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert set(response.get_json()["errors"]) == fields
    assert _count(app, Membership) == before


def test_non_staff_cannot_invite_by_handle(make_user, make_community):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    make_community(alice, "team")
    join(bob, "team")
    assert bob.post(f"{API}/communities/team/members", json={"handle": "carol"}).status_code == 403
    assert carol.get(f"{API}/me/invitations").get_json()["items"] == []


def test_a_partner_moderator_cannot_invite_people_they_may_not_see(make_user, make_community):
    alice = make_user("alice")
    pat = make_user("pat", audience="partner", organization="acme")
    hidden = make_user("hidden")  # an employee in no community pat can see
    make_community(alice, "partners", audiences=["employee", "partner"])
    make_community(alice, "inner", visibility="private")
    promote(alice, pat, "partners")
    for payload in ({"handle": "hidden"}, {"user_id": hidden.id}):
        response = pat.post(f"{API}/communities/partners/members", json=payload)
        assert response.status_code == 422, payload
        assert response.get_json()["errors"] == {next(iter(payload)): ["No such user."]}
    assert pat.post(f"{API}/communities/partners/members", json={"handle": "alice"}).status_code == 409


def test_people_look_up_by_handle_respects_who_may_see_whom(make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_user("albert"), make_user("al_x")
    pat = make_user("pat", audience="partner", organization="acme")
    make_community(alice, "partners", audiences=["employee", "partner"])
    join(pat, "partners")

    def handles(caller, query):
        response = caller.get(f"{API}/users?{query}")
        assert response.status_code == 200, response.get_json()
        return [u["handle"] for u in response.get_json()["items"]]

    assert handles(bob, "handle=al") == ["al_x", "albert", "alice"]  # employees: the directory
    assert handles(bob, "handle=AL") == ["al_x", "albert", "alice"]
    assert handles(bob, "handle=al_") == ["al_x"]  # '_' is a character, not a wildcard
    assert handles(bob, "handle=zz") == []
    # A partner sees themselves and the members of communities they may see.
    assert handles(pat, "handle=al") == ["alice"]
    assert handles(pat, "") == ["alice", "pat"]
    page = bob.get(f"{API}/users?handle=al&limit=2").get_json()
    rest = bob.get(f"{API}/users?handle=al&limit=2&cursor={page['next_cursor']}").get_json()
    assert [u["handle"] for u in page["items"] + rest["items"]] == ["al_x", "albert", "alice"]
    assert "email" not in page["items"][0]
    for query in ("handle=a%20b", "handle=" + "a" * 41, "limit=0", "name=al"):
        assert bob.get(f"{API}/users?{query}").status_code == 422, query


def test_pending_requests_are_counted_and_listed_for_staff_only(make_user, make_community):
    alice, mo, bob, carol, dan = (make_user(h) for h in ("alice", "mo", "bob", "carol", "dan"))
    admin = make_user("root", is_admin=True)
    make_community(alice, "club", visibility="restricted")
    promote(alice, mo, "club")
    for caller in (bob, carol):
        caller.post(f"{API}/communities/club/members", json={})
    alice.post(f"{API}/communities/club/members", json={"user_id": dan.id})  # invited: not pending
    join(dan, "club")
    for staff in (alice, mo, admin):
        assert staff.get(f"{API}/communities/club").get_json()["pending_requests"] == 2
        listed = staff.get(f"{API}/communities").get_json()["items"]
        assert [c["pending_requests"] for c in listed] == [2]
    assert dan.get(f"{API}/communities/club").get_json()["pending_requests"] is None
    assert bob.get(f"{API}/communities/club").get_json()["pending_requests"] is None

    # Without ?status, staff see the requests first, then the members; members see members.
    staff_view = alice.get(f"{API}/communities/club/members").get_json()["items"]
    assert [(m["user"]["handle"], m["status"]) for m in staff_view] == [
        ("bob", "pending"), ("carol", "pending"), ("alice", "active"), ("mo", "active"),
        ("dan", "active")]
    page = alice.get(f"{API}/communities/club/members?limit=2").get_json()
    rest = alice.get(f"{API}/communities/club/members?limit=3&cursor={page['next_cursor']}").get_json()
    assert [m["user"]["handle"] for m in page["items"] + rest["items"]] == [
        "bob", "carol", "alice", "mo", "dan"]
    member_view = dan.get(f"{API}/communities/club/members").get_json()["items"]
    assert [m["user"]["handle"] for m in member_view] == ["alice", "mo", "dan"]
    assert [m["user"]["handle"] for m in alice.get(
        f"{API}/communities/club/members?status=active").get_json()["items"]] == ["alice", "mo", "dan"]
    # Approving one lowers the count.
    alice.patch(f"{API}/communities/club/members/{bob.id}", json={"status": "active"})
    assert alice.get(f"{API}/communities/club").get_json()["pending_requests"] == 1


@pytest.fixture
def clock(monkeypatch):
    """A controllable clock for the services (collab.time.now)."""
    state = {"now": time.now()}
    monkeypatch.setattr("collab.time.now", lambda: state["now"])
    return state


def test_a_rejected_user_waits_for_the_cool_down(app, make_user, make_community, clock,
                                                 monkeypatch):
    monkeypatch.setitem(app.config, "MEMBERSHIP_REQUEST_COOLDOWN", 3600)
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "club", visibility="restricted")
    assert bob.post(f"{API}/communities/club/members", json={}).status_code == 201
    assert alice.delete(f"{API}/communities/club/members/{bob.id}").status_code == 204  # reject
    rejected_at = clock["now"]

    clock["now"] = rejected_at + timedelta(minutes=59)
    before = _count(app, Membership)
    response = bob.post(f"{API}/communities/club/members", json={})
    assert response.status_code == 429
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json()
    retry_at = (rejected_at + timedelta(hours=1)).isoformat()
    assert body["retry_at"] == retry_at and retry_at in body["detail"]
    assert body["type"].endswith("too-soon") and response.headers["Retry-After"] == "60"
    assert _count(app, Membership) == before

    clock["now"] = rejected_at + timedelta(hours=1, seconds=1)
    response = bob.post(f"{API}/communities/club/members", json={})
    assert response.status_code == 201 and response.get_json()["status"] == "pending"
    # Approval forgets the rejection.
    assert alice.patch(f"{API}/communities/club/members/{bob.id}",
                       json={"status": "active"}).status_code == 200
    assert _count(app, MembershipRejection) == 0


def test_cancelling_ones_own_request_is_no_rejection(app, make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "club", visibility="restricted")
    bob.post(f"{API}/communities/club/members", json={})
    assert bob.delete(f"{API}/communities/club/members/{bob.id}").status_code == 204
    assert bob.post(f"{API}/communities/club/members", json={}).status_code == 201
    assert _count(app, MembershipRejection) == 0


def test_staff_may_still_invite_a_rejected_user(app, make_user, make_community):
    alice, bob = make_user("alice"), make_user("bob")
    make_community(alice, "club", visibility="restricted")
    bob.post(f"{API}/communities/club/members", json={})
    alice.delete(f"{API}/communities/club/members/{bob.id}")
    assert bob.post(f"{API}/communities/club/members", json={}).status_code == 429
    assert alice.post(f"{API}/communities/club/members", json={"handle": "bob"}).status_code == 201
    assert bob.post(f"{API}/communities/club/members", json={}).get_json()["status"] == "active"
    assert _count(app, MembershipRejection) == 0


def test_the_default_cool_down_is_seven_days(app):
    assert app.config["MEMBERSHIP_REQUEST_COOLDOWN"] == 7 * 24 * 3600
