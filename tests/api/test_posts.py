"""Posts: replying, threading, editing, deleting, paging, and accepted answers."""
import pytest

from tests.api.content import API, get_thread, join, list_all, make_post, make_thread, promote


@pytest.fixture
def space(make_user, make_community):
    owner, moderator, member, other = (make_user("olga"), make_user("mo"), make_user("mia"),
                                       make_user("otto"))
    make_community(owner, "space")
    promote(owner, moderator, "space")
    join(member, "space")
    join(other, "space")
    return {"owner": owner, "moderator": moderator, "member": member, "other": other}


def test_reply_payload_and_thread_counters(space):
    member, other = space["member"], space["other"]
    thread = make_thread(member, "space")
    post = make_post(other, thread["id"], body="*yes*")
    assert set(post) == {"id", "thread_id", "parent_id", "author", "body", "created_at",
                         "updated_at", "accepted", "score", "upvotes", "downvotes", "my_vote"}
    assert post["thread_id"] == thread["id"] and post["parent_id"] is None
    assert post["author"]["id"] == other.id and post["body"] == "*yes*"
    assert post["accepted"] is False
    after = get_thread(member, thread["id"])
    assert after["reply_count"] == 1
    assert after["last_activity_at"] == post["created_at"]
    assert after["trending_score"] > thread["trending_score"]
    assert after["updated_at"] == thread["updated_at"]


def test_nested_reply_must_be_in_the_same_thread(space):
    member = space["member"]
    thread, elsewhere = make_thread(member, "space"), make_thread(member, "space")
    parent = make_post(member, thread["id"])
    child = make_post(space["other"], thread["id"], parent_id=parent["id"])
    assert child["parent_id"] == parent["id"]
    foreign = make_post(member, elsewhere["id"])
    for parent_id in (foreign["id"], 999999):
        response = member.post(f"{API}/threads/{thread['id']}/posts",
                               json={"body": "x", "parent_id": parent_id})
        assert response.status_code == 422
        assert "parent_id" in response.get_json()["errors"]
    assert get_thread(member, thread["id"])["reply_count"] == 2


@pytest.mark.parametrize("payload, field", [
    ({}, "body"), ({"body": ""}, "body"), ({"body": 7}, "body"),
    ({"body": "x", "parent_id": "first"}, "parent_id"), ({"body": "x", "colour": "red"}, "colour"),
])
def test_post_validation_errors_name_the_field(space, payload, field):
    thread = make_thread(space["member"], "space")
    response = space["member"].post(f"{API}/threads/{thread['id']}/posts", json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert get_thread(space["member"], thread["id"])["reply_count"] == 0


def test_post_malformed_json_is_400(space):
    thread = make_thread(space["member"], "space")
    response = space["member"].post(f"{API}/threads/{thread['id']}/posts", data="[",
                                    content_type="application/json")
    assert response.status_code == 400


def test_posts_list_oldest_first_across_pages(space):
    member = space["member"]
    thread = make_thread(member, "space")
    posts = [make_post(member, thread["id"], body=f"p{i}") for i in range(5)]
    url = f"{API}/threads/{thread['id']}/posts"
    first = member.get(f"{url}?limit=2").get_json()
    assert [p["body"] for p in first["items"]] == ["p0", "p1"]
    late = make_post(member, thread["id"], body="p5")  # arrives while the reader pages
    second = member.get(f"{url}?limit=2&cursor={first['next_cursor']}").get_json()
    assert [p["body"] for p in second["items"]] == ["p2", "p3"]
    assert [p["id"] for p in list_all(member, url, limit=2)] == [p["id"] for p in posts + [late]]


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=x", "limit"),
                                          ("cursor=xyz", "cursor")])
def test_bad_post_list_arguments_are_422(space, query, field):
    thread = make_thread(space["member"], "space")
    response = space["member"].get(f"{API}/threads/{thread['id']}/posts?{query}")
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_non_member_may_read_but_not_reply(space, make_user):
    thread = make_thread(space["member"], "space")
    make_post(space["member"], thread["id"])
    stranger = make_user("stan")
    assert stranger.post(f"{API}/threads/{thread['id']}/posts", json={"body": "x"}).status_code == 403
    assert len(list_all(stranger, f"{API}/threads/{thread['id']}/posts")) == 1


def test_archived_community_refuses_replies(space):
    thread = make_thread(space["member"], "space")
    post = make_post(space["member"], thread["id"])
    space["owner"].patch(f"{API}/communities/space", json={"archived": True})
    for caller in (space["member"], space["moderator"]):
        assert caller.post(f"{API}/threads/{thread['id']}/posts", json={"body": "x"}).status_code == 403
        assert caller.patch(f"{API}/posts/{post['id']}", json={"body": "x"}).status_code == 403
        assert caller.delete(f"{API}/posts/{post['id']}").status_code == 403


def test_edit_by_author_or_moderator(space):
    member, other, moderator = space["member"], space["other"], space["moderator"]
    thread = make_thread(member, "space")
    post = make_post(member, thread["id"])
    response = member.patch(f"{API}/posts/{post['id']}", json={"body": "edited"})
    assert response.status_code == 200
    assert response.get_json()["body"] == "edited"
    assert response.get_json()["updated_at"] > post["updated_at"]
    assert other.patch(f"{API}/posts/{post['id']}", json={"body": "mine"}).status_code == 403
    assert moderator.patch(f"{API}/posts/{post['id']}", json={"body": "tidied"}).status_code == 200
    for payload, field in (({}, "body"), ({"body": ""}, "body"), ({"body": "x", "pin": 1}, "pin")):
        response = member.patch(f"{API}/posts/{post['id']}", json=payload)
        assert response.status_code == 422 and field in response.get_json()["errors"]
    assert list_all(member, f"{API}/threads/{thread['id']}/posts")[0]["body"] == "tidied"


def test_soft_delete_hides_the_post_and_counts_down(space):
    member, other, moderator = space["member"], space["other"], space["moderator"]
    thread = make_thread(member, "space")
    first, second = make_post(member, thread["id"]), make_post(other, thread["id"])
    assert other.delete(f"{API}/posts/{first['id']}").status_code == 403
    assert member.delete(f"{API}/posts/{first['id']}").status_code == 204
    assert moderator.delete(f"{API}/posts/{second['id']}").status_code == 204
    assert list_all(member, f"{API}/threads/{thread['id']}/posts") == []
    assert get_thread(member, thread["id"])["reply_count"] == 0
    for caller in (member, moderator):
        assert caller.patch(f"{API}/posts/{first['id']}", json={"body": "x"}).status_code == 404
        assert caller.delete(f"{API}/posts/{first['id']}").status_code == 404
        assert caller.post(f"{API}/posts/{first['id']}/accept").status_code == 404


def test_posts_in_hidden_communities_are_404(make_user, make_community):
    owner, stranger = make_user("olga"), make_user("stan")
    make_community(owner, "secret", visibility="private")
    thread = make_thread(owner, "secret", "question")
    post = make_post(owner, thread["id"])
    assert stranger.patch(f"{API}/posts/{post['id']}", json={"body": "x"}).status_code == 404
    assert stranger.delete(f"{API}/posts/{post['id']}").status_code == 404
    assert stranger.post(f"{API}/posts/{post['id']}/accept").status_code == 404


def test_accepting_an_answer(space):
    member, other, moderator = space["member"], space["other"], space["moderator"]
    question = make_thread(member, "space", "question")
    first, second = make_post(other, question["id"]), make_post(moderator, question["id"])
    assert other.post(f"{API}/posts/{first['id']}/accept").status_code == 403
    response = member.post(f"{API}/posts/{first['id']}/accept")
    assert response.status_code == 200 and response.get_json()["accepted"] is True
    thread = get_thread(member, question["id"])
    assert thread["status"] == "answered" and thread["accepted_post_id"] == first["id"]
    # Accepting another one switches; a moderator may do it too.
    assert moderator.post(f"{API}/posts/{second['id']}/accept").status_code == 200
    posts = list_all(member, f"{API}/threads/{question['id']}/posts?sort=time")
    assert [p["accepted"] for p in posts] == [False, True]
    posts = list_all(member, f"{API}/threads/{question['id']}/posts")  # answers: accepted first
    assert [p["id"] for p in posts] == [second["id"], first["id"]]
    assert get_thread(member, question["id"])["accepted_post_id"] == second["id"]
    # Deleting the accepted answer reopens the question.
    assert moderator.delete(f"{API}/posts/{second['id']}").status_code == 204
    thread = get_thread(member, question["id"])
    assert thread["status"] == "open" and thread["accepted_post_id"] is None


def test_accepting_on_a_non_question_is_409(space):
    member = space["member"]
    for kind in ("discussion", "idea"):
        thread = make_thread(member, "space", kind)
        post = make_post(member, thread["id"])
        assert member.post(f"{API}/posts/{post['id']}/accept").status_code == 409
        assert get_thread(member, thread["id"])["accepted_post_id"] is None


def test_locked_question_refuses_the_authors_accept(space):
    member, moderator = space["member"], space["moderator"]
    question = make_thread(member, "space", "question")
    post = make_post(space["other"], question["id"])
    moderator.patch(f"{API}/threads/{question['id']}", json={"locked": True})
    assert member.post(f"{API}/posts/{post['id']}/accept").status_code == 403
    assert space["other"].patch(f"{API}/posts/{post['id']}", json={"body": "x"}).status_code == 403
    assert moderator.post(f"{API}/posts/{post['id']}/accept").status_code == 200
