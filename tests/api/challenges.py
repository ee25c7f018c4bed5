"""Helpers for challenge tests: a frozen clock, a community with every role, a scheduled challenge."""
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.content import API, join, promote
from tests.factories import Caller

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
# Each phase starts a day after the previous one: draft [T0-∞, T0+1d), submission [+1d, +2d), ...
STARTS = {"draft": T0, "submission": T0 + timedelta(days=1), "voting": T0 + timedelta(days=2),
          "evaluation": T0 + timedelta(days=3), "decided": T0 + timedelta(days=4),
          "closed": T0 + timedelta(days=5)}
PHASES = list(STARTS)


class Clock:
    def __init__(self):
        self.now = T0

    def at(self, phase: str, hours: int = 1) -> None:
        """Somewhere inside `phase` (time may go back: the phase is computed from the dates)."""
        self.now = STARTS[phase] + timedelta(hours=hours)


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock()
    monkeypatch.setattr("collab.time.now", lambda: frozen.now)
    return frozen


def schedule(**overrides) -> dict:
    return {"submission_starts_at": STARTS["submission"].isoformat(),
            "voting_starts_at": STARTS["voting"].isoformat(),
            "evaluation_starts_at": STARTS["evaluation"].isoformat(),
            "decided_starts_at": STARTS["decided"].isoformat(),
            "closes_at": STARTS["closed"].isoformat(), **overrides}


def create_challenge(caller: Caller, slug: str, **fields) -> dict:
    payload = {"title": "Halve partner onboarding",
               "brief": "How could we cut onboarding time for partner engineers by half?",
               **schedule(), **fields}
    response = caller.post(f"{API}/communities/{slug}/challenges", json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def submit_idea(caller: Caller, slug: str, challenge_id: int, title: str = "An idea") -> dict:
    response = caller.post(f"{API}/communities/{slug}/threads",
                           json={"kind": "idea", "title": title, "body": "Details.",
                                 "challenge_id": challenge_id})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def put_points(caller: Caller, challenge_id: int, thread_id: int, points: int):
    return caller.put(f"{API}/challenges/{challenge_id}/votes/{thread_id}",
                      json={"points": points})


def ok(response, status: int = 200) -> dict | list:
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.fixture
def lab(make_user, make_community):
    """Community "lab" open to all audiences, with a member of each role a challenge knows."""
    people = {
        "owner": make_user("olga"), "moderator": make_user("mo"), "sponsor": make_user("sam"),
        "member": make_user("emma"), "partner": make_user("pete", audience="partner",
                                                           organization="acme"),
        "customer": make_user("cora", audience="customer", organization="contoso"),
        "evaluator": make_user("eve"), "evaluator2": make_user("evan"),
        "outsider": make_user("nina"),  # an employee who sees the community but did not join
    }
    make_community(people["owner"], "lab", audiences=["employee", "partner", "customer"])
    promote(people["owner"], people["moderator"], "lab")
    for role in ("sponsor", "member", "partner", "customer", "evaluator", "evaluator2"):
        join(people[role], "lab")
    return people
