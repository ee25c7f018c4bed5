"""Community insights: the figures, k-anonymity, and who may ask."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from collab import time
from collab.db import db
from collab.insights.service import rebuild
from collab.threads.models import Thread
from tests.api.content import API, join, make_post, make_thread, set_status
from tests.factories import set_membership


def insights(caller, slug="eng", **params):
    response = caller.get(f"{API}/communities/{slug}/insights", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def busy(app, make_user, make_community):
    """eng: 6 employees and 5 partners ask, answer and tag; 5 people talk about kubernetes this
    month, billing was last quarter's topic; an idea moves; one angry thread."""
    owner = make_user("owner")
    make_community(owner, "eng", audiences=["employee", "partner"])
    employees = [make_user(f"emp{i}") for i in range(6)]
    partners = [make_user(f"par{i}", audience="partner", organization="acme") for i in range(5)]
    for person in employees + partners:
        join(person, "eng")
    old = []
    for i, person in enumerate(employees[:5]):
        old.append(make_thread(person, "eng", "discussion", f"Billing export {i}", "Invoices.",
                               tags=["billing"])["id"])
    with app.app_context():
        db.session.execute(update(Thread).where(Thread.id.in_(old)).values(
            created_at=time.now() - timedelta(days=60)))
        db.session.commit()
        rebuild()  # bulk SQL bypasses the session events that keep the roll-ups (README)
    for i, partner in enumerate(partners):
        question = make_thread(partner, "eng", "question", f"Kubernetes ingress {i}",
                               "How do we route traffic?", tags=["kubernetes"])
        answer = make_post(employees[i], question["id"], "Use an ingress controller.")
        make_post(partner, question["id"], "Thanks!", parent_id=answer["id"])
        if i < 4:
            assert partner.post(f"{API}/posts/{answer['id']}/accept").status_code == 200
    make_thread(partners[0], "eng", "question", "Kubernetes quotas?", "Nobody knows.",
                tags=["kubernetes"])
    idea = make_thread(employees[0], "eng", "idea", "Shared cluster", "One cluster for all.")
    set_status(owner, idea["id"], "under_review")
    make_thread(employees[5], "eng", "discussion", "Broken again",
                "This is unacceptable, the build is broken again and nobody answers.")
    return {"owner": owner, "employees": employees, "partners": partners}


def test_figures_for_a_busy_community(busy):
    owner = busy["owner"]
    body = insights(owner, interval="day")
    assert body["k_anonymity"] == 5 and body["community"] == "eng"
    today = body["activity"][-1]
    assert today["suppressed"] is False and today["active_people"] >= 10
    assert today["threads"] == 8 and today["posts"] == 10
    assert body["activity"][0]["suppressed"] is True  # a quiet day: nobody to count
    assert body["answer_rate"]["questions"]["value"] == 6
    assert body["answer_rate"]["rate"]["value"] == round(4 / 6, 3)
    assert body["response_times"]["first_reply_hours"]["count"] == 5
    assert body["response_times"]["first_reply_hours"]["p50"] is not None
    assert body["response_times"]["accepted_answer_hours"]["suppressed"] is True  # 4 askers
    unanswered = {row["age"]: row for row in body["unanswered_by_age"]}
    assert unanswered["under_1_day"]["suppressed"] is True  # 2 questions by 2 people
    flow = body["audience_flow"]["matrix"]
    assert flow["employee"]["partner"]["value"] == 5 and flow["employee"]["partner"]["people"] == 5
    assert flow["partner"]["employee"]["value"] == 5
    assert flow["customer"]["employee"] == {"value": 0, "people": 0, "suppressed": False}
    funnel = {row["status"]: row for row in body["idea_funnel"]}
    assert funnel["under_review"]["suppressed"] is True  # one idea, one author
    assert body["concerns"]["opened"]["suppressed"] is True  # one concern, one author
    rising = body["rising_topics"]
    assert rising["engine"] == "database"
    assert [t["tag"] for t in rising["tags"]] == ["kubernetes"]
    assert rising["tags"][0]["count"] == 6 and rising["tags"][0]["people"] == 5
    assert "billing" not in [t["tag"] for t in rising["tags"]]
    assert "kubernetes" in [t["term"] for t in rising["terms"]]
    weekly = insights(owner, interval="week")
    assert sum(b["threads"] or 0 for b in weekly["activity"]) == 8


def test_small_groups_are_suppressed(make_user, make_community):
    owner, member = make_user("owner"), make_user("member")
    make_community(owner, "tiny")
    join(member, "tiny")
    question = make_thread(member, "tiny", "question", "Kubernetes?", "Help", tags=["kubernetes"])
    make_post(owner, question["id"], "Yes.")
    body = insights(owner, "tiny", interval="day")
    assert all(bucket["suppressed"] and bucket["threads"] is None for bucket in body["activity"])
    assert body["answer_rate"]["rate"] == {"value": None, "people": None, "suppressed": True}
    assert body["response_times"]["first_reply_hours"]["p50"] is None
    assert body["audience_flow"]["matrix"]["employee"]["employee"]["suppressed"] is True
    assert body["rising_topics"]["tags"] == [] and body["rising_topics"]["terms"] == []


def test_other_communities_never_leak(app, busy, make_user, make_community):
    owner = busy["owner"]
    make_community(owner, "vault", visibility="private")
    for i in range(5):
        insider = make_user(f"ins{i}")
        set_membership(app, "vault", insider.id, "active")
        make_thread(insider, "vault", "discussion", f"Project zephyr {i}", "Secret.",
                    tags=["zephyr"])
    body = insights(owner)
    assert "zephyr" not in str(body["rising_topics"])
    assert sum(b["threads"] or 0 for b in body["activity"]) == 8
    admin = make_user("root", is_admin=True)
    everywhere = admin.get(f"{API}/insights").get_json()
    assert everywhere["community"] is None
    assert sum(b["threads"] or 0 for b in everywhere["activity"]) == 13
    assert "zephyr" in [t["tag"] for t in everywhere["rising_topics"]["tags"]]


@pytest.mark.parametrize("visibility", ["open", "private"])
@pytest.mark.parametrize("state, role", [("none", None), ("active", "member"),
                                         ("active", "moderator"), ("banned", "moderator")])
def test_permission_matrix(app, make_user, make_community, visibility, state, role):
    owner = make_user("owner")
    make_community(owner, "space", visibility=visibility)
    viewer = make_user("viewer")
    if state != "none":
        set_membership(app, "space", viewer.id, state, role)
    visible = state == "active" or (state == "none" and visibility == "open")
    staff = state == "active" and role == "moderator"
    expected = 200 if staff else (403 if visible else 404)
    assert viewer.get(f"{API}/communities/space/insights").status_code == expected
    assert viewer.get(f"{API}/insights").status_code == 403
    assert owner.get(f"{API}/communities/space/insights").status_code == 200


def test_bad_input_is_422(make_user, make_community):
    owner = make_user("owner")
    make_community(owner, "eng")
    for params in ({"interval": "month"}, {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
                   {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
                   {"from": "yesterday"}, {"colour": "red"}):
        response = owner.get(f"{API}/communities/eng/insights", query_string=params)
        assert response.status_code == 422, (params, response.get_json())
        assert response.get_json()["errors"]
