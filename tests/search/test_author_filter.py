"""Search's `author` filter takes a handle or a user id, as thread lists do (database engine)."""
from tests.search.helpers import API, join, make_thread, search, titles


def test_author_by_handle_or_id(make_user, make_community):
    owner, mia = make_user("olga"), make_user("mia")
    make_community(owner, "eng")
    join(mia, "eng")
    make_thread(owner, "eng", title="Widget by olga", body="widget")
    make_thread(mia, "eng", title="Widget by mia", body="widget")
    assert titles(search(owner, q="widget", author="mia")) == ["Widget by mia"]
    assert titles(search(owner, q="widget", author="MIA")) == ["Widget by mia"]
    assert titles(search(owner, q="widget", author=str(mia.id))) == ["Widget by mia"]
    assert titles(search(owner, q="widget", author="2147483647")) == []  # no such user
    assert titles(search(owner, q="widget", author="nobody")) == []
    for bad in ("0", "a b", "x" * 41):
        response = owner.get(f"{API}/search", query_string={"q": "widget", "author": bad})
        assert response.status_code == 422 and "author" in response.get_json()["errors"], bad
