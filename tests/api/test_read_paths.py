"""The read hot paths stay cheap: statements per request that do not grow with the page, and
the pinned-first orders (served by their own index) still paginate exactly."""
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from collab.db import db
from tests.api.content import API, join, list_all, make_post, make_thread, promote, vote

SORTS = ("new", "active", "top", "trending")


@contextmanager
def statements(app):
    """The SQL statements run while the block runs."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def forum(make_user, make_community):
    """An employee-and-partner community with an owner, a moderator and two voting members."""
    owner, moderator, member, partner = (make_user("olga"), make_user("mo"), make_user("mia"),
                                         make_user("pat", audience="partner", organization="acme"))
    make_community(owner, "forum", audiences=["employee", "partner"])
    promote(owner, moderator, "forum")
    join(member, "forum")
    join(partner, "forum")
    return {"owner": owner, "moderator": moderator, "member": member, "partner": partner}


def test_get_thread_reads_everything_in_one_statement_after_authentication(app, forum):
    member = forum["member"]
    thread = make_thread(member, "forum", "question", tags=["zeta", "alpha", "mid"])
    url = f"{API}/threads/{thread['id']}"
    with statements(app) as first:
        assert member.get(url).status_code == 200
    with statements(app) as again:
        body = member.get(url).get_json()
    # The first read of the hour notes it (one conditional UPDATE) and reloads nothing.
    assert len(first) == 3, first
    assert any(s.startswith("UPDATE threads") for s in first)
    # Then: the token, then the thread with its slug, author, tags, tallies and the caller's vote.
    assert len(again) == 2, again
    assert body["community"] == "forum" and body["tags"] == ["alpha", "mid", "zeta"]
    assert body["author"]["handle"] == "mia" and body["status_history"] == []


def test_get_idea_adds_only_its_status_history(app, forum):
    member, partner, moderator = forum["member"], forum["partner"], forum["moderator"]
    idea = make_thread(member, "forum", "idea", tags=["x"])
    vote(member, idea["id"], 1)
    vote(partner, idea["id"], -1)
    vote(moderator, idea["id"], 1)
    moderator.post(f"{API}/threads/{idea['id']}/status", json={"status": "planned", "note": ""})
    url = f"{API}/threads/{idea['id']}"
    member.get(url)
    with statements(app) as seen:
        body = member.get(url).get_json()
    assert len(seen) == 3, seen
    assert body["my_vote"] == 1 and (body["upvotes"], body["downvotes"]) == (2, 1)
    assert body["votes_by_audience"] == {"employee": {"up": 2, "down": 0},
                                         "partner": {"up": 0, "down": 1},
                                         "customer": {"up": 0, "down": 0}}
    assert [c["to_status"] for c in body["status_history"]] == ["planned"]
    assert partner.get(url).get_json()["my_vote"] == -1


def test_get_thread_decides_visibility_in_the_same_statement(app, make_user, make_community, forum):
    owner = forum["owner"]
    make_community(owner, "secret", visibility="private")
    hidden = make_thread(owner, "secret", "discussion")
    outsider = make_user("otto")
    with statements(app) as seen:
        response = outsider.get(f"{API}/threads/{hidden['id']}")
    assert response.status_code == 404
    assert len(seen) == 2, seen


@pytest.mark.parametrize("sort", SORTS)
def test_thread_list_statements_do_not_grow_with_the_page(app, forum, sort):
    member, partner = forum["member"], forum["partner"]
    for i in range(12):
        thread = make_thread(member, "forum", "idea", title=f"idea {i}", tags=[f"t{i}", "common"])
        vote(partner, thread["id"], 1 if i % 2 else -1)
        if i % 3 == 0:
            vote(member, thread["id"], 1)
    counts = {}
    for limit in (2, 12):
        with statements(app) as seen:
            page = member.get(f"{API}/communities/forum/threads?sort={sort}&limit={limit}").get_json()
        assert len(page["items"]) == limit
        counts[limit] = len(seen)
    # The token; the page with the community's visibility, authors, tags, tallies and my votes.
    assert counts == {2: 2, 12: 2}, counts
    by_id = {t["id"]: t for t in page["items"]}
    assert all(t["community"] == "forum" and "common" in t["tags"] for t in by_id.values())
    assert sum(t["my_vote"] == 1 for t in by_id.values()) == 4


def test_thread_list_of_a_hidden_or_unknown_community_is_404(app, make_user, make_community, forum):
    make_community(forum["owner"], "secret", visibility="private")
    make_thread(forum["owner"], "secret", "discussion")
    outsider = make_user("otto")
    for slug in ("secret", "nowhere"):
        response = outsider.get(f"{API}/communities/{slug}/threads")
        assert response.status_code == 404, response.get_json()
    assert forum["owner"].get(f"{API}/communities/secret/threads").get_json()["items"]


def test_pinned_first_orders_paginate_exactly(app, forum):
    member, moderator = forum["member"], forum["moderator"]
    threads = [make_thread(member, "forum", "discussion", title=f"thread {i}") for i in range(9)]
    for thread in threads[1::3]:  # pin three, spread over the creation order
        assert moderator.patch(f"{API}/threads/{thread['id']}",
                               json={"pinned": True}).status_code == 200
    for thread in (threads[0], threads[4], threads[7]):  # activity reorders `active`
        make_post(member, thread["id"])
    assert member.delete(f"{API}/threads/{threads[5]['id']}").status_code == 204
    expected = {}
    for sort, key in (("new", "created_at"), ("active", "last_activity_at")):
        every = list_all(member, f"{API}/communities/forum/threads?sort={sort}", limit=100)
        expected[sort] = [t["id"] for t in sorted(
            every, key=lambda t: (t["pinned"], t[key], t["id"]), reverse=True)]
        assert [t["id"] for t in every] == expected[sort]
        assert [t["pinned"] for t in every] == [True] * 3 + [False] * 5
    for sort in SORTS:
        for limit in (1, 2, 3):
            paged = list_all(member, f"{API}/communities/forum/threads?sort={sort}", limit=limit)
            ids = [t["id"] for t in paged]
            assert len(ids) == len(set(ids)) == 8, (sort, limit, ids)
            assert threads[5]["id"] not in ids
            if sort in expected:
                assert ids == expected[sort], (sort, limit)


def test_community_list_statements_do_not_grow_with_the_page(app, make_user, make_community, forum):
    owner, member = forum["owner"], forum["member"]
    for i in range(6):
        make_community(owner, f"group-{i}")
        if i % 2:
            join(member, f"group-{i}")
    counts = {}
    for limit in (2, 7):
        with statements(app) as seen:
            page = member.get(f"{API}/communities?limit={limit}").get_json()
        assert len(page["items"]) == limit
        counts[limit] = len(seen)
    # The token; then the page with its audiences, allow-lists, member counts and my memberships.
    assert counts == {2: 2, 7: 2}, counts
    body = member.get(f"{API}/communities?limit=100").get_json()["items"]
    by_slug = {c["slug"]: c for c in body}
    assert by_slug["forum"]["member_count"] == 4 and by_slug["group-1"]["member_count"] == 2
    assert by_slug["group-1"]["my_membership"] == {"role": "member", "status": "active"}
    assert by_slug["group-0"]["my_membership"] is None
    assert by_slug["forum"]["pending_requests"] is None
    staff = owner.get(f"{API}/communities?limit=100").get_json()["items"]
    assert {c["slug"]: c["pending_requests"] for c in staff}["forum"] == 0


def test_me_is_one_statement(app, forum):
    with statements(app) as seen:
        assert forum["member"].get(f"{API}/me").status_code == 200
    assert len(seen) == 1, seen


def test_json_responses_encode_as_flask_did(app, forum):
    """orjson writes what Flask's encoder wrote (keys sorted, compact); what it refuses falls back."""
    from datetime import UTC, datetime

    from flask.json.provider import DefaultJSONProvider

    flask_json = DefaultJSONProvider(app)
    payloads = [{"b": 1, "a": [1.5, None, True], "c": {"z": "x", "y": -3}},
                {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)},
                {"huge": 2**70, "ok": 1}]
    page = forum["member"].get(f"{API}/communities").get_json()
    with app.app_context():
        for payload in payloads + [page]:
            for layout in ({"separators": (",", ":")}, {"indent": 2}):
                assert app.json.dumps(payload, **layout) == flask_json.dumps(payload, **layout)


def test_get_thread_statement_shared_by_callers_of_one_shape_binds_each_caller(
        app, make_user, make_community):
    """GET /threads/{id} reuses one statement per kind of caller: who sees what still differs
    by the caller's own organization and memberships."""
    owner = make_user("olga")
    make_community(owner, "acme-only", audiences=["employee", "partner"], organizations=["acme"])
    make_community(owner, "private", visibility="private", audiences=["employee", "partner"])
    allow_listed = make_thread(owner, "acme-only", "discussion")
    private = make_thread(owner, "private", "discussion")
    acme, globex = (make_user("ann", audience="partner", organization="acme"),
                    make_user("gus", audience="partner", organization="globex"))
    member, outsider = make_user("mia"), make_user("otto")
    owner.post(f"{API}/communities/private/members", json={"user_id": member.id})
    join(member, "private")
    for _ in range(2):  # each order of callers, over the same cached statements
        assert acme.get(f"{API}/threads/{allow_listed['id']}").status_code == 200
        assert globex.get(f"{API}/threads/{allow_listed['id']}").status_code == 404
        assert outsider.get(f"{API}/threads/{private['id']}").status_code == 404
        assert member.get(f"{API}/threads/{private['id']}").status_code == 200
        assert globex.get(f"{API}/threads/{allow_listed['id']}").status_code == 404
        assert acme.get(f"{API}/threads/{allow_listed['id']}").status_code == 200


def test_thread_list_items_carry_what_the_thread_read_carries(app, forum):
    """A list page is read as plain rows in one statement: each item equals the thread's own
    payload (GET /threads/{id}, less its status history), verified answers, a deactivated
    author, votes of two audiences and tags included, through filters and cursors."""
    from collab import time
    from collab.people.models import User

    owner, moderator, member, partner = (forum[k] for k in ("owner", "moderator", "member",
                                                            "partner"))
    idea = make_thread(partner, "forum", "idea", tags=["zeta", "alpha"])
    vote(member, idea["id"], 1)
    vote(partner, idea["id"], -1)
    question = make_thread(owner, "forum", "question", tags=["db"])
    answer = make_post(member, question["id"], "Like this.")
    assert owner.post(f"{API}/posts/{answer['id']}/accept").status_code == 200
    assert moderator.post(f"{API}/posts/{answer['id']}/verify").status_code == 200
    pinned = make_thread(moderator, "forum", "announcement")
    assert moderator.patch(f"{API}/threads/{pinned['id']}", json={"pinned": True}).status_code == 200
    gone = make_thread(member, "forum", "discussion")
    with app.app_context():
        db.session.get(User, member.id).deactivated_at = time.now()
        db.session.commit()
    for sort in SORTS:
        for query in ("", "&kind=idea", "&tag=db", f"&author={owner.id}", "&author=mo",
                      "&status=answered"):
            items = list_all(partner, f"{API}/communities/forum/threads?sort={sort}{query}",
                             limit=1)
            for item in items:
                alone = partner.get(f"{API}/threads/{item['id']}").get_json()
                alone.pop("status_history")
                assert item == alone, (sort, query)
            if query == "":
                assert {t["id"] for t in items} == {idea["id"], question["id"], pinned["id"],
                                                    gone["id"]}
    page = {t["id"]: t for t in partner.get(f"{API}/communities/forum/threads").get_json()["items"]}
    assert page[question["id"]]["answer_freshness"]["verified_by"]["handle"] == "mo"
    assert page[idea["id"]]["votes_by_audience"]["partner"] == {"up": 0, "down": 1}
    assert page[idea["id"]]["my_vote"] == -1 and page[idea["id"]]["tags"] == ["alpha", "zeta"]
    assert page[gone["id"]]["author"]["display_name"] != "mia" and page[gone["id"]]["author"]["handle"] == "mia"
