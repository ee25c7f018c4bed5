"""Authentication on every request stays exact after the token lookup moved to the driver's
cursor (collab.auth): a token revoked, expired or deactivated between two requests is refused on
the second, a refused write writes nothing, and the lookup answers what Core's answers."""
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from collab import auth, time
from collab.db import db
from collab.people.models import ApiToken, User
from collab.threads.models import Post, Thread
from tests.api.content import API, join, make_post, make_thread


@pytest.fixture
def space(make_user, make_community):
    owner, member = make_user("olga"), make_user("mia")
    make_community(owner, "space")
    join(member, "space")
    return {"owner": owner, "member": member, "thread": make_thread(owner, "space")}


def _change_token(app, caller, **values) -> None:
    """Change the caller's token(s) in the database directly, as another worker would."""
    with app.app_context():
        db.session.execute(update(ApiToken).where(ApiToken.user_id == caller.id).values(**values))
        db.session.commit()
        db.session.remove()


def _posts(app, thread_id: int) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Post)
                                  .where(Post.thread_id == thread_id))
        db.session.remove()
        return count


def _reply_count(app, thread_id: int) -> int:
    with app.app_context():
        count = db.session.scalar(select(Thread.reply_count).where(Thread.id == thread_id))
        db.session.remove()
        return count


@pytest.mark.parametrize("change", ["revoked", "expired"])
def test_a_token_changed_between_two_requests_is_refused_on_the_second(app, space, change):
    member, thread = space["member"], space["thread"]
    assert member.get(f"{API}/me").status_code == 200
    make_post(member, thread["id"])
    before = _posts(app, thread["id"])
    past = time.now() - timedelta(seconds=1)
    _change_token(app, member, **({"revoked_at": past} if change == "revoked"
                                  else {"expires_at": past}))
    for response in (member.get(f"{API}/me"), member.get(f"{API}/threads/{thread['id']}"),
                     member.post(f"{API}/threads/{thread['id']}/posts", json={"body": "late"})):
        assert response.status_code == 401, response.get_json()
        assert response.mimetype == "application/problem+json"
    assert _posts(app, thread["id"]) == before  # the refused reply wrote nothing


def test_a_deactivated_account_is_refused_on_its_next_request(app, space):
    member, thread = space["member"], space["thread"]
    make_post(member, thread["id"])
    with app.app_context():
        db.session.execute(update(User).where(User.id == member.id)
                           .values(deactivated_at=time.now()))
        db.session.commit()
        db.session.remove()
    response = member.post(f"{API}/threads/{thread['id']}/posts", json={"body": "gone"})
    assert response.status_code == 401
    assert response.get_json()["detail"] == "The account is deactivated."


@pytest.mark.parametrize("header", ["Bearer collab_unknown", "Bearer ", "Basic abc", None])
def test_a_write_with_a_bad_token_writes_nothing(app, space, client, header):
    thread = space["thread"]
    before, replies = _posts(app, thread["id"]), _reply_count(app, thread["id"])
    headers = {} if header is None else {"Authorization": header}
    for path, method, body in ((f"{API}/threads/{thread['id']}/posts", "POST", {"body": "x"}),
                               (f"{API}/threads/{thread['id']}/vote", "PUT", {"value": 1})):
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 401, response.get_json()
    assert _posts(app, thread["id"]) == before
    assert _reply_count(app, thread["id"]) == replies


def test_a_bad_token_is_refused_before_the_body_is_read(space, client):
    """401 comes first, even for a body that would not load (no hint for token guessers)."""
    thread = space["thread"]
    response = client.post(f"{API}/threads/{thread['id']}/posts", json={"nope": 1},
                           headers={"Authorization": "Bearer collab_unknown"})
    assert response.status_code == 401


def test_the_lookup_answers_what_core_answers_and_is_seen_by_statement_listeners(app, space):
    member = space["member"]
    _change_token(app, member, expires_at=time.now() + timedelta(days=3))
    with app.app_context():
        token_hash = db.session.scalar(select(ApiToken.token_hash)
                                       .where(ApiToken.user_id == member.id))
        connection = db.session.connection()
        seen = []

        def record(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            found = auth._look_token_up(connection, token_hash)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        core = connection.execute(auth._TOKEN_LOOKUP, {"token_hash": token_hash}).first()
        assert auth._look_token_up(connection, "0" * 64) is None
        db.session.rollback()
    assert len(seen) == 1 and "api_tokens" in seen[0]
    assert tuple(found) == tuple(core)
    caller = auth.Caller(*found[:-2])
    assert caller.id == member.id and caller.handle == "mia"
    assert caller.created_at.tzinfo is not None and found[-1].tzinfo is not None  # aware UTC
    assert found[-1] == core[-1] and found[-1] > time.now()
