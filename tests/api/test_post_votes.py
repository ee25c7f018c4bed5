"""Votes on posts: one per person, never on one's own post; answers ranked accepted first, then
by votes; the same read and write rules as the rest of a thread."""
import pytest
from sqlalchemy import func, select

from collab.answers.models import PostVote
from collab.db import db
from collab.outbox import OutboxRow
from collab.threads.models import Post, Thread
from tests.api.content import API, join, list_all, make_post, make_thread, promote
from tests.factories import set_membership


@pytest.fixture
def space(make_user, make_community):
    owner, moderator, member, other, third = (make_user("olga"), make_user("mo"), make_user("mia"),
                                              make_user("otto"), make_user("tess"))
    make_community(owner, "space")
    promote(owner, moderator, "space")
    for caller in (member, other, third):
        join(caller, "space")
    return {"owner": owner, "moderator": moderator, "member": member, "other": other,
            "third": third}


def _vote(caller, post_id, value):
    return caller.put(f"{API}/posts/{post_id}/vote", json={"value": value})


def _stored(app, post_id):
    with app.app_context():
        votes = dict(db.session.execute(select(PostVote.user_id, PostVote.value).where(
            PostVote.post_id == post_id)).all())
        post = db.session.get(Post, post_id)
        counts = (post.upvotes, post.downvotes, post.score)
        db.session.remove()
    return votes, counts


def test_vote_change_and_withdraw_update_counts_and_my_vote(app, space):
    member, other, third = space["member"], space["other"], space["third"]
    question = make_thread(member, "space", "question")
    answer = make_post(other, question["id"])
    assert (answer["score"], answer["upvotes"], answer["downvotes"], answer["my_vote"]) == (0, 0, 0, None)

    body = _vote(member, answer["id"], 1).get_json()
    assert (body["score"], body["upvotes"], body["downvotes"], body["my_vote"]) == (1, 1, 0, 1)
    assert _vote(member, answer["id"], 1).get_json()["upvotes"] == 1  # the same vote again: no-op
    body = _vote(third, answer["id"], -1).get_json()
    assert (body["score"], body["upvotes"], body["downvotes"], body["my_vote"]) == (0, 1, 1, -1)
    body = _vote(member, answer["id"], -1).get_json()  # change of mind
    assert (body["score"], body["upvotes"], body["downvotes"], body["my_vote"]) == (-2, 0, 2, -1)
    # Each reader sees their own vote in lists.
    listed = list_all(third, f"{API}/threads/{question['id']}/posts")
    assert [(p["score"], p["my_vote"]) for p in listed] == [(-2, -1)]
    assert list_all(other, f"{API}/threads/{question['id']}/posts")[0]["my_vote"] is None

    response = member.delete(f"{API}/posts/{answer['id']}/vote")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["score"], body["upvotes"], body["downvotes"], body["my_vote"]) == (-1, 0, 1, None)
    assert member.delete(f"{API}/posts/{answer['id']}/vote").status_code == 200  # nothing to withdraw
    assert _stored(app, answer["id"]) == ({third.id: -1}, (0, 1, -1))


def test_no_vote_on_ones_own_post_and_bad_values_write_nothing(app, space):
    member, other = space["member"], space["other"]
    thread = make_thread(member, "space", "question")
    answer = make_post(other, thread["id"])
    response = _vote(other, answer["id"], 1)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"
    for payload in ({"value": 2}, {"value": 0}, {"value": "1"}, {}, {"value": 1, "extra": 1},
                    {"value": True}):
        response = member.put(f"{API}/posts/{answer['id']}/vote", json=payload)
        assert response.status_code == 422, payload
        assert "errors" in response.get_json()
    assert _stored(app, answer["id"]) == ({}, (0, 0, 0))


def test_votes_follow_read_and_write_rules(app, space, make_user, make_community):
    owner, member, other, moderator = (space["owner"], space["member"], space["other"],
                                       space["moderator"])
    outsider = make_user("stan")
    question = make_thread(member, "space", "question")
    answer = make_post(other, question["id"])
    # Not a member: may read an open community but not vote.
    assert _vote(outsider, answer["id"], 1).status_code == 403
    # Hidden community: 404 like everything else in it.
    make_community(owner, "secret", visibility="private")
    hidden_thread = make_thread(owner, "secret", "question")
    set_membership(app, "secret", other.id, "active")
    hidden = make_post(other, hidden_thread["id"])
    assert _vote(outsider, hidden["id"], 1).status_code == 404
    assert outsider.delete(f"{API}/posts/{hidden['id']}/vote").status_code == 404
    assert _vote(member, 2**31, 1).status_code == 404
    # Locked: members cannot vote, moderators still can.
    assert moderator.patch(f"{API}/threads/{question['id']}", json={"locked": True}).status_code == 200
    assert _vote(member, answer["id"], 1).status_code == 403
    assert _vote(moderator, answer["id"], 1).status_code == 200
    assert moderator.patch(f"{API}/threads/{question['id']}", json={"locked": False}).status_code == 200
    # Deleted post: 404.
    assert other.delete(f"{API}/posts/{answer['id']}").status_code == 204
    assert _vote(member, answer["id"], 1).status_code == 404
    # Archived: read-only.
    live = make_post(other, question["id"])
    assert owner.patch(f"{API}/communities/space", json={"archived": True}).status_code == 200
    assert _vote(member, live["id"], 1).status_code == 403
    assert _stored(app, live["id"]) == ({}, (0, 0, 0))
    assert _stored(app, answer["id"])[0] == {moderator.id: 1}


def test_votes_on_a_merged_duplicate_are_409(space):
    member, other, moderator = space["member"], space["other"], space["moderator"]
    duplicate, target = make_thread(member, "space", "idea"), make_thread(member, "space", "idea")
    reply = make_post(other, duplicate["id"])
    assert moderator.post(f"{API}/threads/{duplicate['id']}/merge",
                          json={"into": target["id"]}).status_code == 200
    assert _vote(member, reply["id"], 1).status_code == 409


def test_answers_sort_accepted_first_then_votes_then_time(space, make_user):
    member, other, third, moderator = (space["member"], space["other"], space["third"],
                                       space["moderator"])
    question = make_thread(member, "space", "question")
    first = make_post(other, question["id"], body="first")
    second = make_post(third, question["id"], body="second")
    third_post = make_post(moderator, question["id"], body="third")
    fourth = make_post(other, question["id"], body="fourth")
    url = f"{API}/threads/{question['id']}/posts"

    def ids(query=""):
        return [p["id"] for p in list_all(member, url + query, limit=1)]  # pages of one: cursors

    assert ids() == [first["id"], second["id"], third_post["id"], fourth["id"]]  # ties: by time
    for caller in (member, other):
        _vote(caller, third_post["id"], 1)
    _vote(member, fourth["id"], 1)
    _vote(member, first["id"], -1)
    assert ids() == [third_post["id"], fourth["id"], second["id"], first["id"]]
    assert member.post(f"{API}/posts/{first['id']}/accept").status_code == 200
    assert ids() == [first["id"], third_post["id"], fourth["id"], second["id"]]
    assert ids("?sort=votes") == ids()
    assert ids("?sort=time") == [first["id"], second["id"], third_post["id"], fourth["id"]]
    assert member.get(f"{url}?sort=score").status_code == 422


def test_discussions_keep_time_order_by_default(space):
    member, other, third = space["member"], space["other"], space["third"]
    thread = make_thread(member, "space", "discussion")
    first, second = make_post(other, thread["id"]), make_post(third, thread["id"])
    _vote(member, second["id"], 1)
    url = f"{API}/threads/{thread['id']}/posts"
    assert [p["id"] for p in list_all(member, url)] == [first["id"], second["id"]]
    assert [p["id"] for p in list_all(member, url + "?sort=votes")] == [second["id"], first["id"]]


def test_a_post_vote_writes_no_search_outbox_row(app, space):
    """Post vote counts are not part of the search documents: no reindex work for a vote."""
    member, other = space["member"], space["other"]
    thread = make_thread(member, "space", "question")
    answer = make_post(other, thread["id"])

    def outbox_and_version():
        with app.app_context():
            rows = db.session.scalar(select(func.count()).select_from(OutboxRow))
            version = db.session.get(Thread, thread["id"]).version
            db.session.remove()
        return rows, version

    before = outbox_and_version()
    _vote(member, answer["id"], 1)
    member.delete(f"{API}/posts/{answer['id']}/vote")
    assert outbox_and_version() == before
    # An edit of the post still does write one (the guard is for vote counts only).
    other.patch(f"{API}/posts/{answer['id']}", json={"body": "edited"})
    rows, version = outbox_and_version()
    assert rows == before[0] + 1 and version == before[1] + 1
