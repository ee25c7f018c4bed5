"""Knowledge freshness on the real Elasticsearch node: states shown on hits, filtered by date ranges."""
from datetime import timedelta

import pytest

from tests.api.freshness import AGE, answered_question, clock, state, verify  # noqa: F401
from tests.search.helpers import API, ids, join, make_thread, search, sync

pytestmark = pytest.mark.usefixtures("es_app")


def _states(result) -> dict[int, str | None]:
    return {item["thread"]["id"]: (item["thread"]["answer_freshness"] or {}).get("state")
            for item in result["items"]}


def test_freshness_filter_and_states_on_elasticsearch(app, make_user, make_community, clock):
    owner, asker, answerer, outsider = make_user(), make_user(), make_user(), make_user()
    make_community(owner, "kb")
    make_community(owner, "board", visibility="private")
    join(asker, "kb")
    join(answerer, "kb")
    read, read_answer = answered_question(asker, answerer, "kb", "Laptop refresh")
    unread = answered_question(asker, answerer, "kb", "Laptop bags")[0]
    retired, retired_answer = answered_question(asker, answerer, "kb", "Laptop docking")
    open_question = make_thread(asker, "kb", kind="question", title="Laptop stickers")
    secret = answered_question(owner, owner, "board", "Laptop budget")[0]
    assert verify(answerer, retired_answer["id"], "obsolete").status_code == 200
    clock.advance(AGE)
    assert state(asker, read["id"]) == "needs_review"
    assert state(owner, secret["id"]) == "needs_review"
    sync(app)

    result = search(outsider, q="laptop", freshness="needs_review")
    assert result["engine"] == "elasticsearch"
    assert _states(result) == {read["id"]: "needs_review"} and result["total"] == 1
    assert all(b["value"] != "board" for b in result["facets"]["community"])
    assert set(ids(search(owner, q="laptop", freshness="needs_review"))) == {read["id"], secret["id"]}
    assert _states(search(outsider, q="laptop", freshness="fresh")) == {unread["id"]: "fresh"}
    assert _states(search(outsider, q="laptop", freshness="obsolete")) == {retired["id"]: "obsolete"}
    everything = _states(search(outsider, q="laptop"))
    assert everything[open_question["id"]] is None and secret["id"] not in everything

    clock.advance(timedelta(days=31))  # the read leaves the window: no reindex needed
    assert ids(search(outsider, q="laptop", freshness="needs_review")) == []
    assert state(asker, read["id"]) == "needs_review"  # the first read of a day queues a reindex
    sync(app)
    assert ids(search(outsider, q="laptop", freshness="needs_review")) == [read["id"]]

    response = verify(answerer, read_answer["id"])
    assert response.status_code == 200, response.get_json()
    sync(app)  # verify wrote the outbox row
    assert ids(search(outsider, q="laptop", freshness="needs_review")) == []
    assert set(ids(search(outsider, q="laptop", freshness="fresh"))) == {read["id"], unread["id"]}
    response = outsider.get(f"{API}/search", query_string={"freshness": "old"})
    assert response.status_code == 422 and "freshness" in response.get_json()["errors"]
