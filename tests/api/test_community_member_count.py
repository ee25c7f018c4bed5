"""The stored active-member count of a community (communities.active_member_count, kept by the
database's triggers, migration 0024) equals a fresh COUNT of its active memberships after every
path that adds, removes or changes a membership: join, request, approve, reject, invite, accept,
decline, ban, unban, role changes, leave, remove, erasure of a user, deactivation, deletion of
a user or a community row, bulk inserts and updates; and GET /communities shows it."""
import pytest
from sqlalchemy import delete, func, insert, select, text, update

from collab.communities.models import Community, Membership
from collab.db import db
from collab.people.models import User
from tests.api.content import API, join, promote
from tests.factories import set_membership


def _counts(app) -> dict[str, tuple[int, int]]:
    """slug -> (stored count, fresh COUNT of active memberships), read in one go."""
    with app.app_context():
        fresh = (select(func.count()).where(Membership.community_id == Community.id,
                                            Membership.status == "active")
                 .correlate(Community).scalar_subquery())
        rows = db.session.execute(select(Community.slug, Community.active_member_count, fresh)
                                  .order_by(Community.slug)).all()
        db.session.remove()
    return {slug: (stored, counted) for slug, stored, counted in rows}


def _assert_exact(app, expected: dict[str, int] | None = None) -> None:
    counts = _counts(app)
    assert counts, "there are communities to check"
    for slug, (stored, counted) in counts.items():
        assert stored == counted, f"{slug}: stored {stored}, counted {counted}"
    if expected is not None:
        assert {slug: stored for slug, (stored, _) in counts.items()} == expected


def _listed(caller) -> dict[str, int]:
    body = caller.get(f"{API}/communities").get_json()
    return {item["slug"]: item["member_count"] for item in body["items"]}


@pytest.fixture
def people(make_user):
    names = ("olga", "mo", "mia", "max", "nina", "otto")
    people = {name: make_user(name) for name in names}
    people["root"] = make_user("root", is_admin=True)
    return people


def test_every_membership_path_keeps_the_count_exact(app, people, make_community):
    olga, mo, mia, mx, nina, otto, root = (people[n] for n in
                                            ("olga", "mo", "mia", "max", "nina", "otto", "root"))
    make_community(olga, "forum")
    make_community(olga, "lounge", visibility="restricted")
    make_community(olga, "board", visibility="private")
    _assert_exact(app, {"board": 1, "forum": 1, "lounge": 1})  # the owners

    join(mia, "forum")
    join(mx, "forum")
    _assert_exact(app, {"board": 1, "forum": 3, "lounge": 1})
    assert _listed(mia)["forum"] == 3

    # A request to join a restricted community is pending: not counted until approved.
    assert otto.post(f"{API}/communities/lounge/members", json={}).get_json()["status"] == \
        "pending"
    assert nina.post(f"{API}/communities/lounge/members", json={}).get_json()["status"] == \
        "pending"
    _assert_exact(app, {"board": 1, "forum": 3, "lounge": 1})
    approved = olga.patch(f"{API}/communities/lounge/members/{otto.id}",
                          json={"status": "active"})
    assert approved.status_code == 200, approved.get_json()
    _assert_exact(app, {"board": 1, "forum": 3, "lounge": 2})
    # Approving by inviting the requester (POST members with user_id) counts too.
    assert olga.post(f"{API}/communities/lounge/members",
                     json={"user_id": nina.id}).status_code == 200
    _assert_exact(app, {"board": 1, "forum": 3, "lounge": 3})
    # A rejected request is never counted.
    assert mia.post(f"{API}/communities/lounge/members", json={}).status_code == 201
    assert olga.delete(f"{API}/communities/lounge/members/{mia.id}").status_code == 204
    _assert_exact(app, {"board": 1, "forum": 3, "lounge": 3})

    # Invitations count once accepted, through either way of accepting; declined ones never.
    promote(olga, mo, "board")  # invite, then POST members {} accepts
    _assert_exact(app, {"board": 2, "forum": 3, "lounge": 3})
    assert olga.post(f"{API}/communities/board/members", json={"user_id": mia.id}).status_code \
        == 201
    assert olga.post(f"{API}/communities/board/members", json={"user_id": mx.id}).status_code \
        == 201
    _assert_exact(app, {"board": 2, "forum": 3, "lounge": 3})
    assert mia.patch(f"{API}/communities/board/members/{mia.id}",
                     json={"status": "active"}).status_code == 200
    assert mx.delete(f"{API}/communities/board/members/{mx.id}").status_code == 204  # declines
    _assert_exact(app, {"board": 3, "forum": 3, "lounge": 3})

    # Role changes leave the count alone; a ban removes, an unban restores, a removal of a
    # banned member changes nothing.
    assert olga.patch(f"{API}/communities/forum/members/{mia.id}",
                      json={"role": "moderator"}).status_code == 200
    _assert_exact(app, {"board": 3, "forum": 3, "lounge": 3})
    assert olga.patch(f"{API}/communities/forum/members/{mx.id}",
                      json={"status": "banned"}).status_code == 200
    _assert_exact(app, {"board": 3, "forum": 2, "lounge": 3})
    assert _listed(mia)["forum"] == 2
    assert olga.patch(f"{API}/communities/forum/members/{mx.id}",
                      json={"status": "active"}).status_code == 200
    _assert_exact(app, {"board": 3, "forum": 3, "lounge": 3})
    assert olga.patch(f"{API}/communities/forum/members/{mx.id}",
                      json={"status": "banned"}).status_code == 200
    assert olga.delete(f"{API}/communities/forum/members/{mx.id}").status_code == 204
    _assert_exact(app, {"board": 3, "forum": 2, "lounge": 3})

    # Leaving and being removed.
    assert mia.delete(f"{API}/communities/forum/members/{mia.id}").status_code == 204
    assert olga.delete(f"{API}/communities/lounge/members/{otto.id}").status_code == 204
    _assert_exact(app, {"board": 3, "forum": 1, "lounge": 2})

    # Deactivation changes nobody's membership (nor the count, as before); erasure removes
    # every membership of the person.
    join(nina, "forum")
    _assert_exact(app, {"board": 3, "forum": 2, "lounge": 2})
    assert root.post(f"{API}/users/{nina.id}/deactivate").status_code == 200
    _assert_exact(app, {"board": 3, "forum": 2, "lounge": 2})
    assert root.post(f"{API}/users/{nina.id}/reactivate").status_code == 200
    assert root.delete(f"{API}/users/{nina.id}").status_code == 204
    _assert_exact(app, {"board": 3, "forum": 1, "lounge": 1})
    assert _listed(olga) == {"board": 3, "forum": 1, "lounge": 1}


def test_rows_changed_outside_the_services_keep_the_count_exact(app, people, make_community):
    """Bulk inserts and updates, moves between communities, and cascades from a deleted user or
    community: the database keeps the count, whatever wrote the rows."""
    olga = people["olga"]
    make_community(olga, "forum")
    make_community(olga, "lounge")
    ids = [people[name].id for name in ("mo", "mia", "max", "nina", "otto")]
    with app.app_context():
        forum, lounge = (db.session.scalar(select(Community.id).where(Community.slug == slug))
                         for slug in ("forum", "lounge"))
        db.session.execute(insert(Membership), [
            {"community_id": forum, "user_id": user_id, "role": "member",
             "status": "active" if index % 2 == 0 else "pending"}
            for index, user_id in enumerate(ids)])
        db.session.commit()
    _assert_exact(app, {"forum": 4, "lounge": 1})
    with app.app_context():
        db.session.execute(update(Membership).where(Membership.community_id == forum,
                                                    Membership.status == "pending")
                           .values(status="active"))
        db.session.commit()
    _assert_exact(app, {"forum": 6, "lounge": 1})
    with app.app_context():  # a move of active and of invited memberships
        db.session.execute(update(Membership).where(Membership.user_id.in_(ids[:2]))
                           .values(community_id=lounge))
        db.session.execute(update(Membership).where(Membership.user_id == ids[2])
                           .values(status="invited"))
        db.session.commit()
    _assert_exact(app, {"forum": 3, "lounge": 3})
    with app.app_context():  # an update that changes neither status nor community
        db.session.execute(update(Membership).values(role="member"))
        db.session.commit()
    _assert_exact(app, {"forum": 3, "lounge": 3})
    set_membership(app, "lounge", people["root"].id, "active")
    _assert_exact(app, {"forum": 3, "lounge": 4})
    with app.app_context():  # the foreign keys' ON DELETE CASCADE
        db.session.execute(text("DELETE FROM api_tokens WHERE user_id = :id"), {"id": ids[0]})
        db.session.execute(delete(User).where(User.id == ids[0]))
        db.session.commit()
    _assert_exact(app, {"forum": 3, "lounge": 3})
    with app.app_context():
        db.session.execute(delete(Membership).where(Membership.community_id == forum))
        db.session.commit()
    _assert_exact(app, {"forum": 0, "lounge": 3})
    with app.app_context():  # the community's own rows go with it
        db.session.execute(text("DELETE FROM audit_events WHERE community_id = :id"),
                           {"id": lounge})
        db.session.execute(delete(Community).where(Community.id == lounge))
        db.session.commit()
    _assert_exact(app, {"forum": 0})
