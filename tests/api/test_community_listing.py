"""GET /communities reads its page in one statement and builds its payloads directly: every item
equals what marshmallow dumps of the same community read the other way (GET /communities/{slug}:
ORM community, audiences, allow-list, member counts and the caller's membership), field for
field, for members, staff, outsiders, partners and admins."""
import marshmallow
import pytest

from collab.communities import service
from collab.communities.schemas import CommunityOut
from collab.db import db
from collab.people.models import User
from tests.api.content import API, join, promote
from tests.api.test_read_paths import statements
from tests.factories import set_membership


def _marshmallow_dump(view) -> dict:
    return marshmallow.Schema.dump(CommunityOut(), view)


@pytest.fixture
def spaces(app, make_user, make_community):
    owner, moderator, member = make_user("olga"), make_user("mo"), make_user("mia")
    partner = make_user("pat", audience="partner", organization="Acme, Inc.")
    outsider = make_user("otto")
    admin = make_user("root", is_admin=True)
    make_community(owner, "forum", audiences=["partner", "employee"],
                   organizations=["Zeta, Ltd.", "Acme, Inc."], description="About the forum.")
    make_community(owner, "lounge", visibility="restricted")
    make_community(owner, "board", visibility="private")
    make_community(owner, "empty-allow-list", audiences=["employee", "customer"])
    promote(owner, moderator, "forum")
    promote(owner, moderator, "lounge")
    join(member, "forum")
    join(partner, "forum")
    assert outsider.post(f"{API}/communities/lounge/members", json={}).get_json()["status"] == \
        "pending"
    set_membership(app, "board", member.id, "invited")
    set_membership(app, "lounge", make_user("bob").id, "banned")
    return {"owner": owner, "moderator": moderator, "member": member, "partner": partner,
            "outsider": outsider, "admin": admin}


@pytest.mark.parametrize("who", ["owner", "moderator", "member", "partner", "outsider", "admin"])
def test_listing_equals_the_community_read_the_other_way(app, spaces, who):
    caller = spaces[who]
    with app.app_context():
        viewer = db.session.get(User, caller.id)
        page = service.list_communities(viewer, {"limit": 100, "cursor": None})
        assert page.items, "every caller sees at least one community here"
        for listing in page.items:
            fast = CommunityOut().dump(listing)
            other = _marshmallow_dump(service.get_community(viewer, listing.slug))
            assert fast == other
            assert list(fast) == list(other)
            assert fast == _marshmallow_dump(listing)  # marshmallow's dump of the listing itself
        slugs = [listing.slug for listing in page.items]
        db.session.remove()
    assert slugs == sorted(slugs, key=lambda slug: {"board": "Board", "empty-allow-list":
                                                    "Empty Allow List", "forum": "Forum",
                                                    "lounge": "Lounge"}[slug])
    # What the comparison covers really differs between callers.
    body = {c["slug"]: c for c in caller.get(f"{API}/communities").get_json()["items"]}
    if who == "partner":
        assert set(body) == {"forum"}
        assert body["forum"]["organizations"] == ["Acme, Inc.", "Zeta, Ltd."]
        assert body["forum"]["audiences"] == ["employee", "partner"]
        assert body["forum"]["pending_requests"] is None
    if who == "moderator":
        assert body["lounge"]["pending_requests"] == 1 and body["lounge"]["member_count"] == 2
        assert body["lounge"]["my_membership"] == {"role": "moderator", "status": "active"}
    if who == "outsider":
        assert body["lounge"]["my_membership"] == {"role": "member", "status": "pending"}
        assert "board" not in body


def test_list_page_is_one_statement_after_authentication(app, spaces):
    member = spaces["member"]
    member.get(f"{API}/communities")
    with statements(app) as seen:
        first = member.get(f"{API}/communities?limit=2").get_json()
    assert len(seen) == 2, seen  # the token, then the page with everything it shows
    with statements(app) as seen:
        rest = member.get(f"{API}/communities?limit=2&cursor={first['next_cursor']}").get_json()
    assert len(seen) == 2, seen
    assert [c["slug"] for c in first["items"] + rest["items"]] == \
        ["empty-allow-list", "forum", "lounge"]


@pytest.mark.parametrize("who", ["owner", "partner", "admin"])
def test_page_envelope_dumps_as_marshmallow_does(app, spaces, who):
    """collab.schemas.direct_page: GET /communities' envelope, dumped directly, equals
    marshmallow's dump of the same page (a first page with a cursor, and the last one)."""
    from collab.communities.api import CommunityPage

    with app.app_context():
        viewer = db.session.get(User, spaces[who].id)
        first = service.list_communities(viewer, {"limit": 1, "cursor": None})
        pages = [first, service.list_communities(viewer, {"limit": 100, "cursor": None})]
        for page in pages:
            fast = CommunityPage().dump(page)
            assert fast == marshmallow.Schema.dump(CommunityPage(), page)
            assert list(fast) == ["items", "next_cursor"]
        assert (pages[0].next_cursor is not None) == (len(pages[1].items) > 1)
        assert pages[1].next_cursor is None
        assert len(CommunityPage().dump(pages[1])["items"]) == len(pages[1].items) >= 1
        db.session.remove()
