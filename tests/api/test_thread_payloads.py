"""Thread payloads built directly (ThreadOut.dump's fast path) equal marshmallow's own dump of
the same schema, field for field, for every kind of thread a read returns."""
from types import SimpleNamespace

import marshmallow

from collab.db import db
from collab.ideas import service as ideas
from collab.people.models import User
from collab.threads import service
from collab.threads.api import ThreadPage
from collab.threads.models import Thread
from collab.threads.schemas import (
    PostOut,
    StatusChangeOut,
    ThreadDetailOut,
    ThreadOut,
    VotesOut,
)
from tests.api.content import API, join, make_post, make_thread, promote, vote


def _marshmallow_dump(schema, view) -> dict:
    return marshmallow.Schema.dump(schema, view)


def test_fast_thread_payloads_equal_marshmallows(app, make_user, make_community):
    owner, moderator = make_user("olga"), make_user("mo")
    partner = make_user("pat", audience="partner", organization="acme")
    make_community(owner, "forum", audiences=["employee", "partner"])
    promote(owner, moderator, "forum")
    join(partner, "forum")
    idea = make_thread(partner, "forum", "idea", tags=["zeta", "alpha"])
    vote(owner, idea["id"], 1)
    vote(partner, idea["id"], -1)
    assert moderator.post(f"{API}/threads/{idea['id']}/status",
                          json={"status": "planned", "note": "Soon."}).status_code == 201
    question = make_thread(owner, "forum", "question")
    answer = make_post(partner, question["id"], "Like this.")
    assert owner.post(f"{API}/posts/{answer['id']}/accept").status_code == 200
    assert owner.post(f"{API}/posts/{answer['id']}/verify").status_code == 200
    pinned = make_thread(moderator, "forum", "announcement")
    assert moderator.patch(f"{API}/threads/{pinned['id']}",
                           json={"pinned": True, "locked": True}).status_code == 200
    plain = make_thread(partner, "forum", "discussion")
    leaver, admin = make_user("lea"), make_user("root", is_admin=True)
    join(leaver, "forum")
    left = make_thread(leaver, "forum", "discussion")
    assert admin.post(f"{API}/users/{leaver.id}/deactivate").status_code == 200

    with app.app_context():
        viewer = db.session.get(User, partner.id)
        ids = [idea["id"], question["id"], pinned["id"], plain["id"], left["id"]]
        details = [service.get_thread(viewer, thread_id) for thread_id in ids]
        page = service.list_threads(viewer, "forum", {"sort": "new", "limit": 20, "cursor": None})
        checked = 0
        for view in details:
            fast = ThreadDetailOut().dump(view)
            assert fast == _marshmallow_dump(ThreadDetailOut(), view)
            assert list(fast) == list(_marshmallow_dump(ThreadDetailOut(), view))
            checked += 1
        for view in page.items:
            assert ThreadOut().dump(view) == _marshmallow_dump(ThreadOut(), view)
            checked += 1
        by_id = {view.id: ThreadDetailOut().dump(view) for view in details}
        # GET /threads/{id} reads an idea's history as columns: as the ORM's status_history.
        assert by_id[idea["id"]]["status_history"] == StatusChangeOut(many=True).dump(
            service.status_history(db.session.get(Thread, idea["id"])))
        # The page envelope, dumped directly (collab.schemas.direct_page): a first page with a
        # cursor, and a last one.
        pages = [service.list_threads(viewer, "forum", {"sort": sort, "limit": limit,
                                                         "cursor": None})
                 for sort, limit in (("top", 2), ("new", 20))]
        assert pages[0].next_cursor is not None and pages[1].next_cursor is None
        for listed in pages:
            fast = ThreadPage().dump(listed)
            assert fast == marshmallow.Schema.dump(ThreadPage(), listed)
            assert list(fast) == ["items", "next_cursor"] and fast["items"]
        db.session.remove()
    assert checked == 10
    # The payloads really carry what the comparison covers.
    assert by_id[idea["id"]]["status_history"][0]["to_status"] == "planned"
    assert by_id[idea["id"]]["my_vote"] == -1 and by_id[idea["id"]]["tags"] == ["alpha", "zeta"]
    assert by_id[question["id"]]["answer_freshness"]["state"] == "fresh"
    assert by_id[pinned["id"]]["pinned"] is True and by_id[pinned["id"]]["locked"] is True
    assert by_id[left["id"]]["author"]["display_name"] == "Deactivated user"
    assert by_id[idea["id"]]["author"]["organization"] == "acme"


def test_other_objects_keep_marshmallows_dump():
    """Anything but a ThreadView goes through marshmallow unchanged (absent attributes omitted)."""
    bare = SimpleNamespace(id=5, title="A", tags=["x"], pinned=False, accepted_post_id=None)
    assert ThreadOut().dump(bare) == {"id": 5, "title": "A", "tags": ["x"], "pinned": False,
                                      "accepted_post_id": None, "answer_freshness": None}


def test_fast_post_payloads_equal_marshmallows(app, make_user, make_community):
    """PostOut's direct dump equals marshmallow's for a new reply (what POST .../posts answers),
    replies read back (votes, parent, accepted answer, a deactivated author's), and the HTTP
    answers carry exactly that."""
    owner, member = make_user("olga"), make_user("pat", audience="partner", organization="acme")
    make_community(owner, "forum", audiences=["employee", "partner"])
    join(member, "forum")
    question = make_thread(owner, "forum", "question")
    answer = make_post(member, question["id"], "Like this.")
    nested = make_post(owner, question["id"], "Thanks.", parent_id=answer["id"])
    assert owner.post(f"{API}/posts/{answer['id']}/accept").status_code == 200
    assert owner.put(f"{API}/posts/{answer['id']}/vote", json={"value": 1}).status_code == 200
    leaver, admin = make_user("lea"), make_user("root", is_admin=True)
    join(leaver, "forum")
    left = make_post(leaver, question["id"], "Bye.")
    assert admin.post(f"{API}/users/{leaver.id}/deactivate").status_code == 200

    with app.app_context():
        viewer = db.session.get(User, owner.id)
        created = service.create_post(viewer, question["id"], {"body": "One more.",
                                                               "parent_id": answer["id"]})
        views = [created] + [service.get_post(viewer, post["id"])
                             for post in (answer, nested, left)]
        views += service.list_posts(viewer, question["id"], {"limit": 20, "cursor": None}).items
        dumps = []
        for view in views:
            fast = PostOut().dump(view)
            assert fast == _marshmallow_dump(PostOut(), view)
            assert list(fast) == list(_marshmallow_dump(PostOut(), view))
            dumps.append(fast)
        db.session.remove()
    assert len(dumps) == 8
    by_id = {dump["id"]: dump for dump in dumps}
    assert by_id[answer["id"]]["accepted"] is True and by_id[answer["id"]]["upvotes"] == 1
    assert by_id[answer["id"]]["my_vote"] == 1 and by_id[answer["id"]]["score"] == 1
    assert by_id[nested["id"]]["parent_id"] == answer["id"]
    assert by_id[left["id"]]["author"]["display_name"] == "Deactivated user"
    assert dumps[0]["parent_id"] == answer["id"] and dumps[0]["accepted"] is False
    # Over HTTP: a new reply's answer is the marshmallow dump of the same post read back.
    response = member.post(f"{API}/threads/{question['id']}/posts", json={"body": "Over HTTP."})
    assert response.status_code == 201
    with app.app_context():
        viewer = db.session.get(User, member.id)
        read_back = marshmallow.Schema.dump(PostOut(), service.get_post(viewer,
                                                                        response.json["id"]))
        db.session.remove()
    assert response.json == read_back and response.json["author"]["organization"] == "acme"


def test_other_objects_keep_marshmallows_post_dump():
    """Anything but a PostView goes through marshmallow unchanged."""
    bare = SimpleNamespace(id=5, body="A", accepted=True)
    assert PostOut().dump(bare) == {"id": 5, "body": "A", "accepted": True}


def test_fast_vote_payloads_equal_marshmallows(app, make_user, make_community):
    """VotesOut's direct dump equals marshmallow's for what a vote and a withdrawal answer, and
    PUT .../vote answers the marshmallow dump of the idea read back."""
    owner, member = make_user("olga"), make_user("pat", audience="partner", organization="acme")
    make_community(owner, "forum", audiences=["employee", "partner"])
    join(member, "forum")
    idea = make_thread(owner, "forum", "idea")
    vote(member, idea["id"], -1)
    with app.app_context():
        viewer = db.session.get(User, owner.id)
        dumps = []
        for write in (lambda: ideas.vote(viewer, idea["id"], 1),
                      lambda: ideas.withdraw_vote(viewer, idea["id"]),
                      lambda: ideas.vote(viewer, idea["id"], 1),
                      lambda: service.get_thread(viewer, idea["id"])):
            view = write()  # dumped at once: the views of one session share the thread
            fast = VotesOut().dump(view)
            assert fast == _marshmallow_dump(VotesOut(), view)
            assert list(fast) == list(_marshmallow_dump(VotesOut(), view))
            dumps.append(fast)
        db.session.remove()
    assert dumps[0]["upvotes"] == 1 and dumps[0]["downvotes"] == 1 and dumps[0]["my_vote"] == 1
    assert dumps[1]["my_vote"] is None and dumps[1]["score"] == -1
    assert dumps[0]["votes_by_audience"]["partner"] == {"up": 0, "down": 1}
    assert dumps[0]["thread_id"] == idea["id"] and isinstance(dumps[0]["top_score"], float)
    response = member.put(f"{API}/threads/{idea['id']}/vote", json={"value": 1})
    assert response.status_code == 200
    with app.app_context():
        viewer = db.session.get(User, member.id)
        read_back = marshmallow.Schema.dump(VotesOut(), service.get_thread(viewer, idea["id"]))
        db.session.remove()
    assert response.json == read_back and response.json["upvotes"] == 2
    bare = SimpleNamespace(id=5, upvotes=1)
    assert VotesOut().dump(bare) == {"thread_id": 5, "upvotes": 1}
