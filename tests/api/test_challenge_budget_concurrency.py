"""Vote budgets hold when many participants spend at the same moment: nobody overspends, totals
are exact."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from collab.challenges import service
from collab.challenges.models import ChallengeBudget, ChallengeVote
from collab.db import db
from tests.api.challenges import clock, create_challenge, submit_idea  # noqa: F401  (fixture)
from tests.api.content import API, join
from tests.factories import Caller


@pytest.fixture
def slow_budget_check(monkeypatch):
    """Widen the window between reading what is spent and writing, so a missing lock overspends."""
    spent_elsewhere = service._spent_elsewhere

    def slowly(user, challenge, thread_id):
        spent = spent_elsewhere(user, challenge, thread_id)
        time.sleep(0.02)
        return spent

    monkeypatch.setattr(service, "_spent_elsewhere", slowly)


def _all_at_once(app, requests: list[tuple[Caller, str, dict]]) -> list[int]:
    barrier = threading.Barrier(len(requests))

    def send(request):
        caller, url, payload = request
        own = Caller(app.test_client(), caller.token, caller.user)
        barrier.wait()
        return own.put(url, json=payload).status_code

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def _concurrent_spending(app, make_user, make_community, clock, size: int) -> None:
    owner = make_user("olga")
    make_community(owner, "lab", audiences=["employee", "partner"])
    clock.at("draft")
    challenge = create_challenge(owner, "lab", vote_budget=10, max_points_per_idea=6)
    cid = challenge["id"]
    clock.at("submission")
    first = submit_idea(owner, "lab", cid, "First")
    second = submit_idea(owner, "lab", cid, "Second")
    third = submit_idea(owner, "lab", cid, "Third")
    partners = size // 5
    crowd = [make_user(audience="partner", organization="acme") for _ in range(partners)] + [
        make_user() for _ in range(size - partners)]
    for caller in crowd:
        join(caller, "lab")
    clock.at("voting")
    # Everyone tries to put 6 points on each idea at once: 12 > 10, so exactly one of each
    # participant's two requests may succeed.
    requests = [(c, f"{API}/challenges/{cid}/votes/{idea['id']}", {"points": 6})
                for c in crowd for idea in (first, second)]
    statuses = _all_at_once(app, requests)
    assert sorted(statuses) == [200] * size + [409] * size
    with app.app_context():
        per_voter = dict(db.session.execute(select(
            ChallengeVote.user_id, func.sum(ChallengeVote.points)).where(
            ChallengeVote.challenge_id == cid).group_by(ChallengeVote.user_id)).all())
        budgets = dict(db.session.execute(select(ChallengeBudget.user_id, ChallengeBudget.spent)
                                          .where(ChallengeBudget.challenge_id == cid)).all())
        db.session.remove()
    assert per_voter == {c.id: 6 for c in crowd}
    assert budgets == per_voter
    results = owner.get(f"{API}/challenges/{cid}/results").get_json()
    totals = {i["thread_id"]: i["votes"] for i in results["ideas"]}
    assert sum(v["points"] for v in totals.values()) == 6 * size
    assert sum(v["voters"] for v in totals.values()) == size
    assert sum(v["by_audience"]["partner"]["points"] for v in totals.values()) == 6 * partners
    assert sum(v["weighted_points"] for v in totals.values()) == 6 * size

    # Second wave, with every budget row in place: each participant puts 4 points on each of the
    # two ideas they have not voted for, at once; 6 + 4 + 4 > 10, so again exactly one succeeds.
    requests = []
    for caller in crowd:
        mine = caller.get(f"{API}/challenges/{cid}/budget").get_json()["allocations"][0]
        requests += [(caller, f"{API}/challenges/{cid}/votes/{idea['id']}", {"points": 4})
                     for idea in (first, second, third) if idea["id"] != mine["thread_id"]]
    statuses = _all_at_once(app, requests)
    assert sorted(statuses) == [200] * size + [409] * size
    for caller in crowd:
        budget = caller.get(f"{API}/challenges/{cid}/budget").get_json()
        assert (budget["spent"], budget["left"]) == (10, 0)
        assert sorted(a["points"] for a in budget["allocations"]) == [4, 6]
    results = owner.get(f"{API}/challenges/{cid}/results").get_json()
    assert sum(i["votes"]["points"] for i in results["ideas"]) == 10 * size

def test_fifty_concurrent_participants_never_overspend(app, make_user, make_community, clock,
                                                       slow_budget_check):
    if app.config["BACKEND"] == "sqlite":
        pytest.skip("SQLite serialises writers; the smaller test below covers it")
    _concurrent_spending(app, make_user, make_community, clock, size=50)


def test_concurrent_participants_never_overspend(app, make_user, make_community, clock,
                                                 slow_budget_check):
    _concurrent_spending(app, make_user, make_community, clock, size=10)
