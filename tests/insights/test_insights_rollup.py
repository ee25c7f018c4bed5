"""The insight roll-ups (insight_days, insight_thread_facts): what the endpoints sum must equal a
direct computation over the posts, after replies across midnight, deletions and merges, and
`flask insights rebuild` must produce exactly the rows the session events keep."""
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from collab import time
from collab.db import db
from collab.insights import service
from collab.insights.models import ORGANIZATION, InsightDay, ThreadFact
from collab.people.models import User
from collab.threads.models import Post, Thread
from tests.api.content import API, join, make_post, make_thread, set_status

AUDIENCES = ("employee", "partner", "customer")


@pytest.fixture
def clock(monkeypatch):
    """The application's clock, set by the test: three days ago at 22:00 UTC to start."""
    start = (datetime.now(UTC) - timedelta(days=4)).replace(hour=22, minute=0, second=0,
                                                            microsecond=0)
    moment = [start]
    monkeypatch.setattr(time, "now", lambda: moment[0])
    return moment


@pytest.fixture
def talk(app, clock, make_user, make_community):
    """15 people (5 per audience) in eng and ops ask questions over three evenings; answers come
    from other audiences, some after midnight, with replies to replies; then a first reply is
    deleted, a thread is deleted, an idea is merged into another."""
    owner = make_user("owner")
    admin = make_user("root", is_admin=True)
    for slug in ("eng", "ops"):
        make_community(owner, slug, audiences=list(AUDIENCES))
    people = [make_user(f"{a[:3]}{i}", audience=a,
                        organization=None if a == "employee" else "acme")
              for a in AUDIENCES for i in range(5)]
    for person in people:
        for slug in ("eng", "ops"):
            join(person, slug)
    start = clock[0]
    questions, first_replies = [], []
    for day in range(3):
        for i, asker in enumerate(people):
            clock[0] = start + timedelta(days=day, minutes=i)
            slug = "eng" if (i + day) % 3 else "ops"
            question = make_thread(asker, slug, "question", f"Question {day}-{i}", "How?")
            questions.append(question)
            clock[0] += timedelta(minutes=30)
            answer = make_post(people[(i + 5) % 15], question["id"], "Like this.")
            first_replies.append(answer)
            clock[0] += timedelta(hours=1, minutes=20 + i)   # past midnight for most
            make_post(asker, question["id"], "Thanks!", parent_id=answer["id"])
            make_post(people[(i + 10) % 15], question["id"], "Or that.")
            make_post(asker, question["id"], "Self reply.")
    clock[0] = start + timedelta(days=3, hours=1)
    assert people[5].delete(f"{API}/posts/{first_replies[0]['id']}").status_code == 204
    assert people[3].delete(f"{API}/threads/{questions[3]['id']}").status_code == 204
    ideas = [make_thread(people[i], "eng", "idea", f"Idea {i}", "Do it.") for i in range(2)]
    for i in range(6):
        make_post(people[5 + i], ideas[0]["id"], "Yes.")
    response = owner.post(f"{API}/threads/{ideas[0]['id']}/merge", json={"into": ideas[1]["id"]})
    assert response.status_code == 200, response.get_json()
    clock[0] = start + timedelta(days=3, hours=2)
    return {"owner": owner, "admin": admin, "start": start}


def _direct(app, community_slug: str | None, start: datetime, end: datetime, interval: str):
    """The figures straight from the posts, in Python: activity, audience flow, first reply."""
    with app.app_context():
        threads = {t.id: t for t in db.session.scalars(select(Thread))}
        posts = list(db.session.scalars(select(Post)))
        audience = dict(db.session.execute(select(User.id, User.audience)).all())
        community = (None if community_slug is None else
                     next(t.community.id for t in threads.values()
                          if t.community.slug == community_slug))
        db.session.remove()
    live = {i for i, t in threads.items() if t.deleted_at is None and t.merged_into_id is None
            and (community is None or t.community_id == community)}
    by_id = {p.id: p for p in posts}
    starts = service._bucket_starts(start, end, interval)
    step = 1 if interval == "day" else 7

    def bucket(at):
        return min(len(starts) - 1, (at.date() - starts[0].date()).days // step)
    thread_counts, post_counts, people = Counter(), Counter(), defaultdict(set)
    cells, repliers, recipients = Counter(), defaultdict(set), defaultdict(set)
    for t in (threads[i] for i in live):
        if start <= t.created_at < end:
            thread_counts[bucket(t.created_at)] += 1
            people[bucket(t.created_at)].add(t.author_id)
    first_reply = {}
    for p in posts:
        if p.thread_id not in live or p.deleted_at is not None:
            continue
        thread = threads[p.thread_id]
        if p.author_id != thread.author_id and p.created_at < end:
            first_reply[p.thread_id] = min(first_reply.get(p.thread_id, p.created_at),
                                           p.created_at)
        if not start <= p.created_at < end:
            continue
        post_counts[bucket(p.created_at)] += 1
        people[bucket(p.created_at)].add(p.author_id)
        to = by_id[p.parent_id].author_id if p.parent_id else thread.author_id
        if to != p.author_id:
            key = (audience[p.author_id], audience[to])
            cells[key] += 1
            repliers[key].add(p.author_id)
            recipients[key].add(to)
    activity = [{"threads": thread_counts[i], "posts": post_counts[i],
                 "active_people": len(people[i])} for i in range(len(starts))]
    flow = {key: (count, min(len(repliers[key]), len(recipients[key])))
            for key, count in cells.items()}
    questions = [threads[i] for i in live if threads[i].kind == "question"
                 and start <= threads[i].created_at < end]
    hours = [(first_reply[t.id] - t.created_at).total_seconds() / 3600 for t in questions
             if t.id in first_reply]
    return activity, flow, sorted(hours)


def check_activity_and_flow(body, activity, flow) -> tuple[int, int]:
    """Activity and the audience flow equal the direct computation (suppressed where it describes
    fewer than 5 people); how many buckets and cells were shown."""
    assert len(body["activity"]) == len(activity)
    unsuppressed = 0
    for got, want in zip(body["activity"], activity):
        if want["active_people"] >= 5:
            unsuppressed += 1
            assert {k: got[k] for k in want} == want
        else:
            assert got["suppressed"] is True and got["posts"] is None
    matrix = body["audience_flow"]["matrix"]
    cells = 0
    for source in AUDIENCES:
        for target in AUDIENCES:
            count, people = flow.get((source, target), (0, 0))
            cell = matrix[source][target]
            if count and people >= 5:
                cells += 1
                assert (cell["value"], cell["people"]) == (count, people)
            elif count:
                assert cell["suppressed"] is True and cell["value"] is None
            else:
                assert cell["value"] == 0
    return unsuppressed, cells


def _check(body, direct):
    activity, flow, hours = direct
    shown = check_activity_and_flow(body, activity, flow)
    first = body["response_times"]["first_reply_hours"]
    assert first["count"] == len(hours)
    assert first["p50"] == round(statistics.median(hours), 2)
    assert first["p90"] == round(hours[int(round(0.9 * (len(hours) - 1)))], 2)
    return shown


def test_rollup_figures_equal_a_direct_computation(app, talk):
    start, end = talk["start"], time.now()
    windows = [(start - timedelta(hours=3), end, "day"),       # partial first and last day
               (start + timedelta(hours=2), end - timedelta(hours=1), "week"),  # from midnight
               (start + timedelta(hours=5, minutes=7), end, "day"),  # partial days at both ends
               (start - timedelta(days=2), end + timedelta(days=1), "week"),
               # The last day's roll-up row stands for its partial day when nothing was created
               # after `to` that day (the deletes, ideas and merge came at 23:00) ...
               (start - timedelta(hours=3), start + timedelta(days=3, hours=1, minutes=30), "day"),
               # ... and not when something was.
               (start - timedelta(hours=3), start + timedelta(days=3, minutes=30), "day")]
    checked = Counter()
    for lower, upper, interval in windows:
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
    # The comparison saw real figures, not only suppressed ones.
    assert checked["buckets"] >= 6 and checked["cells"] >= 9


def _rows(app):
    with app.app_context():
        days = sorted(tuple(r) for r in db.session.execute(select(
            InsightDay.community_id, InsightDay.day, InsightDay.user_id,
            *[getattr(InsightDay, name) for name in service.rollup.COUNTS])))
        facts = sorted(tuple(r) for r in db.session.execute(
            select(ThreadFact.thread_id, ThreadFact.first_reply_at, ThreadFact.thread_created_at)))
        db.session.remove()
    return days, facts


def test_rebuild_produces_what_the_events_kept(app, talk):
    kept_days, kept_facts = _rows(app)
    assert len({row[1] for row in kept_days}) >= 4          # replies across midnight
    assert any(row[0] == ORGANIZATION for row in kept_days)
    assert len(kept_facts) >= 40
    result = app.test_cli_runner().invoke(args=["insights", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "person-days" in result.output
    assert _rows(app) == (kept_days, kept_facts)
    # Each fact carries its thread's start (what a window's response times select facts by).
    with app.app_context():
        started = dict(db.session.execute(select(Thread.id, Thread.created_at)).all())
        db.session.remove()
    assert all(fact[2] == started[fact[0]] for fact in kept_facts)
    _first_reply_moved_on_deletion(app)
    # The organisation's rows are the sum of the communities' rows.
    summed = defaultdict(lambda: [0] * len(service.rollup.COUNTS))
    for row in kept_days:
        if row[0] != ORGANIZATION:
            summed[row[1:3]] = [a + b for a, b in zip(summed[row[1:3]], row[3:])]
    assert {row[1:3]: list(row[3:]) for row in kept_days if row[0] == ORGANIZATION} == summed


def _first_reply_moved_on_deletion(app):
    with app.app_context():
        thread = db.session.scalars(select(Thread).where(Thread.title == "Question 0-0")).one()
        replies = sorted(p.created_at for p in db.session.scalars(select(Post).where(
            Post.thread_id == thread.id, Post.deleted_at.is_(None),
            Post.author_id != thread.author_id)))
        stored = db.session.get(ThreadFact, thread.id).first_reply_at
        db.session.remove()
    # The deleted answer came 30 minutes after the question; the next reply by someone else later.
    assert stored == replies[0] and stored - thread.created_at > timedelta(hours=1)


def test_idea_funnel_medians_come_from_the_middle_stays(app, clock, make_user, make_community):
    """Seven ideas leave `new` after 1..7 hours (median 4), five stay; an even count of stays
    (the seven plus one more leaving `under_review`) averages the middle two."""
    owner = make_user("owner")
    make_community(owner, "eng")
    people = [make_user(f"idea{i}") for i in range(12)]
    start = clock[0]
    ideas = []
    for i, person in enumerate(people):
        join(person, "eng")
        clock[0] = start + timedelta(minutes=i)
        ideas.append(make_thread(person, "eng", "idea", f"Idea {i}", "Do it."))
    for i, idea in enumerate(ideas[:7]):
        clock[0] = start + timedelta(minutes=i, hours=i + 1)
        set_status(owner, idea["id"], "under_review")
    clock[0] = start + timedelta(minutes=6, hours=20)
    set_status(owner, ideas[6]["id"], "planned")   # 13 hours in review
    clock[0] += timedelta(minutes=1)
    response = owner.get(f"{API}/communities/eng/insights",
                         query_string={"from": (start - timedelta(days=1)).isoformat()})
    funnel = {row["status"]: row for row in response.get_json()["idea_funnel"]}
    assert funnel["new"]["value"] == 5 and funnel["new"]["median_hours_in_status"] == 4.0
    assert funnel["under_review"]["value"] == 6
    assert funnel["under_review"]["median_hours_in_status"] == 13.0
    assert funnel["planned"]["suppressed"] is True
    clock[0] = start + timedelta(minutes=5, hours=21)
    set_status(owner, ideas[5]["id"], "planned")   # 21 - 6 = 15 hours in review: (13 + 15) / 2
    clock[0] += timedelta(minutes=1)
    response = owner.get(f"{API}/communities/eng/insights",
                         query_string={"from": (start - timedelta(days=1)).isoformat()})
    funnel = {row["status"]: row for row in response.get_json()["idea_funnel"]}
    assert funnel["under_review"]["value"] == 5
    assert funnel["under_review"]["median_hours_in_status"] == 14.0
