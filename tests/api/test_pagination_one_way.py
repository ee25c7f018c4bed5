"""Every list pages one way (collab.pagination.page_statement): a statement built once per shape
of page, the cursor's values bound at execution."""
import pytest
from sqlalchemy import event

from collab.db import db
from collab.threads import service as threads
from tests.api.content import API, join, list_all, make_thread, promote


@pytest.fixture
def space(make_user, make_community):
    owner, moderator, member = make_user("olga"), make_user("mo"), make_user("mia")
    make_community(owner, "space")
    promote(owner, moderator, "space")
    join(member, "space")
    return {"owner": owner, "moderator": moderator, "member": member}


def _walk(caller, url: str, limit: int) -> list[int]:
    seen, cursor = [], None
    while True:
        response = caller.get(f"{url}&limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return seen


@pytest.mark.parametrize("sort", ["new", "active", "top", "trending"])
def test_cursor_pages_reuse_one_statement_per_shape_and_cross_the_pinned_threads(app, space, sort):
    member, moderator = space["member"], space["moderator"]
    made = [make_thread(member, "space", "idea", title=f"t{i}") for i in range(6)]
    for thread in made[1:3]:
        moderator.patch(f"{API}/threads/{thread['id']}", json={"pinned": True})
    member.put(f"{API}/threads/{made[4]['id']}/vote", json={"value": 1})
    url = f"{API}/communities/space/threads?sort={sort}"
    whole = [t["id"] for t in list_all(member, url)]
    assert sorted(whole) == sorted(t["id"] for t in made)

    texts = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM threads" in statement:
            texts.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert _walk(member, url, 1) == whole  # six pages: every cursor, pinned or not
        built = len(threads._LIST_STATEMENTS)
        assert _walk(member, url, 1) == whole
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(threads._LIST_STATEMENTS) == built  # the second walk built nothing
    shapes = {key[-1] for key in threads._LIST_STATEMENTS if key[2:4] == (sort, ())}
    assert shapes == ({None, (True, None, None), (False, None, None)} if sort in ("new", "active")
                      else {None, (None, None)})
    # A first page, and one statement per shape of cursor: two for pinned-first sorts (inside
    # the pinned threads or past them), one otherwise; the cursor's values are parameters.
    assert len(set(texts)) == (3 if sort in ("new", "active") else 2)
