"""Threads: creating, reading, editing, moderating, deleting, listing and sorting."""
import pytest
from sqlalchemy import event

from collab.db import db
from tests.api.content import API, get_thread, join, list_all, make_post, make_thread, promote


@pytest.fixture
def space(make_user, make_community):
    """An open community with an owner, a moderator, a member and an outsider who did not join."""
    owner, moderator, member, outsider = (make_user("olga"), make_user("mo"), make_user("mia"),
                                          make_user("otto"))
    make_community(owner, "space")
    promote(owner, moderator, "space")
    join(member, "space")
    return {"owner": owner, "moderator": moderator, "member": member, "outsider": outsider}


THREAD_FIELDS = {"id", "community", "community_id", "kind", "title", "body", "tags", "status",
                 "pinned", "locked", "author", "created_at", "updated_at", "last_activity_at",
                 "reply_count", "accepted_post_id", "merged_into", "score", "upvotes", "downvotes",
                 "my_vote", "votes_by_audience", "top_score", "trending_score"}


def test_create_thread_returns_the_full_payload(space):
    member = space["member"]
    thread = make_thread(member, "space", "discussion", title="  Hello  ", body="# Hi\n\ntext",
                         tags=[" Python ", "python", "C++", "c#", "a.b_c-d"])
    assert THREAD_FIELDS <= set(thread)
    assert thread["community"] == "space" and thread["kind"] == "discussion"
    assert thread["title"] == "Hello" and thread["body"] == "# Hi\n\ntext"
    assert thread["tags"] == ["a.b_c-d", "c#", "c++", "python"]
    assert thread["status"] == "open" and not thread["pinned"] and not thread["locked"]
    assert thread["author"]["id"] == member.id and thread["author"]["handle"] == "mia"
    assert thread["reply_count"] == 0 and thread["accepted_post_id"] is None
    assert thread["merged_into"] is None and thread["my_vote"] is None
    assert (thread["score"], thread["upvotes"], thread["downvotes"]) == (0, 0, 0)
    assert thread["votes_by_audience"] == {a: {"up": 0, "down": 0}
                                           for a in ("employee", "partner", "customer")}
    assert thread["status_history"] == []
    assert thread["created_at"] == thread["last_activity_at"]
    assert get_thread(member, thread["id"]) == thread


@pytest.mark.parametrize("kind, status", [
    ("discussion", "open"), ("question", "open"), ("idea", "new"), ("announcement", "open")])
def test_initial_status_by_kind(space, kind, status):
    assert make_thread(space["owner"], "space", kind)["status"] == status


def test_announcements_by_owners_and_moderators_only(space):
    response = space["member"].post(f"{API}/communities/space/threads",
                                    json={"kind": "announcement", "title": "Hear", "body": "ye"})
    assert response.status_code == 403
    assert make_thread(space["moderator"], "space", "announcement")["kind"] == "announcement"


VALID = {"kind": "idea", "title": "T", "body": "B"}


@pytest.mark.parametrize("change, field", [
    ({"kind": None}, "kind"),
    ({"kind": "rant"}, "kind"),
    ({"title": None}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": 5}, "title"),
    ({"body": None}, "body"),
    ({"body": ""}, "body"),
    ({"tags": "python"}, "tags"),
    ({"tags": [f"t{i}" for i in range(11)]}, "tags"),
    ({"tags": ["has space"]}, "tags"),
    ({"tags": ["x" * 41]}, "tags"),
    ({"tags": [""]}, "tags"),
    ({"tags": ["émoji"]}, "tags"),
    ({"colour": "red"}, "colour"),
])
def test_create_validation_errors_name_the_field(space, change, field):
    payload = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    response = space["member"].post(f"{API}/communities/space/threads", json=payload)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert list_all(space["member"], f"{API}/communities/space/threads") == []


def test_eleven_tags_that_dedupe_to_ten_are_fine(space):
    tags = [f"t{i}" for i in range(10)] + ["T0"]
    assert len(make_thread(space["member"], "space", tags=tags)["tags"]) == 10


def test_malformed_json_is_400(space):
    response = space["member"].post(f"{API}/communities/space/threads", data="{nope",
                                    content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_non_member_cannot_post_but_can_read_an_open_community(space):
    thread = make_thread(space["member"], "space")
    outsider = space["outsider"]
    response = outsider.post(f"{API}/communities/space/threads", json=VALID)
    assert response.status_code == 403
    assert get_thread(outsider, thread["id"])["title"] == thread["title"]
    assert [t["id"] for t in list_all(outsider, f"{API}/communities/space/threads")] == [thread["id"]]


def test_archived_community_is_read_only(space):
    thread = make_thread(space["member"], "space")
    assert space["owner"].patch(f"{API}/communities/space", json={"archived": True}).status_code == 200
    for caller in (space["member"], space["owner"]):
        assert caller.post(f"{API}/communities/space/threads", json=VALID).status_code == 403
        assert caller.patch(f"{API}/threads/{thread['id']}", json={"title": "New"}).status_code == 403
        assert caller.delete(f"{API}/threads/{thread['id']}").status_code == 403
    assert get_thread(space["member"], thread["id"])["title"] == thread["title"]


def test_hidden_threads_are_404_not_403(make_user, make_community):
    owner = make_user("olga")
    stranger = make_user("stan")
    acme = make_user("pat", audience="partner", organization="acme")
    globex = make_user("gil", audience="partner", organization="globex")
    make_community(owner, "secret", visibility="private")
    make_community(owner, "acme-space", audiences=["employee", "partner"], organizations=["acme"])
    secret = make_thread(owner, "secret", "idea")
    partner_thread = make_thread(owner, "acme-space", "question")
    assert get_thread(acme, partner_thread["id"])["id"] == partner_thread["id"]
    for caller, slug, thread in ((stranger, "secret", secret), (globex, "acme-space", partner_thread)):
        tid = thread["id"]
        responses = [
            caller.get(f"{API}/communities/{slug}/threads"),
            caller.post(f"{API}/communities/{slug}/threads", json=VALID),
            caller.get(f"{API}/threads/{tid}"),
            caller.patch(f"{API}/threads/{tid}", json={"title": "x"}),
            caller.delete(f"{API}/threads/{tid}"),
            caller.get(f"{API}/threads/{tid}/posts"),
            caller.post(f"{API}/threads/{tid}/posts", json={"body": "x"}),
            caller.put(f"{API}/threads/{tid}/vote", json={"value": 1}),
            caller.delete(f"{API}/threads/{tid}/vote"),
            caller.get(f"{API}/threads/{tid}/status"),
            caller.post(f"{API}/threads/{tid}/status", json={"status": "planned"}),
            caller.post(f"{API}/threads/{tid}/merge", json={"into": tid}),
        ]
        assert [r.status_code for r in responses] == [404] * len(responses)
        nonexistent = caller.get(f"{API}/threads/999999").get_json()
        assert responses[2].get_json()["title"] == nonexistent["title"]


def test_author_edits_others_may_not(space):
    member, other = space["member"], space["outsider"]
    join(other, "space")
    thread = make_thread(member, "space", tags=["a"])
    response = member.patch(f"{API}/threads/{thread['id']}",
                            json={"title": "Better", "body": "More", "tags": ["B", "c"]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["title"], body["body"], body["tags"]) == ("Better", "More", ["b", "c"])
    assert body["updated_at"] > thread["updated_at"]
    assert other.patch(f"{API}/threads/{thread['id']}", json={"title": "Mine"}).status_code == 403
    assert space["moderator"].patch(f"{API}/threads/{thread['id']}",
                                    json={"title": "Moderated"}).status_code == 200
    assert get_thread(other, thread["id"])["title"] == "Moderated"


@pytest.mark.parametrize("payload, field", [
    ({"title": ""}, "title"), ({"body": ""}, "body"), ({"tags": ["bad tag"]}, "tags"),
    ({"pinned": "sometimes"}, "pinned"), ({"locked": [1]}, "locked"), ({"kind": "idea"}, "kind"),
    ({"status": "done"}, "status"),
])
def test_update_validation_errors_name_the_field(space, payload, field):
    thread = make_thread(space["member"], "space")
    response = space["member"].patch(f"{API}/threads/{thread['id']}", json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_update_is_all_or_nothing(space):
    thread = make_thread(space["member"], "space")
    response = space["member"].patch(f"{API}/threads/{thread['id']}",
                                     json={"title": "Changed", "pinned": True})
    assert response.status_code == 403
    assert get_thread(space["member"], thread["id"])["title"] == thread["title"]


def test_pin_and_lock_are_for_moderators(space):
    member, moderator = space["member"], space["moderator"]
    thread = make_thread(member, "space")
    for field in ("pinned", "locked"):
        assert member.patch(f"{API}/threads/{thread['id']}", json={field: True}).status_code == 403
    body = moderator.patch(f"{API}/threads/{thread['id']}",
                           json={"pinned": True, "locked": True}).get_json()
    assert body["pinned"] is True and body["locked"] is True
    # Locked: the author may no longer edit, reply or delete; moderators still may.
    assert member.patch(f"{API}/threads/{thread['id']}", json={"title": "x"}).status_code == 403
    assert member.post(f"{API}/threads/{thread['id']}/posts", json={"body": "x"}).status_code == 403
    assert member.delete(f"{API}/threads/{thread['id']}").status_code == 403
    assert moderator.post(f"{API}/threads/{thread['id']}/posts", json={"body": "x"}).status_code == 201
    assert moderator.patch(f"{API}/threads/{thread['id']}", json={"locked": False}).status_code == 200
    assert member.post(f"{API}/threads/{thread['id']}/posts", json={"body": "y"}).status_code == 201


def test_soft_delete_hides_the_thread_from_everyone(space):
    member, moderator = space["member"], space["moderator"]
    thread = make_thread(member, "space")
    post = make_post(member, thread["id"])
    assert space["outsider"].delete(f"{API}/threads/{thread['id']}").status_code == 403
    assert member.delete(f"{API}/threads/{thread['id']}").status_code == 204
    for caller in (member, moderator, space["owner"]):
        assert caller.get(f"{API}/threads/{thread['id']}").status_code == 404
        assert caller.get(f"{API}/threads/{thread['id']}/posts").status_code == 404
        assert caller.patch(f"{API}/posts/{post['id']}", json={"body": "x"}).status_code == 404
        assert caller.delete(f"{API}/threads/{thread['id']}").status_code == 404
    assert list_all(member, f"{API}/communities/space/threads") == []


def test_moderator_deletes_any_thread(space):
    thread = make_thread(space["member"], "space")
    assert space["moderator"].delete(f"{API}/threads/{thread['id']}").status_code == 204
    assert space["member"].get(f"{API}/threads/{thread['id']}").status_code == 404


def test_list_filters(space):
    member, owner = space["member"], space["owner"]
    idea = make_thread(member, "space", "idea", tags=["ux"])
    question = make_thread(owner, "space", "question", tags=["ux", "api"])
    discussion = make_thread(member, "space", "discussion", tags=["api"])
    url = f"{API}/communities/space/threads"

    def ids(query):
        return [t["id"] for t in list_all(member, f"{url}?{query}")]

    assert ids("kind=idea") == [idea["id"]]
    assert ids("status=open") == [discussion["id"], question["id"]]
    assert ids("status=new") == [idea["id"]]
    assert ids("tag=UX") == [question["id"], idea["id"]]
    assert ids(f"author={member.id}") == [discussion["id"], idea["id"]]
    assert ids(f"author={owner.id}&tag=api") == [question["id"]]
    assert ids("kind=idea&status=open") == []


@pytest.mark.parametrize("query, field", [
    ("kind=rant", "kind"), ("status=closed", "status"), ("sort=random", "sort"),
    ("author=0", "author"), ("author=Bad%20Handle", "author"), ("tag=bad%20tag", "tag"), ("limit=0", "limit"),
    ("limit=101", "limit"), ("cursor=%%%", "cursor"), ("cursor=bm90LWpzb24", "cursor"),
])
def test_bad_list_arguments_are_422(space, query, field):
    make_thread(space["member"], "space")
    response = space["member"].get(f"{API}/communities/space/threads?{query}")
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_a_cursor_of_another_sort_width_is_422(space):
    for _ in range(3):
        make_thread(space["member"], "space")
    url = f"{API}/communities/space/threads"
    cursor = space["member"].get(f"{url}?sort=new&limit=1").get_json()["next_cursor"]
    response = space["member"].get(f"{url}?sort=top&cursor={cursor}")
    assert response.status_code == 422 and "cursor" in response.get_json()["errors"]


def test_new_sort_puts_pinned_first_then_newest(space):
    member, moderator = space["member"], space["moderator"]
    first, second, third = (make_thread(member, "space", title=t) for t in ("1", "2", "3"))
    moderator.patch(f"{API}/threads/{first['id']}", json={"pinned": True})
    listed = list_all(member, f"{API}/communities/space/threads?sort=new")
    assert [t["id"] for t in listed] == [first["id"], third["id"], second["id"]]


def test_active_sort_follows_the_latest_reply(space):
    member, moderator = space["member"], space["moderator"]
    first, second, third = (make_thread(member, "space", title=t) for t in ("1", "2", "3"))
    make_post(member, first["id"])
    url = f"{API}/communities/space/threads?sort=active"
    assert [t["id"] for t in list_all(member, url)] == [first["id"], third["id"], second["id"]]
    make_post(member, second["id"])
    moderator.patch(f"{API}/threads/{third['id']}", json={"pinned": True})
    assert [t["id"] for t in list_all(member, url)] == [third["id"], second["id"], first["id"]]


@pytest.mark.parametrize("sort", ["new", "active", "top", "trending"])
def test_pagination_has_no_duplicates_or_gaps_despite_inserts(space, sort):
    member, moderator = space["member"], space["moderator"]
    originals = [make_thread(member, "space", "idea", title=f"t{i}") for i in range(7)]
    moderator.patch(f"{API}/threads/{originals[3]['id']}", json={"pinned": True})
    for thread in originals[:3]:
        response = member.put(f"{API}/threads/{thread['id']}/vote", json={"value": 1})
        assert response.status_code == 200
    url = f"{API}/communities/space/threads?sort={sort}&limit=3"
    expected = [t["id"] for t in list_all(member, f"{API}/communities/space/threads?sort={sort}")]
    assert sorted(expected) == sorted(t["id"] for t in originals)

    seen, cursor = [], None
    while True:
        response = member.get(url + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200
        page = response.get_json()
        assert len(page["items"]) <= 3
        seen.extend(t["id"] for t in page["items"])
        make_thread(member, "space", "idea", title="inserted meanwhile")
        cursor = page["next_cursor"]
        if not cursor:
            break
    inserted_seen = [i for i in seen if i not in expected]
    assert [i for i in seen if i in expected] == expected
    assert len(seen) == len(set(seen))
    # New threads sort before the cursor for new/active; never duplicate the originals.
    if sort in ("new", "active"):
        assert inserted_seen == []


def test_thread_page_reads_votes_with_a_fixed_number_of_queries(app, space):
    member = space["member"]
    for i in range(6):
        thread = make_thread(member, "space", "idea", title=f"t{i}")
        member.put(f"{API}/threads/{thread['id']}/vote", json={"value": 1})
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = member.get(f"{API}/communities/space/threads?limit=6").get_json()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert [t["my_vote"] for t in page["items"]] == [1] * 6
    assert all(t["votes_by_audience"]["employee"] == {"up": 1, "down": 0} for t in page["items"])
    vote_reads = [s for s in statements if "FROM votes" in s]
    assert len(vote_reads) == 1, vote_reads  # one grouped tally with the caller's votes


def test_openapi_documents_the_thread_paths_and_author_filter(anonymous):
    spec = anonymous.get(f"{API}/openapi.json").get_json()
    for path in ("/api/v1/communities/{slug}/threads", "/api/v1/threads/{thread_id}",
                 "/api/v1/threads/{thread_id}/posts", "/api/v1/posts/{post_id}",
                 "/api/v1/posts/{post_id}/accept", "/api/v1/threads/{thread_id}/vote",
                 "/api/v1/threads/{thread_id}/status", "/api/v1/threads/{thread_id}/merge"):
        assert path in spec["paths"]
    parameters = spec["paths"]["/api/v1/communities/{slug}/threads"]["get"]["parameters"]
    author = next(p for p in parameters if p["name"] == "author")
    assert "user id" in author["description"]
