"""Reputation: points from events, the daily cap, recomputation, leaderboards and profiles."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from collab import time
from collab.db import db
from collab.ideas.models import Vote
from collab.reputation import rules, service
from collab.reputation.models import ReputationDay
from tests.api.content import API, join, make_post, make_thread, promote, set_status, vote
from tests.factories import set_membership


def board(caller, slug="eng", **params):
    response = caller.get(f"{API}/communities/{slug}/leaderboard", query_string=params)
    assert response.status_code == 200, response.get_json()
    return {item["user"]["handle"]: item["points"] for item in response.get_json()["items"]}


def ledger(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(select(ReputationDay.community_id, ReputationDay.user_id,
                                         ReputationDay.day, ReputationDay.points,
                                         ReputationDay.raw_points)
                                  .order_by(ReputationDay.community_id, ReputationDay.user_id,
                                            ReputationDay.day)).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def recompute(app):
    with app.app_context():
        service.recompute()
        db.session.remove()


@pytest.fixture
def eng(make_user, make_community):
    owner, ann, bo = make_user("owner"), make_user("ann"), make_user("bo")
    make_community(owner, "eng")
    join(ann, "eng")
    join(bo, "eng")
    return owner, ann, bo


def test_events_earn_points_by_the_rules(eng, make_user):
    owner, ann, bo = eng
    question = make_thread(bo, "eng", "question", "How?", "Help")
    answer = make_post(ann, question["id"], "Like this.")
    assert bo.post(f"{API}/posts/{answer['id']}/accept").status_code == 200
    idea = make_thread(bo, "eng", "idea", "Dark mode", "Please.")
    vote(ann, idea["id"], 1)
    vote(bo, idea["id"], 1)  # a self-vote earns nothing
    set_status(owner, idea["id"], "done")
    assert board(owner) == {"ann": rules.POINTS["accepted_answer"],
                            "bo": rules.POINTS["upvote_received"] + rules.POINTS["idea_done"]}
    # Switching the accepted answer moves the points.
    other = make_post(owner, question["id"], "Better.")
    assert bo.post(f"{API}/posts/{other['id']}/accept").status_code == 200
    points = board(owner)
    assert "ann" not in points and points["owner"] == rules.POINTS["accepted_answer"]


def test_concern_resolved_earns_its_assignee_points(eng, make_user):
    owner, ann, bo = eng
    moderator = make_user("mod")
    promote(owner, moderator, "eng")
    make_thread(ann, "eng", "discussion", "Broken", "This is unacceptable and broken again.")
    concern = owner.get(f"{API}/communities/eng/concerns").get_json()["items"][0]
    owner.patch(f"{API}/concerns/{concern['id']}", json={"state": "acknowledged",
                                                          "assignee_id": moderator.id})
    assert "mod" not in board(owner)
    owner.patch(f"{API}/concerns/{concern['id']}", json={"state": "resolved"})
    assert board(owner)["mod"] == rules.POINTS["concern_resolved"]


def test_daily_cap_and_recompute_gives_the_same_totals(app, eng, make_user):
    owner, ann, bo = eng
    idea = make_thread(ann, "eng", "idea", "Popular", "Everyone wants it.")
    voters = [make_user(f"v{i}") for i in range(rules.DAILY_CAP // rules.POINTS["upvote_received"] + 5)]
    for voter in voters:
        join(voter, "eng")
        vote(voter, idea["id"], 1)
    assert board(owner)["ann"] == rules.DAILY_CAP
    with app.app_context():  # half the votes were cast yesterday
        ids = list(db.session.scalars(select(Vote.id).order_by(Vote.id)))[:10]
        db.session.execute(update(Vote).where(Vote.id.in_(ids)).values(
            created_at=time.now() - timedelta(days=1)))
        db.session.commit()
    live = ledger(app)
    recompute(app)
    rebuilt = ledger(app)
    today = (len(voters) - 10) * rules.POINTS["upvote_received"]
    assert today < rules.DAILY_CAP  # moving votes to yesterday freed room under today's cap
    assert board(owner)["ann"] == 10 * rules.POINTS["upvote_received"] + today
    assert [(r[3], r[4]) for r in rebuilt if r[1] == ann.id] == [(50, 50), (today, today)]
    assert [(r[3], r[4]) for r in live if r[1] == ann.id] == [(rules.DAILY_CAP, 125)]
    # The live ledger and a rebuild agree whenever they are both up to date.
    question = make_thread(bo, "eng", "question", "Q", "?")
    answer = make_post(ann, question["id"], "A")
    bo.post(f"{API}/posts/{answer['id']}/accept")
    live = ledger(app)
    recompute(app)
    assert ledger(app) == live
    assert live != rebuilt


def test_periods_and_profile(app, eng, make_user, make_community):
    owner, ann, bo = eng
    question = make_thread(bo, "eng", "question", "Old", "?")
    answer = make_post(ann, question["id"], "Old answer.")
    bo.post(f"{API}/posts/{answer['id']}/accept")
    with app.app_context():
        db.session.execute(update(ReputationDay).values(day=(time.now() - timedelta(days=40)).date()))
        db.session.commit()
    assert board(owner, period="month") == {}
    assert board(owner, period="all") == {"ann": rules.POINTS["accepted_answer"]}
    make_community(owner, "vault", visibility="private")
    set_membership(app, "vault", ann.id, "active")
    secret = make_thread(owner, "vault", "question", "Secret", "?")
    accepted = make_post(ann, secret["id"], "Secret answer.")
    owner.post(f"{API}/posts/{accepted['id']}/accept")
    outsider = make_user("outsider")
    profile = outsider.get(f"{API}/users/{ann.id}/reputation").get_json()
    assert profile["communities"] == [{"community": "eng", "points": 15}]
    assert profile["total"] == 15
    mine = ann.get(f"{API}/users/{ann.id}/reputation").get_json()
    assert mine["total"] == 30 and len(mine["communities"]) == 2
    assert outsider.get(f"{API}/communities/vault/leaderboard").status_code == 404
    assert outsider.get(f"{API}/communities/eng/leaderboard?period=decade").status_code == 422
    assert outsider.get(f"{API}/users/99999/reputation").status_code == 404


def test_cli_recompute(app, eng):
    result = app.test_cli_runner().invoke(args=["reputation", "recompute"])
    assert result.exit_code == 0, result.output
    assert "person-days" in result.output
