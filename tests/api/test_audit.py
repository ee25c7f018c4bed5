"""The audit log: written with the action in one transaction, read by admins and owners only."""
import pytest

from tests.api.content import API, join, make_post, make_thread, promote, set_status


def _actions(caller, url="/audit", **query):
    response = caller.get(f"{API}{url}", query_string=query)
    assert response.status_code == 200, response.get_json()
    return [(e["action"], e["target_type"], e["target_id"]) for e in response.get_json()["items"]]


def test_membership_role_ban_and_visibility_changes_are_audited(make_user, make_community):
    admin = make_user("root", is_admin=True)
    owner = make_user("olga")
    community = make_community(owner, "space")
    mod, member = make_user("mod"), make_user("mia")
    promote(owner, mod, "space")
    join(member, "space")
    assert mod.patch(f"{API}/communities/space/members/{member.id}",
                     json={"status": "banned"}).status_code == 200
    assert owner.patch(f"{API}/communities/space/members/{member.id}",
                       json={"status": "active"}).status_code == 200
    assert owner.patch(f"{API}/communities/space/members/{mod.id}",
                       json={"role": "member"}).status_code == 200
    assert owner.patch(f"{API}/communities/space", json={"visibility": "restricted"}).status_code == 200
    assert member.delete(f"{API}/communities/space/members/{member.id}").status_code == 204
    events = owner.get(f"{API}/communities/space/audit").get_json()["items"]
    assert [e["action"] for e in events] == [
        "membership.leave", "community.update", "membership.role", "membership.unban",
        "membership.ban", "membership.join", "membership.accept", "membership.invite",
        "community.create"]
    ban = events[4]
    assert (ban["actor_id"], ban["target_id"], ban["community_id"]) == (mod.id, member.id,
                                                                        community["id"])
    assert events[1]["details"]["visibility"] == {"from": "open", "to": "restricted"}
    assert events[2]["details"] == {"role": "member", "previous": "moderator", "status": "active"}
    assert _actions(admin, community="space", action="membership.ban") == [
        ("membership.ban", "membership", member.id)]


def test_failed_action_writes_no_audit_event(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    before = owner.get(f"{API}/communities/space/audit").get_json()["items"]
    response = owner.patch(f"{API}/communities/space/members/{owner.id}", json={"role": "member"})
    assert response.status_code == 409  # the last owner
    assert owner.get(f"{API}/communities/space/audit").get_json()["items"] == before


def test_content_tokens_and_users_are_audited(make_user, make_community):
    admin = make_user("root", is_admin=True)
    owner = make_user("olga")
    make_community(owner, "space")
    idea, other = make_thread(owner, "space", "idea"), make_thread(owner, "space", "idea", title="B")
    post = make_post(owner, idea["id"])
    set_status(owner, idea["id"], "planned")
    assert owner.post(f"{API}/threads/{other['id']}/merge", json={"into": idea["id"]}).status_code == 200
    assert owner.patch(f"{API}/threads/{idea['id']}", json={"pinned": True}).status_code == 200
    assert owner.delete(f"{API}/posts/{post['id']}").status_code == 204
    assert owner.delete(f"{API}/threads/{idea['id']}").status_code == 204
    token = owner.post(f"{API}/users/{owner.id}/tokens", json={"name": "x"}).get_json()
    assert owner.delete(f"{API}/tokens/{token['id']}").status_code == 204
    created = admin.post(f"{API}/users", json={"handle": "neo", "email": "neo@example.com",
                                               "audience": "employee"}).get_json()
    actions = _actions(admin)
    assert actions[:8] == [
        ("user.create", "user", created["id"]), ("token.revoke", "token", token["id"]),
        ("token.issue", "token", token["id"]), ("thread.delete", "thread", idea["id"]),
        ("post.delete", "post", post["id"]), ("thread.pin", "thread", idea["id"]),
        ("idea.merge", "thread", other["id"]), ("idea.status", "thread", idea["id"])]
    assert "neo" not in str(admin.get(f"{API}/audit").get_json())  # ids, never personal fields


def test_audit_readers_and_filters_and_paging(make_user, make_community):
    admin = make_user("root", is_admin=True)
    owner = make_user("olga")
    make_community(owner, "space")
    mod, member = make_user("mod"), make_user("mia")
    promote(owner, mod, "space")
    join(member, "space")
    for caller in (owner, mod, member):
        assert caller.get(f"{API}/audit").status_code == 403
    for caller in (mod, member):
        assert caller.get(f"{API}/communities/space/audit").status_code == 403
    make_community(admin, "hidden", visibility="private")
    assert owner.get(f"{API}/communities/hidden/audit").status_code == 404
    assert admin.get(f"{API}/communities/hidden/audit").status_code == 200
    everything = _actions(admin, community="space")
    pages, cursor = [], None
    while True:
        body = admin.get(f"{API}/audit", query_string={
            "community": "space", "limit": 2, **({"cursor": cursor} if cursor else {})}).get_json()
        pages += [(e["action"], e["target_type"], e["target_id"]) for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == everything and len(everything) == 4
    assert _actions(admin, actor=member.id) == [("membership.join", "membership", member.id)]
    assert _actions(admin, since="9999-01-01T00:00:00Z") == []
    assert admin.get(f"{API}/audit", query_string={"since": "0001-01-01T00:00:00+05:00"}).status_code == 422


@pytest.mark.parametrize("method", ["put", "patch", "delete", "post"])
def test_audit_log_is_not_editable_through_the_api(make_user, make_community, method):
    admin = make_user("root", is_admin=True)
    make_community(admin, "space")
    event_id = admin.get(f"{API}/audit").get_json()["items"][0]["id"]
    for url in (f"{API}/audit", f"{API}/audit/{event_id}", f"{API}/communities/space/audit"):
        response = getattr(admin, method)(url, json={})
        assert response.status_code in (404, 405)
    assert admin.get(f"{API}/audit").get_json()["items"][0]["id"] == event_id


def test_audit_rows_are_append_only(app, make_user, make_community):
    from collab.audit.models import AuditEvent
    from collab.db import db
    owner = make_user("olga")
    make_community(owner, "space")
    with app.app_context():
        event = db.session.scalars(db.select(AuditEvent)).first()
        event.action = "forged"
        with pytest.raises(RuntimeError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalars(db.select(AuditEvent)).first())
        with pytest.raises(RuntimeError):
            db.session.commit()
        db.session.rollback()
        db.session.remove()
