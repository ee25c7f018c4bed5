"""Rising tags on the database (one grouped pass over the window and the window before it) equal
a direct count: threads per tag in each window, distinct authors in the window."""
from collections import Counter, defaultdict
from datetime import timedelta

from sqlalchemy import select, update

from collab import time
from collab.db import db
from collab.insights.service import rebuild
from collab.threads.models import Thread, ThreadTag
from tests.api.content import make_thread
from tests.insights.test_insights import busy, insights  # noqa: F401  (fixture)


def test_rising_tags_equal_a_direct_count(app, busy):
    employees, partners = busy["employees"], busy["partners"]
    # kubernetes also had two threads in the window before (40 days ago); billing is older.
    for person in employees[:2]:
        make_thread(person, "eng", "discussion", "Kubernetes upgrade", "Soon.",
                    tags=["kubernetes", "infra"])
    for person in partners:
        make_thread(person, "eng", "discussion", "Infra costs", "Too high.", tags=["infra"])
    with app.app_context():
        ids = list(db.session.scalars(select(Thread.id).where(
            Thread.title == "Kubernetes upgrade")))
        db.session.execute(update(Thread).where(Thread.id.in_(ids)).values(
            created_at=time.now() - timedelta(days=40)))
        db.session.commit()
        rebuild()
        end = time.now() + timedelta(minutes=1)
        start, before = end - timedelta(days=30), end - timedelta(days=60)
        rows = db.session.execute(select(ThreadTag.tag, Thread.author_id, Thread.created_at)
                                  .join(Thread, Thread.id == ThreadTag.thread_id)
                                  .where(Thread.deleted_at.is_(None))).all()
        db.session.remove()
    now, then, people = Counter(), Counter(), defaultdict(set)
    for tag, author, created in rows:
        if start <= created < end:
            now[tag] += 1
            people[tag].add(author)
        elif before <= created < start:
            then[tag] += 1
    body = insights(busy["owner"], **{"from": start.isoformat(), "to": end.isoformat()})
    tags = {t["tag"]: t for t in body["rising_topics"]["tags"]}
    assert body["rising_topics"]["engine"] == "database"
    assert set(tags) == {"kubernetes", "infra"}  # billing: older than both windows
    for tag, row in tags.items():
        assert (row["count"], row["background"], row["people"]) == (
            now[tag], then[tag], len(people[tag]))
        assert row["score"] == round((now[tag] + 1) / (then[tag] + 1), 4)
    assert tags["kubernetes"]["background"] == 2
