"""The stored periods of the day roll-up (migration 0030): person-week rows and day totals kept by
triggers on insight_days must equal the day rows' sums after writes of every kind (replies across
midnight, deletions, a merge, a thread moved to another community, a post's author changed, a
user deleted), `flask insights rebuild` must write the same rows, and windows whose whole weeks
and days are read from them must equal a direct computation over the posts."""
from collections import Counter, defaultdict
from datetime import timedelta

from sqlalchemy import delete, select

from collab import time
from collab.db import db
from collab.insights import periods
from collab.insights.models import InsightDay
from collab.people.models import User
from collab.threads.models import Post, Thread
from tests.api.content import API
from tests.insights.test_insights_rollup import (  # noqa: F401
    _direct, check_activity_and_flow, clock, talk)

COUNTS = periods.COUNTS


def _stored(app):
    """(weeks, totals) as stored, and as summed in Python from the day rows."""
    with app.app_context():
        days = db.session.execute(select(InsightDay.community_id, InsightDay.day,
                                         InsightDay.user_id,
                                         *[getattr(InsightDay, n) for n in COUNTS])).all()
        weeks = {(c, w, u): list(rest) for c, w, u, *rest in db.session.execute(select(
            periods.InsightWeek.community_id, periods.InsightWeek.week,
            periods.InsightWeek.user_id, *[getattr(periods.InsightWeek, n) for n in COUNTS]))}
        totals = {(c, d): (t, p, n) for c, d, t, p, n in db.session.execute(select(
            periods.InsightDayTotal.community_id, periods.InsightDayTotal.day,
            periods.InsightDayTotal.threads, periods.InsightDayTotal.posts,
            periods.InsightDayTotal.people))}
        db.session.remove()
    want_weeks = defaultdict(lambda: [0] * len(COUNTS))
    want_totals = defaultdict(Counter)
    for community_id, day, user_id, *counts in days:
        key = (community_id, periods.monday(day), user_id)
        want_weeks[key] = [a + b for a, b in zip(want_weeks[key], counts)]
        total = want_totals[(community_id, day)]
        total.update({"threads": counts[0], "posts": counts[1],
                      "people": int(counts[0] > 0 or counts[1] > 0)})
    want_totals = {key: (c["threads"], c["posts"], c["people"]) for key, c in want_totals.items()}
    return (weeks, totals), (dict(want_weeks), want_totals)


def _assert_kept(app):
    stored, summed = _stored(app)
    assert stored == summed
    return stored


def _check(body, direct):
    """Activity and audience flow (what the periods serve) equal the direct computation."""
    activity, flow, _ = direct
    return check_activity_and_flow(body, activity, flow)


def _windows(talk):
    start, end = talk["start"], time.now()
    # Whole ISO weeks on both sides of the talk, partial first days shorter and longer than 12
    # hours (read from the posts, or as the day row less the rest of the day).
    return [(start - timedelta(days=15, hours=3), end + timedelta(days=10), "week"),
            (start - timedelta(days=15, hours=3), end + timedelta(days=10), "day"),
            (start - timedelta(days=9, hours=17), end, "week"),
            (start + timedelta(hours=4, minutes=10), end + timedelta(days=8), "week"),
            (start + timedelta(hours=4, minutes=10), end + timedelta(days=8), "day"),
            (start + timedelta(hours=13), start + timedelta(days=1, hours=11), "day")]


def _compare(app, talk):
    checked = Counter()
    for lower, upper, interval in _windows(talk):
        query = {"interval": interval, "from": lower.isoformat(), "to": upper.isoformat()}
        for slug in ("eng", "ops"):
            response = talk["owner"].get(f"{API}/communities/{slug}/insights", query_string=query)
            assert response.status_code == 200, response.get_json()
            checked.update(dict(zip(("buckets", "cells"), _check(
                response.get_json(), _direct(app, slug, lower, upper, interval)))))
        response = talk["admin"].get(f"{API}/insights", query_string=query)
        assert response.status_code == 200, response.get_json()
        checked.update(dict(zip(("buckets", "cells"), _check(
            response.get_json(), _direct(app, None, lower, upper, interval)))))
    assert checked["buckets"] >= 6 and checked["cells"] >= 9


def test_periods_stay_equal_to_the_day_rows_and_the_posts(app, talk, clock):
    weeks, totals = _assert_kept(app)
    assert weeks and totals
    assert any(people >= 5 for _, _, people in totals.values())
    _compare(app, talk)
    # A thread moved to the other community, a post given to someone of another audience (no
    # endpoint changes a person's audience: the day rows store replies by audience); then a
    # person's day rows deleted (what a user's deletion cascades to).
    with app.app_context():
        eng, ops = (db.session.scalar(select(Thread.community_id).where(Thread.title == title))
                    for title in ("Question 0-1", "Question 0-0"))
        assert eng != ops
        moved = db.session.scalars(select(Thread).where(Thread.title == "Question 1-2")).one()
        moved.community_id = ops if moved.community_id == eng else eng
        post = db.session.scalars(select(Post).where(Post.body == "Or that.")
                                  .order_by(Post.id).limit(1)).one()
        post.author_id = db.session.scalar(select(User.id).where(User.handle == "cus4"))
        db.session.commit()
        db.session.remove()
    _assert_kept(app)
    _compare(app, talk)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.handle == "emp1"))
        db.session.execute(delete(InsightDay).where(InsightDay.user_id == user_id))
        db.session.commit()
        db.session.remove()
    _assert_kept(app)
    # The rebuild writes what the triggers kept (the day rows rebuilt from the posts first).
    result = app.test_cli_runner().invoke(args=["insights", "rebuild"])
    assert result.exit_code == 0, result.output
    _assert_kept(app)
    _compare(app, talk)
