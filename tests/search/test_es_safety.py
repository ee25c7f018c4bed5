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


def test_erasure_reaches_the_index_and_suggestions(app, make_user, make_community):
    import json

    from collab.db import db
    from search import client as search_client
    from tests.search.helpers import join, make_post, search

    admin = make_user("root", is_admin=True)
    zelda = make_user("zelda", audience="partner", organization="hyrule")
    make_community(admin, "space", audiences=["employee", "partner"])
    join(zelda, "space")
    idea = make_thread(zelda, "space", title="Quieter meeting rooms", tags=["office"])
    other = make_thread(admin, "space", title="Lunch menu")
    make_post(zelda, other["id"], body="Soup please.")
    sync(app)
    # `author` matches threads they started or replied in.
    assert {i["thread"]["id"] for i in search(admin, author="zelda")["items"]} == {idea["id"],
                                                                                 other["id"]}

    def indexed() -> str:
        with app.app_context():
            es = search_client.client(app)
            hits = es.search(index=search_client.settings(app).alias,
                             body={"query": {"match_all": {}}, "size": 100})["hits"]["hits"]
            db.session.remove()
        return json.dumps([hit["_source"] for hit in hits]).lower()

    assert "zelda" in indexed()
    assert admin.delete(f"{API}/users/{zelda.id}").status_code == 204
    sync(app)
    stored = indexed()
    for secret in ("zelda", "hyrule", "zelda@example.com"):
        assert secret not in stored
    for params in ({"q": "zelda"}, {"author": "zelda"}, {"q": "soup"}, {"q": "quieter"}):
        answer = search(admin, **params)
        assert answer["engine"] == "elasticsearch"
        assert "zelda" not in json.dumps(answer).lower()
    assert search(admin, q="quieter")["items"][0]["thread"]["author"]["display_name"] == "deleted user"
    for q in ("qui", "zel", "off"):
        response = admin.get(f"{API}/search/suggest", query_string={"q": q})
        assert response.status_code == 200 and "zelda" not in response.get_data(as_text=True).lower()
