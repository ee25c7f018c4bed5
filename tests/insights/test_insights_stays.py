"""The idea funnel reads each status change's stored stay (idea_status_changes.hours_in_status,
migration 0021): the stored hours must equal the pairing of every change with the one before it
(or the idea's creation), the medians must equal a direct computation, and `flask insights
rebuild` must restore the hours of changes written by bulk SQL."""
import random
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from collab import time
from collab.db import db
from collab.ideas.models import IdeaStatusChange
from collab.insights import figures
from collab.threads.models import Thread
from tests.api.content import API, join, make_thread, set_status

def _direct(app, community_slug: str | None = None) -> tuple[dict, dict]:
    """(stored hours by change id, hours from pairing each change with the one before it)."""
    with app.app_context():
        rows = db.session.execute(
            select(IdeaStatusChange.id, IdeaStatusChange.thread_id, IdeaStatusChange.from_status,
                   IdeaStatusChange.created_at, IdeaStatusChange.hours_in_status,
                   Thread.created_at, Thread.deleted_at, Thread.merged_into_id)
            .join(Thread, Thread.id == IdeaStatusChange.thread_id)
            .order_by(IdeaStatusChange.thread_id, IdeaStatusChange.id)).all()
        db.session.remove()
    stored, paired, live_stays = {}, {}, defaultdict(list)
    entered, previous = None, None
    for change_id, thread_id, status, left, hours, created, deleted, merged in rows:
        if thread_id != previous:
            previous, entered = thread_id, created
        stored[change_id] = hours
        paired[change_id] = (left - entered).total_seconds() / 3600
        if deleted is None and merged is None:
            live_stays[status].append(paired[change_id])
        entered = left
    return stored, paired, live_stays


def test_stored_stays_equal_the_pairing_and_the_medians_a_direct_computation(
        app, monkeypatch, make_user, make_community):
    start = (datetime.now(UTC) - timedelta(days=20)).replace(microsecond=0)
    moment = [start]
    monkeypatch.setattr(time, "now", lambda: moment[0])
    owner = make_user("owner")
    make_community(owner, "eng")
    people = [make_user(f"idea{i}") for i in range(15)]
    rng = random.Random(3)
    ideas = []
    for i, person in enumerate(people):
        join(person, "eng")
        moment[0] = start + timedelta(minutes=7 * i, seconds=rng.randint(0, 59))
        ideas.append(make_thread(person, "eng", "idea", f"Idea {i}", "Do it."))
    # Six ideas stay new (one is merged away), nine leave it at odd moments; five of those stay
    # under review and four (an even count of stays) move on to planned, one of them further.
    for status, movers in (("under_review", ideas[6:]), ("planned", ideas[11:]),
                           ("in_progress", ideas[14:])):
        for idea in movers:
            moment[0] += timedelta(hours=rng.randint(1, 30), minutes=rng.randint(0, 59),
                                   seconds=rng.randint(0, 59))
            set_status(owner, idea["id"], status)
    moment[0] += timedelta(minutes=3)
    response = owner.post(f"{API}/threads/{ideas[0]['id']}/merge", json={"into": ideas[1]["id"]})
    assert response.status_code == 200
    moment[0] += timedelta(minutes=3)

    stored, paired, live_stays = _direct(app)
    assert len(stored) == 9 + 4 + 1 + 1
    assert stored == paired  # exactly: the same arithmetic on the same moments
    funnel = {row["status"]: row for row in owner.get(
        f"{API}/communities/eng/insights",
        query_string={"from": (start - timedelta(days=1)).isoformat()}).get_json()["idea_funnel"]}
    assert len(live_stays["new"]) == 9 and len(live_stays["under_review"]) == 4
    for status in ("new", "under_review"):
        assert funnel[status]["value"] == 5
        assert funnel[status]["median_hours_in_status"] == round(
            statistics.median(live_stays[status]), 2)

    # Bulk SQL that bypasses the service leaves the hours empty (or wrong): the rebuild restores
    # exactly the pairing, and the endpoint answers as before.
    with app.app_context():
        db.session.execute(update(IdeaStatusChange).values(hours_in_status=None))
        db.session.commit()
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["insights", "rebuild"])
    assert result.exit_code == 0, result.output
    stored_again, paired_again, _ = _direct(app)
    assert stored_again == paired_again == paired
    again = {row["status"]: row for row in owner.get(
        f"{API}/communities/eng/insights",
        query_string={"from": (start - timedelta(days=1)).isoformat()}).get_json()["idea_funnel"]}
    assert again == funnel


def test_organisation_middle_stays_leave_out_removed_ideas(app, monkeypatch, make_user,
                                                          make_community):
    """Organisation-wide, PostgreSQL reads each status's middle stays from the index of stored
    stays (figures.middle_stays, migration 0031), less the stays of deleted and merged ideas:
    they must be the middle stays of live ideas, and the medians (both engines) their medians,
    for `to` = now and before the last changes."""
    start = (datetime.now(UTC) - timedelta(days=10)).replace(microsecond=0)
    moment = [start]
    monkeypatch.setattr(time, "now", lambda: moment[0])
    owner = make_user("owner")
    admin = make_user("root", is_admin=True)
    for slug in ("eng", "ops"):
        make_community(owner, slug)
    rng = random.Random(11)
    ideas = []
    for i in range(26):
        person = make_user(f"idea{i}")
        slug = "eng" if i % 2 else "ops"
        join(person, slug)
        moment[0] = start + timedelta(minutes=5 * i, seconds=rng.randint(0, 59))
        ideas.append((person, make_thread(person, slug, "idea", f"Idea {i}", "Do it.")))
    # 20 leave "new" (6 stay), 10 of them leave review; the first movers spent the shortest time.
    for status, movers in (("under_review", ideas[:20]), ("planned", ideas[:10])):
        for _, idea in movers:
            moment[0] += timedelta(hours=rng.randint(1, 40), minutes=rng.randint(0, 59))
            set_status(owner, idea["id"], status)
    moment[0] += timedelta(minutes=5)
    # Removed ideas among the shortest and the longest stays in "new" and in review.
    for person, idea in (ideas[0], ideas[19]):
        assert person.delete(f"{API}/threads/{idea['id']}").status_code == 204
    response = owner.post(f"{API}/threads/{ideas[1][1]['id']}/merge",
                          json={"into": ideas[3][1]["id"]})
    assert response.status_code == 200, response.get_json()
    moment[0] += timedelta(minutes=5)

    _, _, live_stays = _direct(app)
    assert len(live_stays["new"]) == 17 and len(live_stays["under_review"]) == 8
    with app.app_context():
        if db.session.get_bind().dialect.name == "postgresql":
            middles = figures.middle_stays(time.now())
            for status in ("new", "under_review"):
                ordered, count = sorted(live_stays[status]), len(live_stays[status])
                assert middles[status] == pytest.approx(
                    [ordered[(count + 1) // 2 - 1], ordered[count // 2]], abs=1e-6), status
        db.session.remove()
    query = {"interval": "week", "from": (start - timedelta(days=1)).isoformat()}
    funnel = {row["status"]: row for row in admin.get(
        f"{API}/insights", query_string=query).get_json()["idea_funnel"]}
    for status in ("new", "under_review"):
        assert funnel[status]["median_hours_in_status"] == round(
            statistics.median(live_stays[status]), 2), status
    # Before the review moves (a `to` in the past): only the stays left by then count.
    moves = sorted(change.created_at for change in _changes(app) if change.to_status == "planned")
    query["to"] = (moves[0] - timedelta(seconds=1)).isoformat()
    funnel = {row["status"]: row for row in admin.get(
        f"{API}/insights", query_string=query).get_json()["idea_funnel"]}
    assert funnel["under_review"]["median_hours_in_status"] is None  # none had left review
    assert funnel["new"]["median_hours_in_status"] == round(statistics.median(
        live_new_before(app, moves[0])), 2)


def _changes(app) -> list:
    with app.app_context():
        changes = db.session.scalars(select(IdeaStatusChange)).all()
        db.session.expunge_all()
        db.session.remove()
    return changes


def live_new_before(app, moment) -> list[float]:
    """Hours in `new` of live ideas that left it before `moment`."""
    with app.app_context():
        rows = db.session.execute(
            select(IdeaStatusChange.created_at, Thread.created_at)
            .join(Thread, Thread.id == IdeaStatusChange.thread_id)
            .where(IdeaStatusChange.from_status == "new", IdeaStatusChange.created_at < moment,
                   Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None))).all()
        db.session.remove()
    return [(left - created).total_seconds() / 3600 for left, created in rows]
