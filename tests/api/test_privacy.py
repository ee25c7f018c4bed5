"""Privacy: a person's export, and erasure by an admin that leaves no trace of name or email."""
import json

import pytest

from tests.api.content import API, join, make_post, make_thread, vote

SECRETS = ("zelda", "Zelda Quirk", "zelda@example.com", "hyrule")


@pytest.fixture
def zelda(app, client, make_user):
    from tests.factories import Caller
    admin = make_user("root", is_admin=True)
    created = admin.post(f"{API}/users", json={
        "handle": "zelda", "display_name": "Zelda Quirk", "email": "zelda@example.com",
        "audience": "partner", "organization": "hyrule"}).get_json()
    token = admin.post(f"{API}/users/{created['id']}/tokens", json={"name": "z"}).get_json()["token"]
    return admin, Caller(client, token, created)


def _world(admin, zelda, make_community):
    make_community(admin, "space", audiences=["employee", "partner"])
    join(zelda, "space")
    idea = make_thread(zelda, "space", "idea", title="Quieter meeting rooms", tags=["office"])
    other = make_thread(admin, "space", title="Lunch menu")
    post = make_post(zelda, other["id"], body="Soup please.")
    vote(admin, idea["id"], 1)
    vote(zelda, idea["id"], 1)
    zelda.post(f"{API}/posts/{post['id']}/flags", json={"reason": "mine, testing"})
    return idea, other, post


def test_export_has_everything_the_person_wrote_and_did(zelda, make_community):
    admin, person = zelda
    idea, other, post = _world(admin, person, make_community)
    response = person.get(f"{API}/me/export")
    assert response.status_code == 200
    body = response.get_json()
    assert body["profile"]["email"] == "zelda@example.com"
    assert [t["id"] for t in body["threads"]] == [idea["id"]]
    assert body["threads"][0]["tags"] == ["office"]
    assert [(p["id"], p["thread_id"]) for p in body["posts"]] == [(post["id"], other["id"])]
    assert body["votes"] == [{"thread_id": idea["id"], "value": 1,
                              "created_at": body["votes"][0]["created_at"]}]
    assert [m["community"] for m in body["memberships"]] == ["space"]
    assert [f["reason"] for f in body["flags"]] == ["mine, testing"]
    assert {"membership.join", "flag.create"} <= {a["action"] for a in body["actions"]}
    assert len(body["tokens"]) == 1 and "token" not in body["tokens"][0]
    assert "root@example.com" not in json.dumps(body)  # nothing of other people


def test_erase_requires_admin_and_is_404_twice(zelda, make_user):
    admin, person = zelda
    other = make_user("ben")
    assert other.delete(f"{API}/users/{person.id}").status_code == 403
    assert admin.delete(f"{API}/users/{admin.id}").status_code == 403
    assert admin.delete(f"{API}/users/{person.id}").status_code == 204
    assert admin.delete(f"{API}/users/{person.id}").status_code == 404
    assert admin.delete(f"{API}/users/{2**31 - 1}").status_code == 404


def test_erased_name_and_email_are_gone_from_every_endpoint(zelda, make_community):
    admin, person = zelda
    idea, other, post = _world(admin, person, make_community)
    assert admin.delete(f"{API}/users/{person.id}").status_code == 204
    assert person.get(f"{API}/me").status_code == 401  # tokens revoked
    urls = [f"/users/{person.id}", "/communities", "/communities/space",
            "/communities/space/members", "/communities/space/threads",
            f"/threads/{idea['id']}", f"/threads/{other['id']}", f"/threads/{other['id']}/posts",
            f"/threads/{idea['id']}/status", f"/threads/{idea['id']}/related",
            "/search?q=quieter", "/search?q=soup", "/search?q=zelda", "/search?author=zelda",
            "/search/suggest?q=qui", "/search/suggest?q=zel", "/audit", "/communities/space/audit",
            "/communities/space/flags", "/me/export", "/me/tokens"]
    for url in urls:
        response = admin.get(API + url)
        assert response.status_code == 200, (url, response.get_json())
        text = response.get_data(as_text=True)
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (url, secret)
    thread = admin.get(f"{API}/threads/{idea['id']}").get_json()
    assert thread["author"]["display_name"] == "deleted user"  # content kept, attributed
    assert thread["upvotes"] == 2
    posts = admin.get(f"{API}/threads/{other['id']}/posts").get_json()["items"]
    assert [p["body"] for p in posts] == ["Soup please."]
    found = admin.get(f"{API}/search", query_string={"q": "quieter"}).get_json()["items"]
    assert [i["thread"]["id"] for i in found] == [idea["id"]]
    events = admin.get(f"{API}/audit", query_string={"action": "user.erase"}).get_json()["items"]
    assert [(e["target_id"], e["actor_id"]) for e in events] == [(person.id, admin.id)]
