"""Concerns: scoring opens them, members flag, moderators work the queue, raisers see the answer."""
import pytest

from collab.concerns import classifier
from tests.api.content import API, join, list_all, make_post, make_thread, promote
from tests.factories import set_membership

ANGRY = ("This is unacceptable. The export has been broken for three weeks, we lost data again "
         "and nobody answers. We are considering legal action.")
CALM = "How do I export the quarterly report to CSV? Thanks!"


@pytest.fixture
def eng(make_user, make_community):
    owner, moderator, member = make_user("owner"), make_user("mod"), make_user("member")
    make_community(owner, "eng")
    promote(owner, moderator, "eng")
    join(member, "eng")
    return owner, moderator, member


def queue(caller, slug="eng", **params):
    response = caller.get(f"{API}/communities/{slug}/concerns", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_classifier_separates_complaints_from_questions():
    angry, calm = classifier.assess(ANGRY), classifier.assess(CALM)
    assert angry.score >= classifier.THRESHOLD > calm.score
    assert "unacceptable" in angry.risk_terms and angry.negativity > 0


def test_negative_thread_opens_concern_and_the_lifecycle(eng):
    owner, moderator, member = eng
    make_thread(member, "eng", "question", "CSV export", CALM)
    angry = make_thread(member, "eng", "discussion", "Export broken again", ANGRY)
    items = queue(moderator)
    assert [i["thread"]["id"] for i in items] == [angry["id"]]
    concern = items[0]
    assert concern["state"] == "open" and concern["score"] >= classifier.THRESHOLD
    assert "unacceptable" in concern["reasons"] and concern["acknowledged"] is False

    mine = member.get(f"{API}/me/concerns").get_json()["items"]
    assert [c["id"] for c in mine] == [concern["id"]] and mine[0]["state"] == "open"
    assert "score" not in mine[0]

    response = moderator.patch(f"{API}/concerns/{concern['id']}", json={
        "state": "acknowledged", "assignee_id": moderator.id,
        "response_note": "We are on it; fix due Friday."})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "acknowledged" and body["assignee"]["handle"] == "mod"
    assert body["acknowledged_at"] and body["resolved_at"] is None

    seen = member.get(f"{API}/concerns/{concern['id']}").get_json()
    assert seen["acknowledged"] is True and seen["response_note"] == "We are on it; fix due Friday."
    assert "assignee" not in seen and "score" not in seen

    assert moderator.patch(f"{API}/concerns/{concern['id']}",
                           json={"state": "resolved"}).get_json()["resolved_at"]
    assert queue(owner, state="open") == []
    assert len(queue(owner, state="resolved")) == 1
    reopened = owner.patch(f"{API}/concerns/{concern['id']}", json={"state": "open"})
    assert reopened.status_code == 200 and reopened.get_json()["resolved_at"] is None


def test_negative_reply_opens_concern_on_its_thread(eng):
    owner, moderator, member = eng
    thread = make_thread(owner, "eng", "question", "Release notes", CALM)
    assert queue(moderator) == []
    make_post(member, thread["id"], ANGRY)
    assert [i["thread"]["id"] for i in queue(moderator)] == [thread["id"]]


def test_member_flag_opens_a_concern_once_per_person(eng, make_user):
    owner, moderator, member = eng
    thread = make_thread(owner, "eng", "discussion", "Parking spaces", "Fewer spaces next month.")
    assert queue(moderator) == []
    response = member.post(f"{API}/threads/{thread['id']}/concern-flags",
                           json={"reason": "People with disabilities need these."})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["flags"] == 1 and response.get_json()["concern"]["state"] == "open"
    again = member.post(f"{API}/threads/{thread['id']}/concern-flags", json={})
    assert again.get_json()["flags"] == 1
    items = queue(moderator)
    assert len(items) == 1 and items[0]["flags"] == 1
    assert [c["thread"]["id"] for c in member.get(f"{API}/me/concerns").get_json()["items"]] \
        == [thread["id"]]
    outsider = make_user("outsider")  # sees the open community, is not a member
    assert outsider.post(f"{API}/threads/{thread['id']}/concern-flags", json={}).status_code == 403


def test_transitions_and_bad_input(eng, make_user):
    owner, moderator, member = eng
    make_thread(member, "eng", "discussion", "Broken", ANGRY)
    concern_id = queue(moderator)[0]["id"]
    url = f"{API}/concerns/{concern_id}"
    assert moderator.patch(url, json={"state": "dismissed"}).status_code == 200
    conflict = moderator.patch(url, json={"state": "resolved"})
    assert conflict.status_code == 409 and conflict.get_json()["errors"]["state"]
    for payload, field in (({"state": "closed"}, "state"), ({"assignee_id": "x"}, "assignee_id"),
                           ({"assignee_id": member.id}, "assignee_id"), ({"color": 1}, "color")):
        response = moderator.patch(url, json=payload)
        assert response.status_code == 422, payload
        assert field in response.get_json()["errors"]
    assert queue(moderator)[0]["state"] == "dismissed"  # nothing partial was written
    assert moderator.get(f"{API}/communities/eng/concerns?state=bogus").status_code == 422


@pytest.mark.parametrize("visibility", ["open", "private"])
@pytest.mark.parametrize("state, role", [("none", None), ("active", "member"),
                                         ("banned", "member"), ("active", "moderator"),
                                         ("active", "owner")])
def test_queue_permission_matrix(app, make_user, make_community, visibility, state, role):
    owner, author = make_user("owner"), make_user("author")
    make_community(owner, "space", visibility=visibility)
    set_membership(app, "space", author.id, "active")
    thread = make_thread(author, "space", "discussion", "Awful", ANGRY)
    concern_id = queue(owner, "space")[0]["id"]
    viewer = make_user("viewer")
    if state != "none":
        set_membership(app, "space", viewer.id, state, role)
    visible = state == "active" or (state == "none" and visibility == "open")
    staff = state == "active" and role in ("moderator", "owner")
    expected = 200 if staff else (403 if visible else 404)
    assert viewer.get(f"{API}/communities/space/concerns").status_code == expected
    assert viewer.patch(f"{API}/concerns/{concern_id}",
                        json={"state": "acknowledged"}).status_code == expected
    assert viewer.get(f"{API}/concerns/{concern_id}").status_code == (200 if staff else 404)
    assert viewer.get(f"{API}/me/concerns").get_json()["items"] == []
    flag = viewer.post(f"{API}/threads/{thread['id']}/concern-flags", json={})
    assert flag.status_code == (201 if state == "active" else (403 if visible else 404))
    assert author.get(f"{API}/concerns/{concern_id}").status_code == 200  # the raiser's view


def test_author_loses_view_when_the_community_is_hidden(app, make_user, make_community):
    owner, author = make_user("owner"), make_user("author")
    make_community(owner, "space", visibility="private")
    set_membership(app, "space", author.id, "active")
    make_thread(author, "space", "discussion", "Awful", ANGRY)
    concern_id = queue(owner, "space")[0]["id"]
    assert author.get(f"{API}/concerns/{concern_id}").status_code == 200
    owner.delete(f"{API}/communities/space/members/{author.id}")
    assert author.get(f"{API}/concerns/{concern_id}").status_code == 404
    assert author.get(f"{API}/me/concerns").get_json()["items"] == []
    assert len(list_all(owner, f"{API}/communities/space/concerns")) == 1
