"""`author` in thread lists takes a handle or a user id, like search takes a handle; every
payload names its author with `author.handle`."""
import pytest

from tests.api.content import API, join, list_all, make_post, make_thread


@pytest.fixture
def space(make_user, make_community):
    owner, member = make_user("olga"), make_user("mia")
    digits = make_user("2024")  # a handle of digits only
    make_community(owner, "space")
    join(member, "space")
    join(digits, "space")
    return {"owner": owner, "member": member, "digits": digits}


def test_author_filter_takes_a_handle_or_an_id(space):
    owner, member, digits = space["owner"], space["member"], space["digits"]
    mine = make_thread(member, "space", "discussion")
    theirs = make_thread(owner, "space", "question")
    by_digits = make_thread(digits, "space", "idea")

    def ids(query):
        return [t["id"] for t in list_all(owner, f"{API}/communities/space/threads?{query}")]

    assert ids("author=mia") == [mine["id"]]
    assert ids("author=MIA") == [mine["id"]]
    assert ids(f"author={member.id}") == [mine["id"]]
    assert ids("author=olga&kind=question") == [theirs["id"]]
    assert ids("author=nobody") == []
    # All digits is an id, so a digits-only handle is reached through its id.
    assert ids(f"author={digits.id}") == [by_digits["id"]]
    assert ids("author=2024") == []


def test_payloads_name_the_author_by_handle(space):
    member, owner = space["member"], space["owner"]
    thread = make_thread(member, "space", "question")
    post = make_post(owner, thread["id"])
    listed = list_all(owner, f"{API}/communities/space/threads?author=mia")[0]
    assert listed["author"]["handle"] == "mia" and listed["author"]["id"] == member.id
    assert post["author"]["handle"] == "olga"
    assert list_all(member, f"{API}/threads/{thread['id']}/posts")[0]["author"]["handle"] == "olga"
