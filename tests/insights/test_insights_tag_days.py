"""The tag roll-up of rising topics (insight_tag_days): after writes of every kind (new threads
with tags, tag edits, deletes, hiding and restoring, a merge, a move between communities, a new
author, a new creation time, a hard delete) the rows the session events keep equal a direct
computation from threads and tags and what `flask insights rebuild` produces, and the rising tags
of windows with partial first and last days equal a direct count."""
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from collab import time
from collab.db import db
from collab.expertise.service import significant_words
from collab.insights import rising, service
from collab.insights.models import ORGANIZATION
from collab.insights.tag_days import EVERYONE, InsightTagDay
from collab.threads.models import Thread, ThreadTag
from tests.api.content import API, join, make_thread

TAGS = ("infra", "billing", "kubernetes")


@pytest.fixture
def clock(monkeypatch):
    start = (datetime.now(UTC) - timedelta(days=9)).replace(hour=21, minute=0, second=0,
                                                            microsecond=0)
    moment = [start]
    monkeypatch.setattr(time, "now", lambda: moment[0])
    return moment


def _stored(app) -> Counter:
    with app.app_context():
        rows = Counter({(r.community_id, r.user_id, str(r.day), r.tag): r.threads
                        for r in db.session.scalars(select(InsightTagDay))})
        db.session.remove()
    return rows


def _direct(app) -> Counter:
    """The roll-up's rows straight from live threads and their tags, in Python."""
    rows = Counter()
    with app.app_context():
        for community_id, author_id, created_at, tag in db.session.execute(
                select(Thread.community_id, Thread.author_id, Thread.created_at, ThreadTag.tag)
                .join(ThreadTag, ThreadTag.thread_id == Thread.id)
                .where(Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None))):
            day = str(created_at.astimezone(UTC).date())
            for scope in (community_id, ORGANIZATION):
                for person in (author_id, EVERYONE):
                    rows[(scope, person, day, tag)] += 1
        db.session.remove()
    return rows


def _rising_direct(app, community_id, start, end) -> list[dict]:
    before = start - (end - start)
    now, then, people = Counter(), Counter(), defaultdict(set)
    with app.app_context():
        for community, author_id, created_at, tag in db.session.execute(
                select(Thread.community_id, Thread.author_id, Thread.created_at, ThreadTag.tag)
                .join(ThreadTag, ThreadTag.thread_id == Thread.id)
                .where(Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None))):
            if community_id is not None and community != community_id:
                continue
            if start <= created_at < end:
                now[tag] += 1
                people[tag].add(author_id)
            elif before <= created_at < start:
                then[tag] += 1
        db.session.remove()
    ranked = sorted((((now[t] + 1) / (then[t] + 1), t) for t in now
                     if len(people[t]) >= 5 and now[t] > then[t]), reverse=True)
    return [{"tag": t, "count": now[t], "background": then[t], "score": round(score, 4),
             "people": len(people[t])} for score, t in ranked[:rising.RISING]]


def _check(app, owner, admin, communities, moments):
    """Stored rows = direct rows = rebuilt rows; rising tags = a direct count, for windows
    starting and ending mid-day (and on midnights), organisation-wide and per community, through
    the one statement (the API) and through the chunked reads that follow it when its first
    CANDIDATES candidates hold fewer than RISING shown tags (here: one candidate a chunk)."""
    kept = _stored(app)
    assert +kept == +_direct(app)
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(rising, "CANDIDATES", 1)
        for start, end in moments:
            for community_id in (None, *communities.values()):
                assert (rising.tags(None if community_id is None else [community_id], start, end)
                        == _rising_direct(app, community_id, start, end))
        db.session.remove()
    for start, end in moments:
        body = admin.get(f"{API}/insights", query_string={
            "from": start.isoformat(), "to": end.isoformat()}).get_json()
        assert body["rising_topics"]["engine"] == "database"
        assert body["rising_topics"]["tags"] == _rising_direct(app, None, start, end)
        for slug, community_id in communities.items():
            response = owner.get(f"{API}/communities/{slug}/insights", query_string={
                "from": start.isoformat(), "to": end.isoformat()})
            assert response.status_code == 200, response.get_json()
            assert (response.get_json()["rising_topics"]["tags"]
                    == _rising_direct(app, community_id, start, end))
    with app.app_context():
        service.rebuild()
        db.session.remove()
    assert _stored(app) == kept


def test_tag_roll_up_equals_a_direct_computation_after_writes(app, clock, make_user,
                                                               make_community):
    owner = make_user("owner")
    admin = make_user("root", is_admin=True)
    communities = {slug: make_community(owner, slug)["id"] for slug in ("eng", "ops")}
    people = [make_user(f"p{i}") for i in range(8)]
    for person in people:
        for slug in communities:
            join(person, slug)
    first = clock[0]
    threads = []
    # Eight days of threads, some after midnight: infra all along, kubernetes rising lately.
    for day in range(8):
        for i, person in enumerate(people):
            clock[0] = first + timedelta(days=day, hours=i % 4, minutes=i)
            tags = ["infra"] + (["kubernetes"] if day >= 5 or i < 2 else []) + (
                ["billing"] if day < 3 else [])
            threads.append(make_thread(person, "eng" if (day + i) % 3 else "ops", "discussion",
                                       f"Topic {day}-{i}", "Body.", tags=tags))
    clock[0] = first + timedelta(days=8, hours=2)
    now = clock[0]
    moments = [(now - timedelta(days=4, hours=1), now + timedelta(minutes=1)),
               (now - timedelta(days=3), now),
               (first.replace(hour=0) + timedelta(days=5), first.replace(hour=0)
                + timedelta(days=8)),
               (now - timedelta(hours=5), now + timedelta(minutes=1))]
    _check(app, owner, admin, communities, moments)

    # Tag edits (author), a delete, hiding and restoring, a merge of ideas.
    edit = people[0].patch(f"{API}/threads/{threads[-8]['id']}",
                           json={"tags": ["billing", "kubernetes"]})
    assert edit.status_code == 200, edit.get_json()
    edit = people[1].patch(f"{API}/threads/{threads[-7]['id']}", json={"tags": []})
    assert edit.status_code == 200, edit.get_json()
    assert people[2].delete(f"{API}/threads/{threads[-6]['id']}").status_code == 204
    for action in ("hide", "restore", "hide"):
        response = owner.post(f"{API}/threads/{threads[-13]['id']}/moderation",
                              json={"action": action, "reason": "Test."})
        assert response.status_code == 200, response.get_json()
    ideas = [make_thread(people[i], "eng", "idea", f"Idea {i}", "Do it.", tags=["kubernetes"])
             for i in range(2)]
    response = owner.post(f"{API}/threads/{ideas[0]['id']}/merge", json={"into": ideas[1]["id"]})
    assert response.status_code == 200, response.get_json()
    _check(app, owner, admin, communities, moments)

    # ORM writes without an endpoint: a move between communities, a new author, a new creation
    # time (to the day before), a hard delete; then bulk SQL that bypasses the events.
    with app.app_context():
        moved, authored, dated, gone = (db.session.get(Thread, threads[i]["id"])
                                        for i in (-1, -2, -20, -3))
        moved.community_id = communities["ops" if moved.community_id == communities["eng"]
                                         else "eng"]
        authored.author_id = people[7].id
        dated.created_at -= timedelta(days=1)
        db.session.delete(gone)
        db.session.commit()
        db.session.remove()
    _check(app, owner, admin, communities, moments)

    with app.app_context():
        db.session.execute(delete(ThreadTag).where(ThreadTag.thread_id == threads[-4]["id"]))
        db.session.commit()
        assert +_stored(app) != +_direct(app)  # bypassed: the rebuild (in _check) catches up
        service.rebuild()
        db.session.remove()
    _check(app, owner, admin, communities, moments)


def test_rising_words_equal_the_two_samples(app, clock, make_user, make_community, monkeypatch):
    """The one read of the latest titles up to `to` (the window's sample its first rows) gives
    the words of the two separate samples: the window's latest titles against the latest up to
    `to`, each word used by at least 5 authors of the window's; small samples, so the window's
    sample is cut in the longer windows and not in the shortest. The words are memoised by the
    rows read: after titles are edited and a thread deleted they are the new samples' words."""
    monkeypatch.setattr(rising, "RISING_SAMPLE", 12)
    monkeypatch.setattr(rising, "RISING_BACKGROUND", 30)
    owner = make_user("owner")
    make_community(owner, "eng")
    people = [make_user(f"w{i}") for i in range(7)]
    for person in people:
        join(person, "eng")
    first = clock[0]
    made = []
    for day in range(6):
        for i, person in enumerate(people):
            clock[0] = first + timedelta(days=day, hours=i)
            word = "outage" if day >= 4 else "billing"
            made.append(make_thread(person, "eng", "discussion", f"{word} report {day} {i % 3}",
                                    "Body."))
    clock[0] = first + timedelta(days=6)
    end = clock[0]

    def expected(start):
        live = [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)]
        current = db.session.execute(
            select(Thread.author_id, Thread.title)
            .where(*live, Thread.created_at >= start, Thread.created_at < end)
            .order_by(Thread.created_at.desc(), Thread.id.desc()).limit(12)).all()
        background = list(db.session.scalars(
            select(Thread.title).where(*live, Thread.created_at < end)
            .order_by(Thread.created_at.desc(), Thread.id.desc()).limit(30)))
        authors = defaultdict(set)
        for author_id, title in current:
            for word in set(title.lower().split()):
                authors[word].add(author_id)
        return [{**w, "background": None, "people": len(authors[w["term"]])}
                for w in significant_words([t for _, t in current], background, 30)
                if len(authors[w["term"]]) >= 5][:rising.RISING]

    windows = (end - timedelta(days=2, hours=3), end - timedelta(hours=30),
               end - timedelta(days=9))
    for start in windows:
        with app.app_context():
            assert rising.words(None, start, end) == expected(start)
            db.session.remove()
    with app.app_context():
        hits = rising._significant.cache_info().hits
        found = rising.words(None, windows[0], end)
        assert rising._significant.cache_info().hits == hits + 1  # the same rows: memoised
        db.session.remove()
    assert [w["term"] for w in found][:1] == ["outage"]

    # New titles (an author's edit through the API, ORM writes) and a deleted thread.
    response = people[6].patch(f"{API}/threads/{made[-1]['id']}",
                               json={"title": "invoice report 5"})
    assert response.status_code == 200, response.get_json()
    assert people[5].delete(f"{API}/threads/{made[-2]['id']}").status_code == 204
    with app.app_context():
        for thread in db.session.scalars(select(Thread).where(Thread.title.like("outage%"))):
            thread.title = thread.title.replace("outage", "invoice")
        db.session.commit()
        for start in windows:
            assert rising.words(None, start, end) == expected(start)
        found = rising.words(None, windows[0], end)
        db.session.remove()
    assert [w["term"] for w in found][:1] == ["invoice"]


def test_rising_tags_leave_out_candidates_of_fewer_than_five_people(app, clock, make_user,
                                                                    make_community):
    """A tag used in many threads by one person ranks first and is left out (k-anonymity); the
    tag of five people after it is shown, in the one statement and in the chunked reads."""
    owner = make_user("owner")
    admin = make_user("root", is_admin=True)
    community_id = make_community(owner, "eng")["id"]
    people = [make_user(f"k{i}") for i in range(5)]
    for person in people:
        join(person, "eng")
    first = clock[0]
    for i in range(9):
        clock[0] = first + timedelta(hours=i)
        make_thread(people[0], "eng", "discussion", f"Solo {i}", "Body.", tags=["solo"])
    for i, person in enumerate(people):
        clock[0] = first + timedelta(days=1, hours=i)
        make_thread(person, "eng", "discussion", f"Team {i}", "Body.", tags=["team"])
    clock[0] = first + timedelta(days=2)
    start, end = first - timedelta(hours=2), clock[0]
    body = admin.get(f"{API}/insights", query_string={
        "from": start.isoformat(), "to": end.isoformat()}).get_json()
    expected = [{"tag": "team", "count": 5, "background": 0, "score": 6.0, "people": 5}]
    assert body["rising_topics"]["tags"] == expected == _rising_direct(app, None, start, end)
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        for candidates in (1, 2, 50):
            patch.setattr(rising, "CANDIDATES", candidates)
            assert rising.tags(None, start, end) == expected
            assert rising.tags([community_id], start, end) == expected
        db.session.remove()
