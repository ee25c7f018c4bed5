"""Typeahead on Elasticsearch with characters that mean something to Lucene's regular expressions."""
import pytest

from tests.search.helpers import API, make_thread, sync

pytestmark = pytest.mark.usefixtures("es_app")


def test_es_typeahead_escapes_lucene_regex(app, make_user, make_community):
    owner = make_user()
    make_community(owner, "eng")
    make_thread(owner, "eng", title="C++ build times", tags=["c++", "build"])
    make_thread(owner, "eng", title="Node release", tags=["node.js"])
    sync(app)
    for q in ("<", '"a', "a<1-100>", "a@b", "x&y", "~z", "#", "(", "[", "\\", "a|b", "a{2}"):
        response = owner.get(f"{API}/search/suggest", query_string={"q": q})
        assert response.status_code == 200, (q, response.get_json())
        assert response.get_json()["engine"] == "elasticsearch"
    tags = owner.get(f"{API}/search/suggest", query_string={"q": "c+"}).get_json()["tags"]
    assert [t["tag"] for t in tags] == ["c++"]
    tags = owner.get(f"{API}/search/suggest", query_string={"q": "node."}).get_json()["tags"]
    assert [t["tag"] for t in tags] == ["node.js"]
    tags = owner.get(f"{API}/search/suggest", query_string={"q": "no.e"}).get_json()["tags"]
    assert tags == []  # "." is a dot, not any character
