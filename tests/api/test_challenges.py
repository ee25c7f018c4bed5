"""Challenges: phases and their gates for every role, budgets, weighting, evaluation, decisions,
outcomes, the report, lineage, and who sees what."""
import pytest

from tests.api.challenges import (  # noqa: F401  (fixtures)
    PHASES,
    STARTS,
    clock,
    create_challenge,
    lab,
    ok,
    put_points,
    schedule,
    submit_idea,
)
from tests.api.content import API, get_thread, make_thread

CRITERIA = [{"name": "Impact", "description": "Hours saved", "weight": 2, "scale": 5},
            {"name": "Effort", "description": "Cheap scores high", "weight": 1, "scale": 5}]


def _challenge(lab, clock, **fields) -> dict:
    """An employee+partner challenge sponsored by sam, with criteria and two evaluators."""
    clock.at("draft")
    challenge = create_challenge(lab["owner"], "lab", sponsor_id=lab["sponsor"].id,
                                 audiences=["employee", "partner"],
                                 audience_weights={"partner": 2}, vote_budget=10,
                                 max_points_per_idea=4, **fields)
    ok(lab["sponsor"].put(f"{API}/challenges/{challenge['id']}/criteria",
                          json={"criteria": CRITERIA}))
    ok(lab["sponsor"].put(f"{API}/challenges/{challenge['id']}/evaluators",
                          json={"user_ids": [lab["evaluator"].id, lab["evaluator2"].id]}))
    return challenge


def _scorecard(challenge_id: int, values: tuple[int, int], criteria: list[dict]) -> dict:
    return {"scores": [{"criterion_id": c["id"], "value": v, "comment": f"{c['name']} {v}"}
                       for c, v in zip(criteria, values)]}


def _criteria(caller, challenge_id) -> list[dict]:
    return ok(caller.get(f"{API}/challenges/{challenge_id}/criteria"))


# Phases --------------------------------------------------------------------------

def test_phase_follows_the_clock_and_schedule(lab, clock):
    challenge = _challenge(lab, clock)
    assert challenge["phase"] == "draft"
    assert [w["phase"] for w in challenge["schedule"]] == PHASES
    assert challenge["schedule"][2] == {"phase": "voting",
                                        "starts_at": STARTS["voting"].isoformat(),
                                        "ends_at": STARTS["evaluation"].isoformat()}
    for phase in PHASES:
        clock.at(phase)
        assert ok(lab["member" if phase != "draft" else "sponsor"].get(
            f"{API}/challenges/{challenge['id']}"))["phase"] == phase


def test_advance_extend_close_are_recorded_with_who_and_why(lab, clock):
    challenge = _challenge(lab, clock)
    url = f"{API}/challenges/{challenge['id']}"
    clock.at("submission")
    assert lab["member"].post(f"{url}/phase", json={"action": "advance", "reason": "x"}
                              ).status_code == 403
    assert lab["evaluator"].post(f"{url}/phase", json={"action": "close", "reason": "x"}
                                 ).status_code == 403
    change = ok(lab["sponsor"].post(f"{url}/phase", json={"action": "advance",
                                                          "reason": "Enough ideas."}), 201)
    assert (change["from_phase"], change["to_phase"], change["actor"]["handle"]) == (
        "submission", "voting", "sam")
    assert ok(lab["member"].get(url))["phase"] == "voting"
    # Extend voting by a day: every later phase shifts as much.
    change = ok(lab["moderator"].post(f"{url}/phase", json={
        "action": "extend", "until": "2026-05-05T09:00:00Z", "reason": "APAC partners."}), 201)
    assert change["schedule_after"]["evaluation_starts_at"].startswith("2026-05-05T09:00:00")
    assert change["schedule_after"]["closes_at"].startswith("2026-05-07T09:00:00")
    clock.at("evaluation")  # the old start of evaluation: still voting now
    assert ok(lab["member"].get(url))["phase"] == "voting"
    bad = lab["moderator"].post(f"{url}/phase", json={"action": "extend", "reason": "x"})
    assert bad.status_code == 422 and "until" in bad.get_json()["errors"]
    bad = lab["moderator"].post(f"{url}/phase", json={"action": "extend", "reason": "x",
                                                      "until": "2026-05-01T09:00:00Z"})
    assert bad.status_code == 422 and "until" in bad.get_json()["errors"]
    ok(lab["owner"].post(f"{url}/phase", json={"action": "close", "reason": "Reorg."}), 201)
    assert ok(lab["member"].get(url))["phase"] == "closed"
    assert lab["owner"].post(f"{url}/phase", json={"action": "advance", "reason": "x"}
                             ).status_code == 409
    history = ok(lab["member"].get(f"{url}/phase-changes"))
    assert [(h["action"], h["reason"], h["actor"]["handle"]) for h in history] == [
        ("advance", "Enough ideas.", "sam"), ("extend", "APAC partners.", "mo"),
        ("close", "Reorg.", "olga")]


def _expected(action: str, role: str, phase: str) -> int:
    insiders = {"sponsor", "moderator", "owner", "evaluator"}
    visible = role != "customer" and (phase != "draft" or role in insiders)
    if action == "submit":
        if not visible:
            return 422  # "no such challenge in this community", as if it did not exist
        if role == "outsider":
            return 403
        return 201 if phase == "submission" else 409
    if not visible:
        return 404
    allowed = {"vote": ("voting", role != "outsider"),
               "score": ("evaluation", role == "evaluator"),
               "decide": ("decided", role == "sponsor")}
    gate_phase, may = allowed[action]
    if not may:
        return 403
    return 200 if phase == gate_phase else 409


@pytest.mark.parametrize("phase", PHASES)
def test_every_phase_gate_for_every_role(lab, clock, phase):
    challenge = _challenge(lab, clock)
    cid = challenge["id"]
    clock.at("submission")
    idea = submit_idea(lab["member"], "lab", cid, "Pair new partners with a buddy")
    clock.at("voting")
    ok(lab["sponsor"].put(f"{API}/challenges/{cid}/shortlist", json={"thread_ids": [idea["id"]]}))
    criteria = _criteria(lab["sponsor"], cid)
    clock.at(phase)
    roles = ["sponsor", "moderator", "member", "partner", "customer", "evaluator", "outsider"]
    for role in roles:
        caller = lab[role]
        submitted = caller.post(f"{API}/communities/lab/threads", json={
            "kind": "idea", "title": f"{role} idea", "body": "b", "challenge_id": cid})
        voted = put_points(caller, cid, idea["id"], 1)
        scored = caller.put(f"{API}/challenges/{cid}/ideas/{idea['id']}/scores",
                            json=_scorecard(cid, (3, 3), criteria))
        decided = caller.put(f"{API}/challenges/{cid}/ideas/{idea['id']}/decision",
                             json={"decision": "parked", "rationale": "Later."})
        got = {"submit": submitted.status_code, "vote": voted.status_code,
               "score": scored.status_code, "decide": decided.status_code}
        want = {a: _expected(a, role, phase) for a in got}
        assert got == want, (role, phase, submitted.get_json(), voted.get_json())
        for response in (submitted, voted, scored, decided):
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json"


def test_a_vote_outside_voting_is_a_409_naming_the_phase_and_its_dates(lab, clock):
    challenge = _challenge(lab, clock)
    clock.at("submission")
    idea = submit_idea(lab["member"], "lab", challenge["id"])
    response = put_points(lab["member"], challenge["id"], idea["id"], 2)
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["phase"] == "submission"
    assert problem["phase_starts_at"] == STARTS["submission"].isoformat()
    assert problem["phase_ends_at"] == STARTS["voting"].isoformat()
    assert problem["allowed_phases"] == [{"phase": "voting",
                                          "starts_at": STARTS["voting"].isoformat(),
                                          "ends_at": STARTS["evaluation"].isoformat()}]
    assert "submission phase" in problem["detail"] and "voting" in problem["detail"]
    clock.at("evaluation")
    assert put_points(lab["member"], challenge["id"], idea["id"], 2).get_json()["phase"] == \
        "evaluation"


def test_attaching_existing_ideas_only_while_submission_is_open(lab, clock):
    challenge = _challenge(lab, clock)
    url = f"{API}/challenges/{challenge['id']}/ideas"
    clock.at("draft")
    mine = make_thread(lab["member"], "lab", "idea", title="Older idea")
    other = make_thread(lab["partner"], "lab", "idea", title="Partner idea")
    question = make_thread(lab["member"], "lab", "question")
    assert lab["member"].post(url, json={"thread_id": mine["id"]}).status_code == 404  # a draft
    assert lab["moderator"].post(url, json={"thread_id": mine["id"]}).status_code == 409
    clock.at("submission")
    assert lab["member"].post(url, json={"thread_id": other["id"]}).status_code == 403
    assert lab["member"].post(url, json={"thread_id": question["id"]}).status_code == 422
    entry = ok(lab["member"].post(url, json={"thread_id": mine["id"]}), 201)
    assert entry["thread_id"] == mine["id"] and entry["votes"]["points"] == 0
    assert lab["member"].post(url, json={"thread_id": mine["id"]}).status_code == 409
    ok(lab["moderator"].post(url, json={"thread_id": other["id"]}), 201)
    clock.at("voting")
    late = make_thread(lab["member"], "lab", "idea", title="Too late")
    assert lab["member"].post(url, json={"thread_id": late["id"]}).status_code == 409
    assert {i["thread_id"] for i in ok(lab["member"].get(url))} == {mine["id"], other["id"]}


def test_a_refused_submission_writes_nothing(lab, clock):
    challenge = _challenge(lab, clock)
    clock.at("voting")
    response = lab["member"].post(f"{API}/communities/lab/threads", json={
        "kind": "idea", "title": "Late idea", "body": "b", "challenge_id": challenge["id"]})
    assert response.status_code == 409
    threads = ok(lab["member"].get(f"{API}/communities/lab/threads"))["items"]
    assert threads == []


# Creating ------------------------------------------------------------------------

def test_creation_is_validated_and_reserved_to_moderators(lab, clock, make_community):
    make_community(lab["owner"], "staff", audiences=["employee"])
    url = f"{API}/communities/lab/challenges"
    base = {"title": "T", "brief": "Q?", **schedule()}
    assert lab["member"].post(url, json=base).status_code == 403
    cases = [
        ({"voting_starts_at": "2026-05-01T00:00:00Z"}, "voting_starts_at"),
        ({"closes_at": "2026-05-01T00:00:00"}, "closes_at"),  # no time zone
        ({"audiences": ["robot"]}, "audiences"),
        ({"audience_weights": {"customer": 2}, "audiences": ["employee"]}, "audience_weights"),
        ({"audience_weights": {"partner": 0}}, "audience_weights"),
        ({"max_points_per_idea": 11}, "max_points_per_idea"),
        ({"sponsor_id": 999999}, "sponsor_id"),
        ({"unknown": 1}, "unknown"),
    ]
    for change, field in cases:
        response = lab["owner"].post(url, json={**base, **change})
        assert response.status_code == 422, (change, response.get_json())
        assert field in response.get_json()["errors"], (change, response.get_json())
    staff = lab["owner"].post(f"{API}/communities/staff/challenges",
                              json={**base, "audiences": ["employee", "partner"]})
    assert staff.status_code == 422 and "audiences" in staff.get_json()["errors"]
    created = ok(lab["owner"].post(url, json=base), 201)
    assert created["audiences"] == ["customer", "employee", "partner"]
    assert created["sponsor"]["handle"] == "olga" and created["vote_budget"] == 10


# Budgets -------------------------------------------------------------------------

def test_budget_moves_points_and_never_overspends(lab, clock):
    challenge = _challenge(lab, clock)
    cid = challenge["id"]
    clock.at("submission")
    a, b, c = (submit_idea(lab["member"], "lab", cid, t) for t in ("A", "B", "C"))
    clock.at("voting")
    budget = ok(lab["partner"].get(f"{API}/challenges/{cid}/budget"))
    assert (budget["budget"], budget["spent"], budget["left"]) == (10, 0, 10)
    ok(put_points(lab["partner"], cid, a["id"], 4))
    ok(put_points(lab["partner"], cid, b["id"], 4))
    over = put_points(lab["partner"], cid, c["id"], 4)
    assert over.status_code == 409
    assert (over.get_json()["left"], over.get_json()["errors"]) == (2, {"points": ["At most 2."]})
    too_many = put_points(lab["partner"], cid, c["id"], 5)
    assert too_many.status_code == 422 and "points" in too_many.get_json()["errors"]
    budget = ok(put_points(lab["partner"], cid, c["id"], 2))
    assert (budget["spent"], budget["left"]) == (10, 0)
    # Move points: take them off A, put more on C (within its cap).
    ok(put_points(lab["partner"], cid, a["id"], 0))
    budget = ok(put_points(lab["partner"], cid, c["id"], 4))
    assert budget["allocations"] == [{"thread_id": b["id"], "points": 4},
                                     {"thread_id": c["id"], "points": 4}]
    assert (budget["spent"], budget["left"]) == (8, 2)
    not_an_idea = make_thread(lab["member"], "lab", "idea", title="Outside")
    assert put_points(lab["partner"], cid, not_an_idea["id"], 1).status_code == 404
    clock.at("evaluation")
    assert put_points(lab["partner"], cid, b["id"], 0).status_code == 409
    assert ok(lab["partner"].get(f"{API}/challenges/{cid}/budget"))["spent"] == 8


def test_points_on_a_deleted_idea_return_to_the_budget(lab, clock):
    challenge = _challenge(lab, clock)
    cid = challenge["id"]
    clock.at("submission")
    a, b = (submit_idea(lab["member"], "lab", cid, t) for t in ("A", "B"))
    clock.at("voting")
    ok(put_points(lab["partner"], cid, a["id"], 4))
    ok(put_points(lab["partner"], cid, b["id"], 4))
    assert lab["member"].delete(f"{API}/threads/{a['id']}").status_code == 204
    budget = ok(lab["partner"].get(f"{API}/challenges/{cid}/budget"))
    assert (budget["spent"], budget["left"], budget["allocations"]) == (
        4, 6, [{"thread_id": b["id"], "points": 4}])
    assert put_points(lab["partner"], cid, a["id"], 1).status_code == 404
    assert ok(lab["partner"].get(f"{API}/challenges/{cid}"))["counts"]["ideas"] == 1


def test_results_are_raw_and_weighted_and_split_by_audience(lab, clock):
    challenge = _challenge(lab, clock)  # partner points count double
    cid = challenge["id"]
    clock.at("submission")
    a = submit_idea(lab["member"], "lab", cid, "Employees like it")
    b = submit_idea(lab["member"], "lab", cid, "Partners like it")
    clock.at("voting")
    ok(put_points(lab["member"], cid, a["id"], 3))
    ok(put_points(lab["evaluator"], cid, a["id"], 2))
    ok(put_points(lab["partner"], cid, b["id"], 4))
    ok(put_points(lab["member"], cid, b["id"], 1))
    results = ok(lab["member"].get(f"{API}/challenges/{cid}/results"))
    assert results["audience_weights"] == {"employee": 1.0, "partner": 2.0}
    by_id = {i["thread_id"]: i for i in results["ideas"]}
    assert [i["thread_id"] for i in results["ideas"]] == [b["id"], a["id"]]  # weighted order
    assert (by_id[a["id"]]["votes"]["points"], by_id[a["id"]]["votes"]["weighted_points"],
            by_id[a["id"]]["votes"]["voters"]) == (5, 5.0, 2)
    assert (by_id[b["id"]]["votes"]["points"], by_id[b["id"]]["votes"]["weighted_points"],
            by_id[b["id"]]["votes"]["voters"]) == (5, 9.0, 2)
    assert by_id[b["id"]]["votes"]["by_audience"] == {
        "employee": {"points": 1, "voters": 1, "weight": 1.0, "weighted_points": 1.0},
        "partner": {"points": 4, "voters": 1, "weight": 2.0, "weighted_points": 8.0},
        "customer": {"points": 0, "voters": 0, "weight": 1.0, "weighted_points": 0.0}}
    assert by_id[b["id"]]["my_points"] == 1
    challenge_out = ok(lab["member"].get(f"{API}/challenges/{cid}"))
    assert challenge_out["counts"] == {"ideas": 2, "voters": 3, "points": 10}


def test_weights_are_fixed_once_voting_starts(lab, clock):
    challenge = _challenge(lab, clock)
    url = f"{API}/challenges/{challenge['id']}"
    clock.at("submission")
    changed = ok(lab["sponsor"].patch(url, json={"audience_weights": {"partner": 3}}))
    assert changed["audience_weights"] == {"partner": 3.0}
    clock.at("voting")
    assert lab["sponsor"].patch(url, json={"audience_weights": {"partner": 1}}).status_code == 409
    assert lab["sponsor"].patch(url, json={"vote_budget": 20}).status_code == 409
    assert ok(lab["sponsor"].patch(url, json={"title": "Sharper"}))["title"] == "Sharper"
    assert lab["member"].patch(url, json={"title": "Mine"}).status_code == 403


# Evaluation --------------------------------------------------------------------------

def test_evaluators_are_blind_until_they_scored_and_the_panel_split_shows(lab, clock):
    challenge = _challenge(lab, clock)
    cid = challenge["id"]
    clock.at("submission")
    idea = submit_idea(lab["member"], "lab", cid, "Buddy programme")
    other = submit_idea(lab["member"], "lab", cid, "Not shortlisted")
    clock.at("voting")
    assert lab["member"].put(f"{API}/challenges/{cid}/shortlist",
                             json={"thread_ids": [idea["id"]]}).status_code == 403
    ok(lab["moderator"].put(f"{API}/challenges/{cid}/shortlist", json={"thread_ids": [idea["id"]]}))
    criteria = _criteria(lab["sponsor"], cid)
    clock.at("evaluation")
    score_url = f"{API}/challenges/{cid}/ideas/{idea['id']}/scores"
    assert lab["evaluator"].put(f"{API}/challenges/{cid}/ideas/{other['id']}/scores",
                                json=_scorecard(cid, (3, 3), criteria)).status_code == 409
    incomplete = lab["evaluator"].put(score_url, json={"scores": [
        {"criterion_id": criteria[0]["id"], "value": 5, "comment": "c"}]})
    assert incomplete.status_code == 422 and "Effort" in incomplete.get_json()["errors"]["scores"][0]
    out_of_scale = lab["evaluator"].put(score_url, json=_scorecard(cid, (6, 1), criteria))
    assert out_of_scale.status_code == 422
    mine = ok(lab["evaluator"].put(score_url, json=_scorecard(cid, (5, 1), criteria)))
    assert mine["visible"] is True and mine["evaluators"] == 1
    # The second evaluator has not scored: sees only that one did, none of the numbers.
    blind = ok(lab["evaluator2"].get(f"{API}/challenges/{cid}/evaluation"))
    assert blind["access"] == "own-first"
    assert blind["ideas"][0]["visible"] is False
    assert blind["ideas"][0]["scorecards"] == [] and blind["ideas"][0]["weighted_mean"] is None
    assert blind["ideas"][0]["criteria"] == []
    lineage = ok(lab["evaluator2"].get(f"{API}/threads/{idea['id']}/lineage"))
    assert lineage["evaluation"]["scorecards"] == []
    # Participants see nothing during evaluation.
    assert ok(lab["member"].get(f"{API}/challenges/{cid}/evaluation"))["ideas"][0]["visible"] is False
    both = ok(lab["evaluator2"].put(score_url, json=_scorecard(cid, (1, 5), criteria)))
    assert both["visible"] is True and len(both["scorecards"]) == 2
    # Totals on 0-100: (2·5/5 + 1·1/5)/3 = 73.3 and (2·1/5 + 1·5/5)/3 = 46.7.
    assert sorted(c["weighted_score"] for c in both["scorecards"]) == pytest.approx(
        [140 / 3, 220 / 3])
    assert both["weighted_mean"] == pytest.approx(60.0)
    assert both["spread"]["range"] == pytest.approx(80 / 3)
    assert [(c["name"], c["mean"], c["min"], c["max"]) for c in both["criteria"]] == [
        ("Impact", 3.0, 1, 5), ("Effort", 3.0, 1, 5)]
    sponsor_view = ok(lab["sponsor"].get(f"{API}/challenges/{cid}/evaluation"))
    assert sponsor_view["access"] == "all" and len(sponsor_view["ideas"][0]["scorecards"]) == 2
    assert lab["sponsor"].put(f"{API}/challenges/{cid}/criteria",
                              json={"criteria": CRITERIA}).status_code == 409
    clock.at("decided")
    public = ok(lab["member"].get(f"{API}/challenges/{cid}/evaluation"))["ideas"][0]
    assert public["visible"] is True and public["weighted_mean"] == pytest.approx(60.0)
    assert public["scorecards"] == []  # aggregates only: no evaluator's card


def test_only_the_sponsor_names_evaluators(lab, clock):
    challenge = _challenge(lab, clock)
    url = f"{API}/challenges/{challenge['id']}/evaluators"
    assert lab["moderator"].put(url, json={"user_ids": [lab["member"].id]}).status_code == 403
    assert lab["sponsor"].put(url, json={"user_ids": [999999]}).status_code == 422
    panel = ok(lab["sponsor"].put(url, json={"user_ids": [lab["member"].id]}))
    assert [e["user"]["handle"] for e in panel] == ["emma"]


# Decisions, outcomes, the report and lineage ------------------------------------------------

def _decided_challenge(lab, clock) -> tuple[dict, dict]:
    challenge = _challenge(lab, clock)
    cid = challenge["id"]
    clock.at("draft")
    question = make_thread(lab["member"], "lab", "question", title="Why is onboarding slow?")
    clock.at("submission")
    ideas = {name: submit_idea(author, "lab", cid, name) for name, author in (
        ("Buddy", lab["member"]), ("Sandbox", lab["partner"]), ("Videos", lab["member"]))}
    ok(lab["member"].put(f"{API}/threads/{ideas['Buddy']['id']}/origin",
                         json={"origin_thread_id": question["id"]}))
    clock.at("voting")
    ok(put_points(lab["member"], cid, ideas["Buddy"]["id"], 4))
    ok(put_points(lab["partner"], cid, ideas["Buddy"]["id"], 3))
    ok(put_points(lab["partner"], cid, ideas["Sandbox"]["id"], 4))
    ok(lab["sponsor"].put(f"{API}/challenges/{cid}/shortlist",
                          json={"thread_ids": [ideas["Buddy"]["id"], ideas["Sandbox"]["id"]]}))
    criteria = _criteria(lab["sponsor"], cid)
    clock.at("evaluation")
    for evaluator, values in (("evaluator", (5, 4)), ("evaluator2", (4, 4))):
        ok(lab[evaluator].put(f"{API}/challenges/{cid}/ideas/{ideas['Buddy']['id']}/scores",
                              json=_scorecard(cid, values, criteria)))
    clock.at("decided")
    return challenge, {**ideas, "question": question}


def test_decisions_move_ideas_through_their_lifecycle_and_outcomes_follow(lab, clock):
    challenge, ideas = _decided_challenge(lab, clock)
    cid = challenge["id"]
    decision_url = f"{API}/challenges/{cid}/ideas/{{}}/decision"
    assert lab["moderator"].put(decision_url.format(ideas["Buddy"]["id"]), json={
        "decision": "accepted", "rationale": "x"}).status_code == 403
    bad = lab["sponsor"].put(decision_url.format(ideas["Buddy"]["id"]),
                             json={"decision": "maybe", "rationale": "x"})
    assert bad.status_code == 422 and "decision" in bad.get_json()["errors"]
    for name, decision in (("Buddy", "accepted"), ("Sandbox", "declined"), ("Videos", "parked")):
        ok(lab["sponsor"].put(decision_url.format(ideas[name]["id"]), json={
            "decision": decision, "rationale": f"{name}: {decision} because reasons."}))
    assert get_thread(lab["member"], ideas["Buddy"]["id"])["status"] == "planned"
    assert get_thread(lab["member"], ideas["Sandbox"]["id"])["status"] == "declined"
    assert get_thread(lab["member"], ideas["Videos"]["id"])["status"] == "new"
    history = get_thread(lab["member"], ideas["Buddy"]["id"])["status_history"]
    assert [(h["to_status"], h["actor"]["handle"]) for h in history] == [("planned", "sam")]
    assert "because reasons" in history[0]["note"]
    decisions = ok(lab["partner"].get(f"{API}/challenges/{cid}/decisions"))
    assert [(d["decision"], d["rationale"]) for d in decisions][0] == (
        "accepted", "Buddy: accepted because reasons.")
    # Outcomes: for accepted ideas, by sponsor and moderators.
    outcome_url = f"{API}/challenges/{cid}/ideas/{{}}/outcomes"
    outcome = {"metric": "Median onboarding days", "baseline": 10, "target": 5, "measured": 6,
               "measured_on": "2026-11-30", "note": "First two cohorts."}
    assert lab["sponsor"].post(outcome_url.format(ideas["Sandbox"]["id"]),
                               json=outcome).status_code == 409
    assert lab["member"].post(outcome_url.format(ideas["Buddy"]["id"]),
                              json=outcome).status_code == 403
    bad = lab["sponsor"].post(outcome_url.format(ideas["Buddy"]["id"]), json={
        **outcome, "baseline": "ten"})
    assert bad.status_code == 422 and "baseline" in bad.get_json()["errors"]
    recorded = ok(lab["sponsor"].post(outcome_url.format(ideas["Buddy"]["id"]), json=outcome), 201)
    assert (recorded["measured"], recorded["measured_on"]) == (6.0, "2026-11-30")
    clock.at("closed")
    ok(lab["moderator"].post(outcome_url.format(ideas["Buddy"]["id"]), json={
        **outcome, "measured": 5, "measured_on": "2027-03-01"}), 201)
    assert lab["sponsor"].put(decision_url.format(ideas["Videos"]["id"]), json={
        "decision": "accepted", "rationale": "x"}).status_code == 409
    assert [o["measured"] for o in ok(lab["partner"].get(f"{API}/challenges/{cid}/outcomes"))] \
        == [6.0, 5.0]
    # Implementation goes on through the existing lifecycle.
    ok(lab["moderator"].post(f"{API}/threads/{ideas['Buddy']['id']}/status",
                             json={"status": "in_progress", "note": "Staffed."}), 201)


def test_the_report_traces_everything(lab, clock):
    challenge, ideas = _decided_challenge(lab, clock)
    cid = challenge["id"]
    ok(lab["sponsor"].put(f"{API}/challenges/{cid}/ideas/{ideas['Buddy']['id']}/decision",
                          json={"decision": "accepted", "rationale": "Best value."}))
    ok(lab["sponsor"].post(f"{API}/challenges/{cid}/ideas/{ideas['Buddy']['id']}/outcomes",
                           json={"metric": "Days", "baseline": 10, "target": 5}), 201)
    report = ok(lab["partner"].get(f"{API}/challenges/{cid}/report"))
    assert report["challenge"]["phase"] == "decided"
    assert report["participation"]["by_audience"]["employee"] == {
        "submitters": 1, "voters": 1, "points": 4}
    assert report["participation"]["by_audience"]["partner"] == {
        "submitters": 1, "voters": 1, "points": 7}
    assert (report["participation"]["submitters"], report["participation"]["voters"],
            report["participation"]["points"]) == (2, 2, 11)
    by_title = {i["title"]: i for i in report["ideas"]}
    assert set(by_title) == {"Buddy", "Sandbox", "Videos"}
    assert (by_title["Buddy"]["votes"]["points"], by_title["Buddy"]["votes"]["weighted_points"]) \
        == (7, 10.0)
    assert sorted(report["shortlist"]) == sorted([ideas["Buddy"]["id"], ideas["Sandbox"]["id"]])
    buddy_scores = by_title["Buddy"]["evaluation"]
    assert buddy_scores["evaluators"] == 2 and buddy_scores["scorecards"] == []
    assert buddy_scores["weighted_mean"] == pytest.approx(100 * ((2 * 4.5 / 5) + 4 / 5) / 3)
    assert [d["decision"] for d in report["decisions"]] == ["accepted"]
    assert [o["metric"] for o in report["outcomes"]] == ["Days"]
    assert [c["name"] for c in report["criteria"]] == ["Impact", "Effort"]
    # The sponsor's report carries each evaluator's scorecard.
    sponsor_report = ok(lab["sponsor"].get(f"{API}/challenges/{cid}/report"))
    assert len({i["title"]: i for i in sponsor_report["ideas"]}["Buddy"]["evaluation"][
        "scorecards"]) == 2


def test_an_idea_shows_its_lineage(lab, clock):
    challenge, ideas = _decided_challenge(lab, clock)
    cid = challenge["id"]
    buddy = ideas["Buddy"]["id"]
    ok(lab["sponsor"].put(f"{API}/challenges/{cid}/ideas/{buddy}/decision",
                          json={"decision": "accepted", "rationale": "Best value."}))
    ok(lab["sponsor"].post(f"{API}/challenges/{cid}/ideas/{buddy}/outcomes",
                           json={"metric": "Days", "baseline": 10, "target": 5, "measured": 7}),
       201)
    lineage = ok(lab["partner"].get(f"{API}/threads/{buddy}/lineage"))
    assert lineage["origin"] == {"thread_id": ideas["question"]["id"],
                                 "title": "Why is onboarding slow?", "kind": "question"}
    assert lineage["challenge"] == {"id": cid, "title": challenge["title"], "phase": "decided"}
    assert lineage["votes"]["points"] == 7 and lineage["shortlisted"] is True
    assert lineage["evaluation"]["evaluators"] == 2
    assert lineage["decision"]["decision"] == "accepted"
    assert [h["to_status"] for h in lineage["status_history"]] == ["planned"]
    assert [o["measured"] for o in lineage["outcomes"]] == [7.0]
    plain = make_thread(lab["member"], "lab", "idea", title="No challenge")
    bare = ok(lab["member"].get(f"{API}/threads/{plain['id']}/lineage"))
    assert (bare["challenge"], bare["votes"], bare["origin"]) == (None, None, None)
    # Origin: same community, by the author or moderators.
    assert lab["partner"].put(f"{API}/threads/{plain['id']}/origin",
                              json={"origin_thread_id": buddy}).status_code == 403
    assert lab["member"].put(f"{API}/threads/{plain['id']}/origin",
                             json={"origin_thread_id": plain["id"]}).status_code == 422


# Who sees what ----------------------------------------------------------------------------

def test_a_customer_never_sees_an_employee_only_challenge(lab, clock, make_user, make_community):
    clock.at("draft")
    challenge = create_challenge(lab["owner"], "lab", audiences=["employee"])
    cid = challenge["id"]
    clock.at("submission")
    idea = submit_idea(lab["member"], "lab", cid, "Staff only")
    clock.at("voting")
    ok(put_points(lab["member"], cid, idea["id"], 2))
    customer = lab["customer"]
    for path in ("", "/ideas", "/results", "/report", "/budget", "/evaluation", "/criteria",
                 "/evaluators", "/decisions", "/outcomes", "/phase-changes"):
        response = customer.get(f"{API}/challenges/{cid}{path}")
        assert response.status_code == 404, path
        assert "Staff only" not in response.get_data(as_text=True)
    assert put_points(customer, cid, idea["id"], 1).status_code == 404
    for url in (f"{API}/challenges", f"{API}/communities/lab/challenges",
                f"{API}/challenges?community=lab", f"{API}/challenges?phase=voting"):
        assert ok(customer.get(url))["items"] == [], url
    # Lineage of the idea (a thread of a community the customer sees) tells nothing of it.
    lineage = ok(customer.get(f"{API}/threads/{idea['id']}/lineage"))
    assert (lineage["challenge"], lineage["votes"]) == (None, None)
    # The employee sees it, with its counts.
    assert ok(lab["member"].get(f"{API}/challenges/{cid}"))["counts"]["points"] == 2
    assert [c["id"] for c in ok(lab["member"].get(f"{API}/challenges"))["items"]] == [cid]


def test_drafts_and_private_communities_stay_hidden(lab, clock, make_user, make_community):
    clock.at("draft")
    draft = create_challenge(lab["owner"], "lab", sponsor_id=lab["sponsor"].id)
    for role, status in (("member", 404), ("outsider", 404), ("sponsor", 200), ("moderator", 200)):
        assert lab[role].get(f"{API}/challenges/{draft['id']}").status_code == status, role
    make_community(lab["owner"], "board", visibility="private", audiences=["employee"])
    hidden = create_challenge(lab["owner"], "board")
    clock.at("voting")
    assert lab["member"].get(f"{API}/challenges/{hidden['id']}").status_code == 404
    assert lab["member"].get(f"{API}/communities/board/challenges").status_code == 404
    assert [c["id"] for c in ok(lab["member"].get(f"{API}/challenges"))["items"]] == [draft["id"]]
    admin = make_user("root", is_admin=True)
    assert {c["id"] for c in ok(admin.get(f"{API}/challenges"))["items"]} == {
        draft["id"], hidden["id"]}


def test_challenges_are_listed_by_community_phase_and_sponsor(lab, clock, make_community):
    make_community(lab["owner"], "other", audiences=["employee"])
    clock.at("draft")
    early = create_challenge(lab["owner"], "lab", sponsor_id=lab["sponsor"].id)
    late = create_challenge(lab["owner"], "lab", **schedule(
        submission_starts_at="2026-06-01T00:00:00Z", voting_starts_at="2026-06-02T00:00:00Z",
        evaluation_starts_at="2026-06-03T00:00:00Z", decided_starts_at="2026-06-04T00:00:00Z",
        closes_at="2026-06-05T00:00:00Z"))
    elsewhere = create_challenge(lab["owner"], "other")
    clock.at("voting")
    member = lab["moderator"]

    def listed(url):
        return [c["id"] for c in ok(member.get(url))["items"]]

    assert listed(f"{API}/challenges") == [elsewhere["id"], late["id"], early["id"]]
    assert listed(f"{API}/challenges?community=lab") == [late["id"], early["id"]]
    assert listed(f"{API}/communities/lab/challenges?phase=voting") == [early["id"]]
    assert listed(f"{API}/challenges?phase=draft") == [late["id"]]
    assert listed(f"{API}/challenges?sponsor={lab['sponsor'].id}") == [early["id"]]
    assert listed(f"{API}/challenges?community=nowhere") == []
    page = ok(member.get(f"{API}/challenges?limit=2"))
    assert len(page["items"]) == 2 and page["next_cursor"]
    bad = member.get(f"{API}/challenges?phase=brainstorm")
    assert bad.status_code == 422 and "phase" in bad.get_json()["errors"]


def test_openapi_documents_challenges_with_examples(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    create = spec["paths"]["/api/v1/communities/{slug}/challenges"]["post"]
    assert create["requestBody"]["content"]["application/json"]["example"]["vote_budget"] == 10
    vote = spec["paths"]["/api/v1/challenges/{challenge_id}/votes/{thread_id}"]["put"]
    assert vote["responses"]["409"]["content"]["application/json"]["example"]["phase"] == \
        "submission"
    for path in ("/api/v1/challenges/{challenge_id}/report", "/api/v1/threads/{thread_id}/lineage",
                 "/api/v1/challenges/{challenge_id}/evaluation"):
        assert "get" in spec["paths"][path]
