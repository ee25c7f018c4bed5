"""A vote moves its author's points on the day it was cast by a difference, in the ledger row
itself; the live ledger stays what `recompute` rebuilds from the events."""
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from collab import time
from collab.db import db
from collab.ideas.models import Vote
from collab.reputation import rules
from collab.reputation.models import ReputationDay
from tests.api.content import API, join, make_thread, vote
from tests.insights.test_reputation import board, ledger, recompute

UP = rules.POINTS["upvote_received"]


@pytest.fixture
def idea_and_voters(make_user, make_community):
    owner = make_user("owner")
    make_community(owner, "eng")
    author = make_user("ann")
    join(author, "eng")
    voters = [make_user(f"v{i}") for i in range(3)]
    for voter in voters:
        join(voter, "eng")
    return owner, author, make_thread(author, "eng", "idea", "Dark mode", "Please."), voters


def rebuilt(app) -> list[tuple]:
    """The ledger as recompute writes it (which leaves it so)."""
    recompute(app)
    return ledger(app)


def withdraw(caller, thread_id):
    response = caller.delete(f"{API}/threads/{thread_id}/vote")
    assert response.status_code == 200, response.get_json()


def test_every_vote_change_keeps_the_ledger_equal_to_a_rebuild(app, idea_and_voters):
    owner, author, idea, (v0, v1, v2) = idea_and_voters
    steps = [
        lambda: vote(v0, idea["id"], 1),     # +5
        lambda: vote(v1, idea["id"], -1),    # nothing
        lambda: vote(v1, idea["id"], 1),     # +5
        lambda: vote(v0, idea["id"], -1),    # -5
        lambda: vote(author, idea["id"], 1),  # a self-vote earns nothing
        lambda: withdraw(v1, idea["id"]),    # -5: the day is empty, its row goes
        lambda: vote(v2, idea["id"], 1),     # +5: a new row
        lambda: vote(v2, idea["id"], 1),     # the same vote again changes nothing
    ]
    expected = [UP, UP, 2 * UP, UP, UP, None, UP, UP]
    for step, points in zip(steps, expected):
        step()
        live = ledger(app)
        assert live == rebuilt(app)
        assert board(owner).get("ann") == points
        assert all(row[4] > 0 for row in live)  # no empty days are kept


def test_a_changed_vote_moves_points_on_the_day_it_was_cast(app, idea_and_voters):
    owner, author, idea, (v0, v1, _) = idea_and_voters
    vote(v0, idea["id"], 1)
    vote(v1, idea["id"], 1)
    with app.app_context():  # v0's vote was cast yesterday
        db.session.execute(update(Vote).where(Vote.user_id == v0.id).values(
            created_at=time.now() - timedelta(days=1)))
        db.session.commit()
    before = rebuilt(app)
    assert [(r[3], r[4]) for r in before if r[1] == author.id] == [(UP, UP), (UP, UP)]
    vote(v0, idea["id"], -1)
    live = ledger(app)
    assert [(r[3], r[4]) for r in live if r[1] == author.id] == [(UP, UP)]  # yesterday's went
    assert live == rebuilt(app)


def test_points_above_the_daily_cap_are_taken_from_the_raw_total(app, idea_and_voters,
                                                                  make_user):
    owner, author, idea, _ = idea_and_voters
    voters = [make_user(f"w{i}") for i in range(rules.DAILY_CAP // UP + 2)]
    for voter in voters:
        join(voter, "eng")
        vote(voter, idea["id"], 1)
    raw = len(voters) * UP
    assert [(r[3], r[4]) for r in ledger(app) if r[1] == author.id] == [(rules.DAILY_CAP, raw)]
    for i, voter in enumerate(voters[:3]):
        vote(voter, idea["id"], -1)
        row = [(r[3], r[4]) for r in ledger(app) if r[1] == author.id]
        assert row == [(min(raw - (i + 1) * UP, rules.DAILY_CAP), raw - (i + 1) * UP)]
        assert ledger(app) == rebuilt(app)


def test_a_day_missing_from_the_ledger_is_recomputed_not_taken_below_zero(app, idea_and_voters):
    owner, author, idea, (v0, v1, _) = idea_and_voters
    vote(v0, idea["id"], 1)
    vote(v1, idea["id"], 1)
    with app.app_context():  # a ledger out of step with the events (e.g. an interrupted restore)
        db.session.execute(delete(ReputationDay).where(ReputationDay.user_id == author.id))
        db.session.commit()
    vote(v0, idea["id"], -1)
    live = ledger(app)
    assert [(r[3], r[4]) for r in live if r[1] == author.id] == [(UP, UP)]  # v1's, from events
    assert live == rebuilt(app)


def test_a_vote_writes_its_points_in_one_statement(app, idea_and_voters):
    owner, author, idea, (v0, v1, _) = idea_and_voters
    from tests.api.test_write_statements import statements

    vote(v1, idea["id"], 1)  # the day keeps points whatever v0 votes
    vote(v0, idea["id"], -1)
    for value in (1, -1):
        with statements(app) as seen:
            vote(v0, idea["id"], value)
        reputation = [s for s in seen if "reputation_days" in s]
        assert len(reputation) == 1, reputation
        assert not [s for s in seen if "UNION ALL" in s], seen  # no events read
    assert ledger(app) == rebuilt(app)


def test_a_vote_that_empties_a_day_removes_it_in_the_same_statement(app, idea_and_voters):
    """PostgreSQL takes the points and deletes the emptied day in one statement; SQLite in two."""
    owner, author, idea, (v0, _, _) = idea_and_voters
    from tests.api.test_write_statements import statements

    postgres = app.config["BACKEND"] == "postgresql"
    for value in (1, -1, 1):
        with statements(app) as seen:
            vote(v0, idea["id"], value)
        reputation = [s for s in seen if "reputation_days" in s]
        assert len(reputation) == (1 if postgres or value > 0 else 2), reputation
        assert ledger(app) == rebuilt(app)
        assert board(owner).get("ann") == (UP if value > 0 else None)
