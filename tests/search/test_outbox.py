"""The outbox: rows written in the same transaction as the change, versions bumped, safe claiming."""
import threading
from datetime import timedelta

from sqlalchemy import func, select

from collab import time
from collab.communities.models import Community
from collab.db import db
from collab.outbox import OutboxRow
from collab.threads.models import Post, Thread
from search import indexer
from tests.search.helpers import API, make_post, make_thread, set_status, vote


def _rows(app) -> list[tuple[str, int]]:
    with app.app_context():
        rows = [(r.entity, r.entity_id) for r in db.session.scalars(
            select(OutboxRow).order_by(OutboxRow.id))]
        db.session.remove()
    return rows


def _versions(app, model, ids) -> list[int]:
    with app.app_context():
        versions = [db.session.get(model, i).version for i in ids]
        db.session.remove()
    return versions


def test_every_document_change_writes_an_outbox_row_for_its_thread(app, make_user, make_community):
    owner = make_user()
    make_community(owner, "ideas")
    thread = make_thread(owner, "ideas", kind="idea", title="Idea", body="b", tags=["x"])
    assert ("thread", thread["id"]) in _rows(app)
    version = _versions(app, Thread, [thread["id"]])[0]
    before = len(_rows(app))
    post = make_post(owner, thread["id"])
    assert set(_rows(app)[before:]) == {("thread", thread["id"])}  # a post is part of its thread
    assert _versions(app, Thread, [thread["id"]])[0] > version
    for change in (lambda: vote(owner, thread["id"], 1),
                   lambda: set_status(owner, thread["id"], "planned"),
                   lambda: owner.patch(f"{API}/posts/{post['id']}", json={"body": "edited"}),
                   lambda: owner.delete(f"{API}/posts/{post['id']}")):
        before, version = len(_rows(app)), _versions(app, Thread, [thread["id"]])[0]
        change()
        assert set(_rows(app)[before:]) == {("thread", thread["id"])}
        assert _versions(app, Thread, [thread["id"]])[0] > version
    before = len(_rows(app))
    thread_version = _versions(app, Thread, [thread["id"]])[0]
    response = owner.patch(f"{API}/communities/ideas", json={"visibility": "restricted"})
    assert response.status_code == 200
    assert _rows(app)[before:] == [("community", response.get_json()["id"])]
    assert _versions(app, Thread, [thread["id"]])[0] == thread_version + 1  # bulk bump
    owner.patch(f"{API}/communities/ideas", json={"audiences": ["employee", "partner"]})
    assert _rows(app)[-1] == ("community", response.get_json()["id"])


def test_a_post_moved_by_a_merge_rebuilds_both_threads(app, make_user, make_community):
    owner = make_user()
    make_community(owner, "ideas")
    kept = make_thread(owner, "ideas", kind="idea", title="Kept")
    duplicate = make_thread(owner, "ideas", kind="idea", title="Duplicate")
    post = make_post(owner, duplicate["id"])
    before = len(_rows(app))
    with app.app_context():
        db.session.get(Post, post["id"]).thread_id = kept["id"]
        db.session.commit()
        db.session.remove()
    assert set(_rows(app)[before:]) == {("thread", kept["id"]), ("thread", duplicate["id"])}


def test_the_outbox_row_rolls_back_with_the_change(app, make_user, make_community):
    owner = make_user()
    community = make_community(owner, "eng")
    thread = make_thread(owner, "eng")
    before = len(_rows(app))
    with app.app_context():
        row = db.session.get(Thread, thread["id"])
        row.title = "Renamed but rolled back"
        db.session.flush()  # rows are written once per transaction, before it commits
        assert db.session.scalar(select(func.count()).select_from(OutboxRow)) == before
        with db.session.begin_nested():  # a savepoint's commit writes them inside the transaction
            pass
        assert db.session.scalar(select(func.count()).select_from(OutboxRow)) == before + 1
        db.session.rollback()
        db.session.get(Community, community["id"]).archived = True
        db.session.commit()
        db.session.remove()
    rows = _rows(app)
    assert len(rows) == before + 1 and rows[-1] == ("community", community["id"])


def test_claims_never_overlap_and_crashed_claims_come_back(app, make_user, make_community):
    owner = make_user()
    make_community(owner, "eng")
    for i in range(30):
        make_thread(owner, "eng", title=f"t{i}")
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(OutboxRow))
        db.session.remove()
    claimed: list[list[int]] = []
    errors = []

    def worker():
        try:
            with app.app_context():
                for _ in range(10):
                    _, rows = indexer.claim(limit=5, worker="w")
                    claimed.append([r.id for r in rows])
                db.session.remove()
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ids = [i for batch in claimed for i in batch]
    assert len(ids) == len(set(ids)) == total  # every row exactly once
    with app.app_context():
        assert indexer.claim(limit=100)[1] == []  # all leased
        db.session.execute(OutboxRow.__table__.update().values(
            claimed_at=time.now() - indexer.LEASE - timedelta(seconds=1)))
        db.session.commit()
        token, rows = indexer.claim(limit=100)
        assert len(rows) == total  # the crashed worker's rows are taken over
        indexer.release(token, "test")
        db.session.remove()


def test_backoff_grows_and_is_capped():
    assert 1.6 <= indexer.backoff_seconds(1) <= 2.4
    assert indexer.backoff_seconds(5) > indexer.backoff_seconds(2)
    assert indexer.backoff_seconds(50) <= indexer.MAX_BACKOFF_SECONDS * 1.2
