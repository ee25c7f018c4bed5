"""GET /me and GET /communities read on one Core connection without an ORM session
(collab.db.open_read_connection): one connection per request, given back whatever the answer,
no session begun; other requests keep their session."""
import pytest
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event

from collab.db import db

API = "/api/v1"


@pytest.fixture
def watched(app):
    """Counts of pool checkouts and of ORM sessions begun, while the test runs."""
    with app.app_context():
        engine = db.engine
    seen = {"checkouts": 0, "sessions": 0}

    def checkout(*args):
        seen["checkouts"] += 1

    def begun(*args):
        seen["sessions"] += 1

    event.listen(engine.pool, "checkout", checkout)
    event.listen(FlaskSession, "after_begin", begun)
    try:
        yield seen, engine.pool
    finally:
        event.remove(engine.pool, "checkout", checkout)
        event.remove(FlaskSession, "after_begin", begun)


def _request(seen, pool, call) -> tuple:
    before = dict(seen)
    response = call()
    assert pool.checkedout() == 0, "the request gave its connection back"
    return response, seen["checkouts"] - before["checkouts"], seen["sessions"] - before["sessions"]


def test_hot_reads_use_one_connection_and_no_session(app, make_user, make_community, watched):
    seen, pool = watched
    owner = make_user("olga")
    make_community(owner, "forum")
    make_community(owner, "lounge", visibility="restricted")
    for url in (f"{API}/me", f"{API}/communities", f"{API}/communities?limit=1"):
        response, checkouts, sessions = _request(seen, pool, lambda: owner.get(url))
        assert response.status_code == 200, response.get_json()
        assert (checkouts, sessions) == (1, 0), url
    me = owner.get(f"{API}/me").get_json()
    assert me["id"] == owner.id and me["handle"] == "olga"
    listed = owner.get(f"{API}/communities").get_json()["items"]
    assert [(c["slug"], c["member_count"], c["my_membership"]) for c in listed] == [
        ("forum", 1, {"role": "owner", "status": "active"}),
        ("lounge", 1, {"role": "owner", "status": "active"})]

    # Refused requests give the connection back too.
    response, checkouts, sessions = _request(
        seen, pool, lambda: owner.client.get(f"{API}/me",
                                             headers={"Authorization": "Bearer collab_nope"}))
    assert response.status_code == 401 and checkouts == 1
    response, _, _ = _request(seen, pool, lambda: owner.get(f"{API}/communities?limit=0"))
    assert response.status_code == 422

    # Any other request keeps its session: a community read and a write.
    response, checkouts, sessions = _request(seen, pool, lambda: owner.get(
        f"{API}/communities/forum"))
    assert response.status_code == 200 and sessions == 1
    response, checkouts, sessions = _request(seen, pool, lambda: owner.post(
        f"{API}/communities", json={"slug": "after", "name": "After", "purpose": "A write."}))
    assert response.status_code == 201 and sessions >= 1
    assert [c["member_count"] for c in owner.get(f"{API}/communities").get_json()["items"]] \
        == [1, 1, 1]
