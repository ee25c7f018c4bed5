"""Expertise location answered by Elasticsearch aggregations, with the same permission rules."""
import pytest

from tests.factories import set_membership
from tests.insights.test_experts import experts, handles, world  # noqa: F401  (fixture)
from tests.search.helpers import API, sync

pytestmark = pytest.mark.usefixtures("es_app")


def test_elasticsearch_ranks_by_evidence_and_hides_what_the_caller_cannot_see(app, world,
                                                                              make_user):
    sync(app)
    viewer = make_user("viewer")
    result = experts(viewer, q="kubernetes")
    assert result["engine"] == "elasticsearch"
    assert handles(result)[0] == "alice"
    assert "dave" not in handles(result)
    top = result["items"][0]["why"]
    assert (top["accepted_answers"], top["replies"], top["tags"]) == (3, 3, ["kubernetes"])
    assert len(top["evidence"]) == 3 and all(e["community"] == "eng" for e in top["evidence"])
    assert experts(viewer, q="secret cluster")["items"] == []
    assert handles(experts(viewer, q="invoice"))[0] == "carol"
    assert handles(experts(world["owner"], q="kubernetes"))[0] == "dave"
    assert "dave" not in handles(experts(world["owner"], q="kubernetes", community="eng"))


def test_engines_agree(app, world, make_user):
    viewer = make_user("viewer")
    on_database = experts(viewer, q="kubernetes")
    sync(app)
    on_elasticsearch = experts(viewer, q="kubernetes")
    assert on_database["engine"] == "database" and on_elasticsearch["engine"] == "elasticsearch"
    assert [(i["user"]["handle"], i["score"]) for i in on_database["items"]] == \
        [(i["user"]["handle"], i["score"]) for i in on_elasticsearch["items"]]


@pytest.mark.parametrize("state, sees", [("none", False), ("banned", False), ("active", True)])
def test_membership_changes_apply_at_once(app, world, make_user, state, sees):
    sync(app)
    viewer = make_user("viewer")
    if state != "none":
        set_membership(app, "vault", viewer.id, state)
    assert ("dave" in handles(experts(viewer, q="secret cluster"))) is sees


def test_person_topics_from_significant_text(app, world, make_user):
    sync(app)
    viewer = make_user("viewer")
    body = viewer.get(f"{API}/users/{world['alice'].id}/expertise").get_json()
    assert body["engine"] == "elasticsearch"
    assert body["tags"] == [{"tag": "kubernetes", "count": 3}]
    assert "memori" in [t["term"] for t in body["terms"]] or \
        "memory" in [t["term"] for t in body["terms"]]
    hidden = viewer.get(f"{API}/users/{world['dave'].id}/expertise").get_json()
    assert hidden["tags"] == [] and hidden["terms"] == [] and hidden["replies"] == 0
