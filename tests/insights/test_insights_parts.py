"""Response times, answer rate, unanswered questions by age, the idea funnel and concerns must equal
a direct computation over the rows (threads, posts, status changes, concerns) on both engines,
organisation-wide and per community, for `to` = now and a `to` in the past, after writes of every
kind: replies, a deleted first reply, accepted answers (one later deleted), status changes, a
deleted and a merged idea, a deleted question, concerns opened, resolved and dismissed, a
concern's thread deleted. PostgreSQL answers these from its own statements
(collab/insights/figures.py, the organisation funnel's index reads), SQLite from the general ones."""
import random
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from collab import time
from collab.concerns.models import Concern
from collab.db import db
from collab.ideas.models import IdeaStatusChange
from collab.insights import service
from collab.insights.models import ThreadFact
from collab.threads.models import Post, Thread
from tests.api.content import API, join, make_post, make_thread, promote, set_status

ANGRY = ("This is unacceptable. The export has been broken for three weeks, we lost data again "
         "and nobody answers. We are considering legal action.")
STATUSES = ("under_review", "planned", "in_progress", "done")


@pytest.fixture
def history(app, monkeypatch, make_user, make_community):
    """14 people in eng and ops over 12 days: questions answered after varied delays (some
    accepted), ideas moving through statuses, angry threads that open concerns; then removals."""
    start = (datetime.now(UTC) - timedelta(days=13)).replace(microsecond=0)
    moment = [start]
    monkeypatch.setattr(time, "now", lambda: moment[0])
    rng = random.Random(7)
    owner, admin = make_user("owner"), make_user("root", is_admin=True)
    moderator = make_user("mod")
    for slug in ("eng", "ops"):
        make_community(owner, slug)
        promote(owner, moderator, slug)
    people = [make_user(f"p{i}") for i in range(14)]
    for person in people:
        for slug in ("eng", "ops"):
            join(person, slug)
    questions, ideas, angry = [], [], []
    for day in range(12):
        for i, person in enumerate(people):
            if day in (1, 4, 6, 10) and i % 2 == 0:
                moment[0] += timedelta(minutes=7)
                angry.append((person, make_thread(person, "eng" if i % 4 else "ops",
                                                  "discussion", f"Broken {day}-{i}", ANGRY)))
                make_post(people[(i + 3) % 14], angry[-1][1]["id"], "Looking into it.")
            if day in (0, 3, 6):
                moment[0] += timedelta(minutes=5)
                slug = "eng" if i % 2 else "ops"
                idea = make_thread(person, slug, "idea", f"Idea {day}-{i}", "Do.")
                ideas.append((person, {**idea, "slug": slug}))
            if (i + day) % 3:
                continue
            moment[0] = max(moment[0] + timedelta(minutes=1), start + timedelta(
                days=day, hours=rng.randint(0, 20), seconds=rng.randint(0, 3599)))
            slug = "eng" if i % 2 else "ops"
            question = make_thread(person, slug, "question", f"Question {day}-{i}", "How?")
            questions.append((person, question))
            if rng.random() < 0.8:
                moment[0] += timedelta(minutes=rng.randint(1, 300))
                helper = people[(i + 1 + rng.randint(0, 12)) % 14]
                reply = make_post(helper, question["id"], "Like this.")
                if rng.random() < 0.6:
                    moment[0] += timedelta(minutes=rng.randint(1, 200))
                    assert person.post(f"{API}/posts/{reply['id']}/accept").status_code == 200
        for person, idea in ideas:
            if rng.random() < 0.25:
                status = get_status(idea)
                if status in STATUSES[:-1] or status == "new":
                    moment[0] += timedelta(minutes=rng.randint(1, 300))
                    following = STATUSES[0] if status == "new" else STATUSES[
                        STATUSES.index(status) + 1]
                    set_status(owner, idea["id"], following)
                    idea["status"] = following
    moment[0] += timedelta(hours=1)
    # Removals: a first reply, an accepted answer, a question, an idea deleted, an idea merged.
    answered = [q for _, q in questions if q["id"] in _accepted_questions(app)]
    first = _first_reply(app, answered[0]["id"])
    assert moderator.delete(f"{API}/posts/{first}").status_code == 204
    replied = [q for _, q in questions[5:] if _first_reply(app, q["id"])]
    assert moderator.delete(f"{API}/threads/{replied[0]['id']}").status_code == 204
    assert moderator.delete(f"{API}/threads/{ideas[1][1]['id']}").status_code == 204
    merged, into = [idea for _, idea in ideas[2:] if idea["slug"] == ideas[2][1]["slug"]][:2]
    response = owner.post(f"{API}/threads/{merged['id']}/merge", json={"into": into["id"]})
    assert response.status_code == 200, response.get_json()
    # Concerns: seven resolved, one dismissed, two acknowledged, one's thread deleted.
    with app.app_context():
        concern_ids = db.session.scalars(select(Concern.id).order_by(Concern.id)).all()
        db.session.remove()
    assert len(concern_ids) == len(angry) >= 20
    for concern_id, state in zip(concern_ids[::2], ["resolved"] * 7 + ["dismissed"]
                                 + ["acknowledged"] * 2):
        moment[0] += timedelta(minutes=30)
        response = moderator.patch(f"{API}/concerns/{concern_id}", json={"state": state})
        assert response.status_code == 200, response.get_json()
    assert moderator.delete(f"{API}/threads/{angry[-1][1]['id']}").status_code == 204
    moment[0] += timedelta(minutes=5)
    return {"start": start, "owner": owner, "admin": admin}


def get_status(idea: dict) -> str:
    return idea.get("status") or "new"


def _accepted_questions(app) -> set[int]:
    with app.app_context():
        ids = set(db.session.scalars(select(Thread.id).where(Thread.accepted_post_id.is_not(None))))
        db.session.remove()
    return ids


def _first_reply(app, thread_id: int) -> int | None:
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        post_id = db.session.scalar(
            select(Post.id).where(Post.thread_id == thread_id, Post.deleted_at.is_(None),
                                  Post.author_id != thread.author_id)
            .order_by(Post.created_at, Post.id).limit(1))
        db.session.remove()
    return post_id


def _k(value, people: int) -> dict:
    if people < 5:
        return {"value": None, "people": None, "suppressed": True}
    return {"value": value, "people": people, "suppressed": False}


def _direct(app, slug: str | None, start: datetime, end: datetime) -> dict:
    """The five figures from the rows, in Python."""
    with app.app_context():
        threads = db.session.execute(select(Thread)).scalars().all()
        community = {t.id: t.community.slug for t in threads}
        live = {t.id: t for t in threads if t.deleted_at is None and t.merged_into_id is None
                and (slug is None or community[t.id] == slug)}
        posts = db.session.execute(select(Post).where(Post.deleted_at.is_(None))).scalars().all()
        changes = db.session.execute(select(IdeaStatusChange).order_by(
            IdeaStatusChange.thread_id, IdeaStatusChange.id)).scalars().all()
        concerns = db.session.execute(select(Concern)).scalars().all()
        first_reply = {}
        for post in posts:
            thread = live.get(post.thread_id)
            if thread is not None and post.author_id != thread.author_id:
                first_reply[thread.id] = min(first_reply.get(thread.id, post.created_at),
                                             post.created_at)
        questions = [t for t in live.values()
                     if t.kind == "question" and start <= t.created_at < end]
        measures = {}
        for name, reached in (
                ("first_reply_hours", lambda t: first_reply.get(t.id)),
                ("accepted_answer_hours", lambda t: t.answer_accepted_at
                 if t.accepted_post_id is not None else None)):
            counted = [t for t in questions if reached(t) is not None and reached(t) < end]
            hours = sorted((reached(t) - t.created_at).total_seconds() / 3600 for t in counted)
            if hours and len({t.author_id for t in counted}) >= 5:
                measures[name] = {"p50": round(statistics.median(hours), 2),
                                  "p90": round(hours[int(round(0.9 * (len(hours) - 1)))], 2),
                                  "count": len(hours), "suppressed": False}
            else:
                measures[name] = {"p50": None, "p90": None, "count": None, "suppressed": True}
        authors = len({t.author_id for t in questions})
        answered = sum(1 for t in questions if t.accepted_post_id is not None)
        rate = round(answered / len(questions), 3) if questions else None
        ages = defaultdict(lambda: [0, set()])
        for t in live.values():
            if t.kind == "question" and t.accepted_post_id is None and t.created_at < end:
                age = next((key for key, days in service.UNANSWERED_AGES
                            if days is not None and t.created_at > end - timedelta(days=days)),
                           "over_30_days")
                ages[age][0] += 1
                ages[age][1].add(t.author_id)
        statuses = defaultdict(lambda: [0, set()])
        for t in live.values():
            if t.kind == "idea" and t.created_at < end:
                statuses[t.status][0] += 1
                statuses[t.status][1].add(t.author_id)
        stays, entered, previous = defaultdict(list), None, None
        for change in changes:  # each stay paired with the change before it (or the creation)
            if change.thread_id != previous:
                previous = change.thread_id
                entered = db.session.get(Thread, change.thread_id).created_at
            if change.thread_id in live and change.created_at < end:
                stays[change.from_status].append((change.created_at - entered).total_seconds()
                                                 / 3600)
            entered = change.created_at
        figures = {"opened": [0, set()], "resolved": [0, set()], "open_now": [0, set()]}
        for concern in concerns:
            thread = live.get(concern.thread_id)
            if thread is None or concern.opened_at >= end or thread.created_at >= end:
                continue
            for name, counted in (
                    ("opened", start <= concern.opened_at < end),
                    ("resolved", concern.resolved_at is not None
                     and start <= concern.resolved_at < end),
                    ("open_now", concern.state in ("open", "acknowledged"))):
                if counted:
                    figures[name][0] += 1
                    figures[name][1].add(thread.author_id)
        db.session.remove()
    return {
        "response_times": measures,
        "answer_rate": {"questions": _k(len(questions), authors), "rate": _k(rate, authors)},
        "unanswered_by_age": [{"age": key, **_k(ages[key][0], len(ages[key][1]))}
                              for key, _ in service.UNANSWERED_AGES],
        "idea_funnel": [{"status": status, **_k(statuses[status][0], len(statuses[status][1])),
                         "median_hours_in_status": (
                             round(statistics.median(stays[status]), 2)
                             if stays[status] and len(statuses[status][1]) >= 5 else None)}
                        for status in service.IDEA_STATUSES],
        "concerns": {name: _k(count, len(people)) for name, (count, people) in figures.items()},
    }


def test_question_idea_and_concern_figures_equal_a_direct_computation(app, history):
    start, now = history["start"], time.now()
    windows = [(start - timedelta(days=1), now), (start + timedelta(days=2, hours=5), now),
               (start + timedelta(days=1, hours=3), start + timedelta(days=7, hours=11)),
               (start + timedelta(days=3), start + timedelta(days=5))]
    shown = defaultdict(int)
    for lower, upper in windows:
        query = {"interval": "week", "from": lower.isoformat(), "to": upper.isoformat()}
        for slug in (None, "eng", "ops"):
            caller = history["admin"] if slug is None else history["owner"]
            url = f"{API}/insights" if slug is None else f"{API}/communities/{slug}/insights"
            response = caller.get(url, query_string=query)
            assert response.status_code == 200, response.get_json()
            body = response.get_json()
            want = _direct(app, slug, lower, upper)
            for name, figure in want.items():
                assert body[name] == figure, (name, slug, lower, upper)
            shown["response times"] += sum(not m["suppressed"]
                                           for m in body["response_times"].values())
            shown["medians"] += sum(row["median_hours_in_status"] is not None
                                    for row in body["idea_funnel"])
            shown["unanswered"] += sum(not row["suppressed"] for row in body["unanswered_by_age"])
            shown["concerns"] += sum(not c["suppressed"] for c in body["concerns"].values())
    # The comparison saw figures, not only suppressed cells.
    assert all(shown[name] >= 3 for name in ("response times", "medians", "unanswered",
                                             "concerns")), dict(shown)


def test_question_facts_are_marked_by_the_trigger_and_after_a_rebuild(app, history):
    """Every first-reply fact says whether its thread is a question (a trigger at its insert,
    migration 0031): after replies and after `flask insights rebuild` (which deletes and inserts
    every fact); the response times then still equal the direct computation."""
    def marks():
        with app.app_context():
            rows = db.session.execute(select(ThreadFact.question, Thread.kind).join(
                Thread, Thread.id == ThreadFact.thread_id)).all()
            db.session.remove()
        return rows
    before = marks()
    assert len(before) > 20 and {kind for _, kind in before} >= {"question", "discussion"}
    assert all(bool(question) == (kind == "question") for question, kind in before)
    with app.app_context():
        service.rebuild()
        db.session.commit()
        db.session.remove()
    assert sorted(marks()) == sorted(before)
    lower, upper = history["start"] - timedelta(days=1), time.now()
    body = history["admin"].get(f"{API}/insights", query_string={
        "interval": "week", "from": lower.isoformat(), "to": upper.isoformat()}).get_json()
    want = _direct(app, None, lower, upper)["response_times"]
    assert body["response_times"] == want and not want["first_reply_hours"]["suppressed"]
