"""ETag and If-None-Match (304) on single resources; If-Match (412) on changes."""
import pytest

from tests.factories import set_membership
from tests.integrations.helpers import API


@pytest.fixture
def thread(make_user, make_community):
    alice = make_user("alice")
    make_community(alice, "lab")
    created = alice.post(f"{API}/communities/lab/threads",
                         json={"kind": "discussion", "title": "T", "body": "B"}).get_json()
    post = alice.post(f"{API}/threads/{created['id']}/posts", json={"body": "reply"}).get_json()
    return alice, created, post


@pytest.mark.parametrize("resource", ["thread", "post", "community"])
def test_etag_and_if_none_match(thread, resource):
    alice, created, post = thread
    url = {"thread": f"{API}/threads/{created['id']}", "post": f"{API}/posts/{post['id']}",
           "community": f"{API}/communities/lab"}[resource]
    first = alice.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"')
    # An unconditional GET answers as werkzeug's make_conditional does: dated, with its length.
    assert first.headers["Date"].endswith(" GMT")
    assert first.headers["Content-Length"] == str(len(first.get_data()))
    same = alice.get(url, headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.get_data() == b""
    assert alice.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    change = {"thread": {"title": "Changed"}, "post": {"body": "changed"},
              "community": {"description": "changed"}}[resource]
    patched = alice.patch(url, json=change)
    assert patched.status_code == 200 and patched.headers["ETag"] != etag
    fresh = alice.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == patched.headers["ETag"]


@pytest.mark.parametrize("resource", ["thread", "post", "community"])
def test_if_match_refuses_stale_changes(thread, resource):
    alice, created, post = thread
    url = {"thread": f"{API}/threads/{created['id']}", "post": f"{API}/posts/{post['id']}",
           "community": f"{API}/communities/lab"}[resource]
    change = {"thread": ("title", "Editor A", "Editor B"), "post": ("body", "A", "B"),
              "community": ("description", "A", "B")}[resource]
    field, first_value, second_value = change
    etag = alice.get(url).headers["ETag"]
    first = alice.patch(url, json={field: first_value}, headers={"If-Match": etag})
    assert first.status_code == 200
    stale = alice.patch(url, json={field: second_value}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    assert "If-Match" in stale.get_json()["errors"]
    assert alice.get(url).get_json()[field] == first_value
    again = alice.patch(url, json={field: second_value}, headers={"If-Match": first.headers["ETag"]})
    assert again.status_code == 200 and again.get_json()[field] == second_value


def test_if_match_on_delete(thread):
    alice, created, post = thread
    url = f"{API}/posts/{post['id']}"
    assert alice.delete(url, headers={"If-Match": '"stale"'}).status_code == 412
    assert alice.get(url).status_code == 200
    assert alice.delete(url, headers={"If-Match": alice.get(url).headers["ETag"]}).status_code == 204
    thread_url = f"{API}/threads/{created['id']}"
    assert alice.delete(thread_url, headers={"If-Match": "*"}).status_code == 204


def test_hidden_resource_is_404_not_412(thread, make_user, make_community):
    alice, created, _ = thread
    make_community(alice, "secret", visibility="private")
    hidden = alice.post(f"{API}/communities/secret/threads",
                        json={"kind": "discussion", "title": "T", "body": "B"}).get_json()
    outsider = make_user("outsider")
    response = outsider.patch(f"{API}/threads/{hidden['id']}", json={"title": "x"},
                              headers={"If-Match": '"stale"'})
    assert response.status_code == 404


def test_a_new_vote_changes_the_thread_etag(thread, make_user, app):
    alice, _, _ = thread
    idea = alice.post(f"{API}/communities/lab/threads",
                      json={"kind": "idea", "title": "I", "body": "B"}).get_json()
    bob = make_user("bob")
    set_membership(app, "lab", bob.id, "active")
    etag = alice.get(f"{API}/threads/{idea['id']}").headers["ETag"]
    bob.put(f"{API}/threads/{idea['id']}/vote", json={"value": 1})
    assert alice.get(f"{API}/threads/{idea['id']}", headers={"If-None-Match": etag}).status_code == 200
