"""Ideas: voting, the status lifecycle, merging duplicates, and the top and trending rankings."""
import math
from datetime import UTC, datetime, timedelta

import pytest

from collab.ideas import ranking
from tests.api.content import (
    API,
    get_thread,
    join,
    list_all,
    make_post,
    make_thread,
    promote,
    set_status,
    vote,
)

EMPTY_TALLY = {"employee": {"up": 0, "down": 0}, "partner": {"up": 0, "down": 0},
               "customer": {"up": 0, "down": 0}}


@pytest.fixture
def space(make_user, make_community):
    """An open community for all audiences, with an owner, a moderator and two members."""
    owner, moderator, member, other = (make_user("olga"), make_user("mo"), make_user("mia"),
                                       make_user("otto"))
    make_community(owner, "space", audiences=["employee", "partner", "customer"])
    promote(owner, moderator, "space")
    join(member, "space")
    join(other, "space")
    return {"owner": owner, "moderator": moderator, "member": member, "other": other}


@pytest.fixture
def voters(make_user):
    """voters(n) -> n new members of "space"."""
    def make(n: int, **kwargs):
        callers = [make_user(**kwargs) for _ in range(n)]
        for caller in callers:
            join(caller, "space")
        return callers
    return make


@pytest.fixture
def clock(monkeypatch):
    """The one clock (collab.time.now), frozen and moved by hand."""
    class Clock:
        now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

        def advance(self, **delta):
            self.now += timedelta(**delta)

    frozen = Clock()
    monkeypatch.setattr("collab.time.now", lambda: frozen.now)
    return frozen


# Votes ----------------------------------------------------------------------

def test_vote_change_withdraw_and_repeat(space):
    member, other = space["member"], space["other"]
    idea = make_thread(member, "space", "idea")
    url = f"{API}/threads/{idea['id']}/vote"
    up = vote(member, idea["id"], 1)
    assert {k: up[k] for k in ("thread_id", "score", "upvotes", "downvotes", "my_vote")} == {
        "thread_id": idea["id"], "score": 1, "upvotes": 1, "downvotes": 0, "my_vote": 1}
    assert up["votes_by_audience"] == {**EMPTY_TALLY, "employee": {"up": 1, "down": 0}}
    assert up["top_score"] == pytest.approx(ranking.wilson_lower_bound(1, 0))
    assert up["trending_score"] > idea["trending_score"]
    # The same vote again changes nothing, stored ranks included.
    assert vote(member, idea["id"], 1) == up
    assert get_thread(other, idea["id"])["my_vote"] is None
    assert get_thread(member, idea["id"])["upvotes"] == 1
    down = vote(member, idea["id"], -1)
    assert (down["score"], down["upvotes"], down["downvotes"], down["my_vote"]) == (-1, 0, 1, -1)
    assert down["votes_by_audience"]["employee"] == {"up": 0, "down": 1}
    assert down["top_score"] == 0
    vote(other, idea["id"], 1)
    withdrawn = member.delete(url)
    assert withdrawn.status_code == 200
    body = withdrawn.get_json()
    assert (body["score"], body["upvotes"], body["downvotes"], body["my_vote"]) == (1, 1, 0, None)
    assert member.delete(url).get_json() == body  # withdrawing twice is harmless
    thread = get_thread(other, idea["id"])
    assert (thread["score"], thread["my_vote"]) == (1, 1)


def test_votes_by_audience(space, make_user):
    member = space["member"]
    idea = make_thread(member, "space", "idea")
    partners = [make_user(audience="partner", organization="acme") for _ in range(2)]
    customer = make_user(audience="customer", organization="globex")
    for caller in (*partners, customer):
        join(caller, "space")
    vote(member, idea["id"], 1)
    vote(space["other"], idea["id"], -1)
    vote(partners[0], idea["id"], 1)
    vote(partners[1], idea["id"], 1)
    vote(customer, idea["id"], -1)
    expected = {"employee": {"up": 1, "down": 1}, "partner": {"up": 2, "down": 0},
                "customer": {"up": 0, "down": 1}}
    assert get_thread(member, idea["id"])["votes_by_audience"] == expected
    listed = list_all(customer, f"{API}/communities/space/threads?kind=idea")
    assert listed[0]["votes_by_audience"] == expected and listed[0]["my_vote"] == -1
    assert (listed[0]["upvotes"], listed[0]["downvotes"], listed[0]["score"]) == (3, 2, 1)


@pytest.mark.parametrize("payload, field", [
    ({}, "value"), ({"value": 0}, "value"), ({"value": 2}, "value"), ({"value": "1"}, "value"),
    ({"value": True}, "value"), ({"value": 1.5}, "value"), ({"value": None}, "value"),
    ({"value": 1, "weight": 3}, "weight"),
])
def test_vote_validation_errors_name_the_field(space, payload, field):
    idea = make_thread(space["member"], "space", "idea")
    response = space["member"].put(f"{API}/threads/{idea['id']}/vote", json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert get_thread(space["member"], idea["id"])["upvotes"] == 0


def test_vote_malformed_json_is_400(space):
    idea = make_thread(space["member"], "space", "idea")
    response = space["member"].put(f"{API}/threads/{idea['id']}/vote", data="{",
                                   content_type="application/json")
    assert response.status_code == 400


def test_votes_only_on_ideas(space):
    for kind in ("discussion", "question", "announcement"):
        thread = make_thread(space["owner"], "space", kind)
        response = space["member"].put(f"{API}/threads/{thread['id']}/vote", json={"value": 1})
        assert response.status_code == 409
        assert space["member"].delete(f"{API}/threads/{thread['id']}/vote").status_code == 409
        assert get_thread(space["member"], thread["id"])["upvotes"] == 0


def test_voting_needs_an_active_membership_in_a_live_community(space, make_user):
    idea = make_thread(space["member"], "space", "idea")
    stranger = make_user("stan")
    assert stranger.put(f"{API}/threads/{idea['id']}/vote", json={"value": 1}).status_code == 403
    space["owner"].patch(f"{API}/communities/space", json={"archived": True})
    assert space["member"].put(f"{API}/threads/{idea['id']}/vote", json={"value": 1}).status_code == 403
    assert get_thread(stranger, idea["id"])["upvotes"] == 0


def test_locked_idea_refuses_member_votes(space):
    idea = make_thread(space["member"], "space", "idea")
    space["moderator"].patch(f"{API}/threads/{idea['id']}", json={"locked": True})
    assert space["member"].put(f"{API}/threads/{idea['id']}/vote", json={"value": 1}).status_code == 403
    assert vote(space["moderator"], idea["id"], 1)["upvotes"] == 1


@pytest.mark.parametrize("final", ["done", "declined"])
def test_votes_freeze_when_done_or_declined(space, final):
    member, owner = space["member"], space["owner"]
    idea = make_thread(member, "space", "idea")
    vote(member, idea["id"], 1)
    set_status(owner, idea["id"], final, note="Decided.")
    url = f"{API}/threads/{idea['id']}/vote"
    assert space["other"].put(url, json={"value": 1}).status_code == 409
    assert member.put(url, json={"value": -1}).status_code == 409
    assert member.delete(url).status_code == 409
    thread = get_thread(member, idea["id"])
    assert (thread["upvotes"], thread["downvotes"], thread["my_vote"]) == (1, 0, 1)
    if final == "declined":  # reopening for review unfreezes
        set_status(owner, idea["id"], "under_review")
        assert vote(space["other"], idea["id"], 1)["upvotes"] == 2


# Status ----------------------------------------------------------------------

def test_status_lifecycle_and_history(space):
    member, owner, moderator = space["member"], space["owner"], space["moderator"]
    idea = make_thread(member, "space", "idea")
    steps = [(owner, "under_review", "Looking."), (moderator, "planned", "Q3."),
             (owner, "in_progress", ""), (moderator, "done", "Shipped in 2.1.")]
    for actor, status, note in steps:
        change = set_status(actor, idea["id"], status, note)
        assert change["to_status"] == status and change["note"] == note
        assert change["actor"]["id"] == actor.id
    history = member.get(f"{API}/threads/{idea['id']}/status").get_json()
    assert [(h["from_status"], h["to_status"], h["note"], h["actor"]["handle"]) for h in history] == [
        ("new", "under_review", "Looking.", "olga"), ("under_review", "planned", "Q3.", "mo"),
        ("planned", "in_progress", "", "olga"), ("in_progress", "done", "Shipped in 2.1.", "mo")]
    thread = get_thread(member, idea["id"])
    assert thread["status"] == "done" and thread["status_history"] == history
    assert [t["id"] for t in list_all(member, f"{API}/communities/space/threads?status=done")] == [
        idea["id"]]


def test_status_note_is_optional_and_steps_may_be_skipped(space):
    idea = make_thread(space["member"], "space", "idea")
    response = space["owner"].post(f"{API}/threads/{idea['id']}/status", json={"status": "planned"})
    assert response.status_code == 201 and response.get_json()["note"] == ""
    assert get_thread(space["member"], idea["id"])["status"] == "planned"


@pytest.mark.parametrize("path, target", [
    (["done"], "new"), (["done"], "declined"), ([], "new"), (["planned"], "under_review"),
    (["in_progress"], "new"), (["declined"], "planned"), (["declined"], "declined"),
])
def test_invalid_transitions_are_409_with_detail(space, path, target):
    owner = space["owner"]
    idea = make_thread(space["member"], "space", "idea")
    for status in path:
        set_status(owner, idea["id"], status)
    response = owner.post(f"{API}/threads/{idea['id']}/status", json={"status": target})
    assert response.status_code == 409
    detail = response.get_json()["detail"]
    assert target in detail and (path[-1] if path else "new") in detail
    assert len(owner.get(f"{API}/threads/{idea['id']}/status").get_json()) == len(path)


@pytest.mark.parametrize("payload, field", [
    ({}, "status"), ({"status": "open"}, "status"), ({"status": "answered"}, "status"),
    ({"status": "shipped"}, "status"), ({"status": "planned", "note": 5}, "note"),
    ({"status": "planned", "note": "x" * 5001}, "note"), ({"status": "planned", "why": "x"}, "why"),
])
def test_status_validation_errors_name_the_field(space, payload, field):
    idea = make_thread(space["member"], "space", "idea")
    response = space["owner"].post(f"{API}/threads/{idea['id']}/status", json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert get_thread(space["member"], idea["id"])["status"] == "new"


def test_status_changes_by_owners_and_moderators_only_and_only_on_ideas(space):
    idea = make_thread(space["member"], "space", "idea")
    response = space["member"].post(f"{API}/threads/{idea['id']}/status", json={"status": "planned"})
    assert response.status_code == 403
    question = make_thread(space["member"], "space", "question")
    response = space["owner"].post(f"{API}/threads/{question['id']}/status", json={"status": "planned"})
    assert response.status_code == 409
    assert space["member"].get(f"{API}/threads/{question['id']}/status").get_json() == []
    assert get_thread(space["member"], idea["id"])["status"] == "new"


# Merging ---------------------------------------------------------------------

def test_merge_moves_votes_and_leaves_a_read_only_pointer(space, voters):
    member, moderator = space["member"], space["moderator"]
    duplicate = make_thread(member, "space", "idea", title="Dark mode please")
    target = make_thread(space["other"], "space", "idea", title="Dark mode")
    only_dup_up, both, only_target, only_dup_down = voters(4)
    vote(only_dup_up, duplicate["id"], 1)
    vote(both, duplicate["id"], -1)
    vote(both, target["id"], 1)
    vote(only_target, target["id"], 1)
    vote(only_dup_down, duplicate["id"], -1)

    response = moderator.post(f"{API}/threads/{duplicate['id']}/merge", json={"into": target["id"]})
    assert response.status_code == 200, response.get_json()
    merged = response.get_json()
    assert merged["merged_into"] == target["id"] and merged["locked"] is True
    assert (merged["upvotes"], merged["downvotes"], merged["top_score"]) == (0, 0, 0)

    after = get_thread(both, target["id"])
    assert (after["upvotes"], after["downvotes"], after["my_vote"]) == (3, 1, 1)  # target vote won
    assert after["votes_by_audience"]["employee"] == {"up": 3, "down": 1}
    assert after["top_score"] == pytest.approx(ranking.wilson_lower_bound(3, 1))
    assert get_thread(only_dup_up, target["id"])["my_vote"] == 1
    assert get_thread(only_dup_down, target["id"])["my_vote"] == -1
    # The duplicate still answers a GET, points at the target, and is out of the lists.
    still = get_thread(member, duplicate["id"])
    assert still["merged_into"] == target["id"] and still["title"] == "Dark mode please"
    assert [t["id"] for t in list_all(member, f"{API}/communities/space/threads")] == [target["id"]]
    # ... and is read-only, for moderators too.
    url = f"{API}/threads/{duplicate['id']}"
    assert only_dup_up.put(f"{url}/vote", json={"value": 1}).status_code == 409
    assert only_dup_up.delete(f"{url}/vote").status_code == 409
    assert moderator.post(f"{url}/posts", json={"body": "x"}).status_code == 409
    assert moderator.patch(url, json={"locked": False}).status_code == 409
    assert moderator.post(f"{url}/status", json={"status": "planned"}).status_code == 409
    assert moderator.post(f"{url}/merge", json={"into": target["id"]}).status_code == 409
    other_idea = make_thread(member, "space", "idea")
    response = moderator.post(f"{API}/threads/{other_idea['id']}/merge", json={"into": duplicate["id"]})
    assert response.status_code == 422 and "into" in response.get_json()["errors"]


def test_merge_rules(space, make_community):
    member, moderator, owner = space["member"], space["moderator"], space["owner"]
    idea, target = make_thread(member, "space", "idea"), make_thread(member, "space", "idea")
    question = make_thread(member, "space", "question")
    make_community(owner, "elsewhere")
    foreign = make_thread(owner, "elsewhere", "idea")
    deleted = make_thread(member, "space", "idea")
    member.delete(f"{API}/threads/{deleted['id']}")
    url = f"{API}/threads/{idea['id']}/merge"
    assert member.post(url, json={"into": target["id"]}).status_code == 403
    for into in (idea["id"], question["id"], foreign["id"], deleted["id"], 999999, "two", 0, None):
        response = moderator.post(url, json={"into": into})
        assert response.status_code == 422, (into, response.get_json())
        assert "into" in response.get_json()["errors"]
    for payload, field in (({}, "into"), ({"into": target["id"], "keep": True}, "keep")):
        response = moderator.post(url, json=payload)
        assert response.status_code == 422 and field in response.get_json()["errors"]
    response = moderator.post(f"{API}/threads/{question['id']}/merge", json={"into": target["id"]})
    assert response.status_code == 409
    assert get_thread(member, idea["id"])["merged_into"] is None


# Rankings ---------------------------------------------------------------------

def test_top_ranks_by_wilson_lower_bound_not_raw_score(space, voters):
    member = space["member"]
    sure = make_thread(member, "space", "idea", title="3 up, 0 down")
    popular = make_thread(member, "space", "idea", title="6 up, 2 down")
    single = make_thread(member, "space", "idea", title="1 up")
    unvoted = make_thread(member, "space", "idea", title="no votes")
    crowd = voters(8)
    for caller in crowd[:3]:
        vote(caller, sure["id"], 1)
    for caller in crowd[:6]:
        vote(caller, popular["id"], 1)
    for caller in crowd[6:]:
        vote(caller, popular["id"], -1)
    vote(crowd[0], single["id"], 1)
    listed = list_all(member, f"{API}/communities/space/threads?sort=top")
    assert [t["id"] for t in listed] == [sure["id"], popular["id"], single["id"], unvoted["id"]]
    by_id = {t["id"]: t for t in listed}
    assert by_id[popular["id"]]["score"] == 4 > by_id[sure["id"]]["score"] == 3
    assert by_id[sure["id"]]["top_score"] == pytest.approx(0.43849, abs=1e-5)
    assert by_id[popular["id"]]["top_score"] == pytest.approx(0.40927, abs=1e-5)
    assert by_id[single["id"]]["top_score"] == pytest.approx(0.20654, abs=1e-5)
    assert by_id[unvoted["id"]]["top_score"] == 0
    # The same across pages of one.
    assert [t["id"] for t in list_all(member, f"{API}/communities/space/threads?sort=top", limit=1)] == [
        t["id"] for t in listed]


def test_trending_weighs_recent_activity_over_old_votes(space, voters, clock):
    member = space["member"]
    crowd = voters(3)
    start = clock.now
    old = make_thread(member, "space", "idea", title="old but voted")
    for caller in crowd:
        vote(caller, old["id"], 1)
    clock.advance(days=6)  # three half-lives: old's 4 events now weigh 0.5
    fresh = make_thread(member, "space", "idea", title="fresh")
    busy = make_thread(member, "space", "discussion", title="fresh and replied")
    make_post(space["other"], busy["id"])

    def exponent(days: float) -> float:
        return ranking.activity_exponent(1, start + timedelta(days=days))

    listed = list_all(member, f"{API}/communities/space/threads?sort=trending")
    by_id = {t["id"]: t for t in listed}
    assert by_id[old["id"]]["trending_score"] == pytest.approx(exponent(0) + 2)      # 4 events
    assert by_id[fresh["id"]]["trending_score"] == pytest.approx(exponent(6))        # 1 event
    assert by_id[busy["id"]]["trending_score"] == pytest.approx(exponent(6) + 1)     # 2 events
    # Old's 4 events at day 0 equal fresh's 1 at day 6 minus one half-life: fresh ranks higher.
    assert by_id[fresh["id"]]["trending_score"] - by_id[old["id"]]["trending_score"] == \
        pytest.approx(1)
    assert [t["id"] for t in listed] == [busy["id"], fresh["id"], old["id"]]
    # Three new up-votes today put the old idea back on top.
    newcomers = voters(3)
    for caller in newcomers:
        vote(caller, old["id"], 1)
    expected_old = math.log2(2 ** (exponent(0) + 2) + 3 * 2 ** exponent(6))
    assert get_thread(member, old["id"])["trending_score"] == pytest.approx(expected_old)
    listed = list_all(member, f"{API}/communities/space/threads?sort=trending")
    assert [t["id"] for t in listed] == [old["id"], busy["id"], fresh["id"]]


def test_wilson_lower_bound_values():
    assert ranking.wilson_lower_bound(0, 0) == 0
    assert ranking.wilson_lower_bound(0, 5) == 0
    assert ranking.wilson_lower_bound(1, 0) == pytest.approx(0.206543, abs=1e-6)
    assert ranking.wilson_lower_bound(100, 0) > ranking.wilson_lower_bound(10, 0)
    assert ranking.wilson_lower_bound(90, 10) > ranking.wilson_lower_bound(9, 1)
    assert 0 < ranking.wilson_lower_bound(1000, 1000) < 0.5


def test_trending_formula_is_a_log_of_decayed_sums():
    assert ranking.logaddexp2(0, 0) == pytest.approx(1)
    assert ranking.logaddexp2(3, 1) == pytest.approx(math.log2(8 + 2))
    assert ranking.logaddexp2(5000, 5000) == pytest.approx(5001)  # no overflow, decades out
    later = ranking.EPOCH + timedelta(seconds=ranking.HALF_LIFE_SECONDS)
    assert ranking.activity_exponent(1, ranking.EPOCH) == 0
    assert ranking.activity_exponent(1, later) == pytest.approx(1)
    assert ranking.activity_exponent(4, later) == pytest.approx(3)
    assert ranking.initial_trending_score(later) == pytest.approx(1)
    assert ranking.add_activity(0.0, 1, ranking.EPOCH) == pytest.approx(1)
