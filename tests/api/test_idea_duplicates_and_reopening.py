"""A merged idea shows it is a duplicate; moderators may reopen a `done` idea; both recorded."""
import pytest
from sqlalchemy import func, select

from collab.db import db
from collab.ideas.models import IdeaStatusChange
from tests.api.content import API, get_thread, join, make_thread, promote, set_status, vote


@pytest.fixture
def space(make_user, make_community):
    owner, moderator, member, other = (make_user("olga"), make_user("mo"), make_user("mia"),
                                       make_user("otto"))
    admin = make_user("root", is_admin=True)
    make_community(owner, "space")
    promote(owner, moderator, "space")
    join(member, "space")
    join(other, "space")
    return {"owner": owner, "moderator": moderator, "member": member, "other": other,
            "admin": admin}


def _changes(app, thread_id) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(IdeaStatusChange).where(
            IdeaStatusChange.thread_id == thread_id))
        db.session.remove()
    return count


def test_a_merged_idea_has_status_duplicate_in_its_history(space):
    member, moderator = space["member"], space["moderator"]
    duplicate, target = make_thread(member, "space", "idea"), make_thread(member, "space", "idea")
    set_status(moderator, duplicate["id"], "under_review")
    response = moderator.post(f"{API}/threads/{duplicate['id']}/merge", json={"into": target["id"]})
    assert response.status_code == 200
    assert response.get_json()["status"] == "duplicate"
    thread = get_thread(member, duplicate["id"])
    assert thread["status"] == "duplicate" and thread["merged_into"] == target["id"]
    last = thread["status_history"][-1]
    assert (last["from_status"], last["to_status"], last["actor"]["handle"]) == (
        "under_review", "duplicate", "mo")
    assert str(target["id"]) in last["note"]
    history = member.get(f"{API}/threads/{duplicate['id']}/status").get_json()
    assert [h["to_status"] for h in history] == ["under_review", "duplicate"]
    # The target keeps its own status; the duplicate is read-only and out of the lists.
    assert get_thread(member, target["id"])["status"] == "new"
    assert moderator.post(f"{API}/threads/{duplicate['id']}/status",
                          json={"status": "under_review"}).status_code == 409
    listed = member.get(f"{API}/communities/space/threads?status=duplicate").get_json()
    assert listed["items"] == []


def test_duplicate_cannot_be_set_by_hand(app, space):
    idea = make_thread(space["member"], "space", "idea")
    response = space["moderator"].post(f"{API}/threads/{idea['id']}/status",
                                       json={"status": "duplicate"})
    assert response.status_code == 422 and "status" in response.get_json()["errors"]
    assert get_thread(space["member"], idea["id"])["status"] == "new"
    assert _changes(app, idea["id"]) == 0


@pytest.mark.parametrize("reopened", ["in_progress", "under_review"])
@pytest.mark.parametrize("who", ["owner", "moderator", "admin"])
def test_staff_reopen_a_done_idea_and_votes_thaw(space, who, reopened):
    member, other = space["member"], space["other"]
    idea = make_thread(member, "space", "idea")
    set_status(space["owner"], idea["id"], "done", "Shipped.")
    assert other.put(f"{API}/threads/{idea['id']}/vote", json={"value": 1}).status_code == 409
    change = set_status(space[who], idea["id"], reopened, "Not shipped after all.")
    assert (change["from_status"], change["to_status"]) == ("done", reopened)
    thread = get_thread(member, idea["id"])
    assert thread["status"] == reopened
    assert [(h["from_status"], h["to_status"]) for h in thread["status_history"]] == [
        ("new", "done"), ("done", reopened)]
    assert vote(other, idea["id"], 1)["upvotes"] == 1  # votes are open again
    set_status(space[who], idea["id"], "done")  # and it can be finished again


@pytest.mark.parametrize("target", ["new", "planned", "declined", "done"])
def test_done_reopens_only_to_review_or_work(app, space, target):
    idea = make_thread(space["member"], "space", "idea")
    set_status(space["owner"], idea["id"], "done")
    response = space["owner"].post(f"{API}/threads/{idea['id']}/status", json={"status": target})
    assert response.status_code == 409 and "status" in response.get_json()["errors"]
    assert get_thread(space["member"], idea["id"])["status"] == "done"
    assert _changes(app, idea["id"]) == 1


def test_members_and_authors_cannot_reopen_done(app, space, make_user):
    member = space["member"]
    idea = make_thread(member, "space", "idea")
    set_status(space["owner"], idea["id"], "done")
    outsider = make_user("stan")
    for caller in (member, space["other"], outsider):
        response = caller.post(f"{API}/threads/{idea['id']}/status", json={"status": "in_progress"})
        assert response.status_code == 403
    assert get_thread(member, idea["id"])["status"] == "done"
    assert _changes(app, idea["id"]) == 1
