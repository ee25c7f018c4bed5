"""Search filters and facets ideas by challenge and by the phase its challenge is in now, on both
engines, naming only challenges the caller may see."""
import pytest

from tests.api.challenges import clock, create_challenge, schedule, submit_idea  # noqa: F401
from tests.api.content import API, join, make_thread
from tests.search.helpers import facet, ids, search, sync

LATER = schedule(voting_starts_at="2026-06-01T00:00:00Z",
                 evaluation_starts_at="2026-06-02T00:00:00Z",
                 decided_starts_at="2026-06-03T00:00:00Z", closes_at="2026-06-04T00:00:00Z")


def _scenario(make_user, make_community, clock) -> dict:
    owner, customer = make_user("olga"), make_user("cora", audience="customer",
                                                   organization="contoso")
    make_community(owner, "lab", audiences=["employee", "customer"])
    join(customer, "lab")
    clock.at("draft")
    everyone = create_challenge(owner, "lab", title="Everyone")
    staff = create_challenge(owner, "lab", title="Staff only", audiences=["employee"], **LATER)
    clock.at("submission")
    open_ideas = [submit_idea(owner, "lab", everyone["id"], f"Onboarding idea {n}")["id"]
                  for n in range(2)]
    staff_idea = submit_idea(owner, "lab", staff["id"], "Onboarding idea for staff")["id"]
    loose = make_thread(owner, "lab", "idea", title="Onboarding idea on its own")["id"]
    clock.at("voting")  # "Everyone" votes now; "Staff only" is still in submission
    return {"owner": owner, "customer": customer, "everyone": everyone["id"],
            "staff": staff["id"], "open_ideas": open_ideas, "staff_idea": staff_idea,
            "loose": loose}


def _check(s: dict, engine: str) -> None:
    owner, customer = s["owner"], s["customer"]
    result = search(owner, q="onboarding")
    assert result["engine"] == engine
    assert facet(result, "challenge") == {str(s["everyone"]): 2, str(s["staff"]): 1}
    assert facet(result, "phase") == {"voting": 2, "submission": 1}
    assert sorted(ids(search(owner, q="onboarding", challenge=s["everyone"]))) == s["open_ideas"]
    assert ids(search(owner, q="onboarding", phase="submission")) == [s["staff_idea"]]
    assert ids(search(owner, phase="closed")) == []
    # The customer sees the ideas (threads of a community they see) but never the staff challenge.
    seen = search(customer, q="onboarding")
    assert facet(seen, "challenge") == {str(s["everyone"]): 2}
    assert facet(seen, "phase") == {"voting": 2}
    hidden = search(customer, q="onboarding", challenge=s["staff"])
    assert (hidden["total"], hidden["items"], facet(hidden, "challenge")) == (0, [], {})
    assert ids(search(customer, phase="submission")) == []
    assert sorted(ids(search(customer, phase="voting"))) == s["open_ideas"]
    bad = customer.get(f"{API}/search", query_string={"phase": "someday"})
    assert bad.status_code == 422 and "phase" in bad.get_json()["errors"]


def test_database_engine_filters_and_facets_by_challenge_and_phase(app, make_user,
                                                                   make_community, clock):
    _check(_scenario(make_user, make_community, clock), "database")


@pytest.mark.usefixtures("es_app")
def test_elasticsearch_filters_and_facets_by_challenge_and_phase(app, make_user, make_community,
                                                                 clock):
    s = _scenario(make_user, make_community, clock)
    sync(app)
    _check(s, "elasticsearch")
    # The document carries the challenge id; its phase is resolved per search, so moving the
    # schedule needs no reindex.
    response = s["owner"].post(f"{API}/challenges/{s['staff']}/phase",
                               json={"action": "advance", "reason": "Enough ideas."})
    assert response.status_code == 201
    assert facet(search(s["owner"], q="onboarding"), "phase") == {"voting": 3}
