"""collab.blueprints.BodyParser keeps the query strings used last (an LRU): when full, a new one
is still kept and the least recently used goes; every answer stays the one its text asks for."""
from collections import OrderedDict

from collab.blueprints import Blueprint

API = "/api/v1"


def test_query_memo_keeps_the_ones_used_last(app, make_user, make_community, monkeypatch):
    parser = Blueprint.ARGUMENTS_PARSER
    monkeypatch.setattr(parser, "KEPT_QUERIES", 3)
    monkeypatch.setattr(parser, "_queries", OrderedDict())
    owner = make_user("olga")
    for slug in ("alpha", "beta", "gamma", "delta", "epsilon"):
        make_community(owner, slug)

    def listed(query: str) -> int:
        response = owner.get(f"{API}/communities?{query}")
        assert response.status_code == 200, response.get_json()
        return len(response.get_json()["items"])

    def kept() -> list[bytes]:
        return [query for _, query, _ in parser._queries]

    assert [listed(f"limit={n}") for n in (1, 2, 3)] == [1, 2, 3]
    assert kept() == [b"limit=1", b"limit=2", b"limit=3"]
    assert listed("limit=1") == 1  # used again: now the most recent
    assert listed("limit=4") == 4  # full: the least recently used (limit=2) goes
    assert kept() == [b"limit=3", b"limit=1", b"limit=4"]
    for n in range(5, 12):  # many more: the newest are always kept, never more than 3
        assert listed(f"limit={n}") == min(n, 5)
    assert kept() == [b"limit=9", b"limit=10", b"limit=11"]
    assert listed("limit=2") == 2
    assert owner.get(f"{API}/communities?limit=0").status_code == 422
    assert kept()[-1] == b"limit=2"  # refused queries are never kept
