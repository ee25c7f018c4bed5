"""A reply's post is written by a Core INSERT (threads.service.insert_post), outside the unit of
work: every feature that watches a flush's new posts must see it exactly as it sees a Post added
through the ORM. Two twin threads: one gets its replies through the API, the other the same
replies as ORM objects flushed by a commit; the search outbox, the post's version, the webhook
deliveries, the insight roll-ups (days and first replies), the concern score and the counters
must match."""
import json
from collections import Counter

from sqlalchemy import func, select

from collab import time
from collab.concerns.models import Concern
from collab.db import db
from collab.insights.models import InsightDay, ThreadFact
from collab.outbox import OutboxRow
from collab.threads.models import Post, Thread
from collab.webhooks.models import WebhookDelivery
from tests.api.content import API, join, make_post, make_thread

ANGRY = "This is terrible, awful and horrible. I hate it, it is a disgusting failure."


def _state(app, thread_id: int) -> dict:
    """What the features keep about one thread's replies, without ids that differ by nature."""
    with app.app_context():
        session = db.session
        outbox = [(row.entity, row.entity_id) for row in session.scalars(
            select(OutboxRow).where(OutboxRow.entity == "thread", OutboxRow.entity_id == thread_id)
            .order_by(OutboxRow.id))]
        posts = list(session.scalars(select(Post).where(Post.thread_id == thread_id)
                                     .order_by(Post.id)))
        deliveries = []
        for delivery in session.scalars(select(WebhookDelivery).where(
                WebhookDelivery.thread_id == thread_id, WebhookDelivery.event_type == "post.created")
                .order_by(WebhookDelivery.id)):
            data = json.loads(delivery.payload)["data"]
            post = data["post"]
            deliveries.append((delivery.community_id, data["community"]["slug"],
                               post["author_id"], post["body"], post["parent_id"] is not None))
        fact = session.get(ThreadFact, thread_id)
        concern = session.scalar(select(Concern).where(Concern.thread_id == thread_id))
        thread = session.get(Thread, thread_id)
        state = {
            "outbox": [entity for entity, _ in outbox],
            "versions": [p.version for p in posts],
            "bodies": [(p.author_id, p.body, p.parent_id is not None, p.upvotes, p.downvotes,
                        p.score, p.deleted_at, p.hidden_at) for p in posts],
            "deliveries": deliveries,
            "first_reply": fact is not None and fact.first_reply_at == posts[0].created_at,
            "concern": None if concern is None else (concern.score, concern.reasons, concern.state),
            "reply_count": thread.reply_count,
            "posts_counted": session.scalar(select(func.count()).select_from(Post).where(
                Post.thread_id == thread_id, Post.deleted_at.is_(None))),
        }
        db.session.remove()
    return state


def _insight_days(app) -> Counter:
    with app.app_context():
        rows = Counter()
        for row in db.session.scalars(select(InsightDay)):
            for name in ("posts", "threads", "replies_to_employee", "replies_to_partner",
                         "replies_to_customer", "replies_from_employee", "replies_from_partner",
                         "replies_from_customer"):
                rows[(row.community_id, row.day, row.user_id, name)] += getattr(row, name)
        db.session.remove()
    return rows


def _orm_reply(app, thread_id: int, author_id: int, body: str, parent_id: int | None = None):
    """A reply as the unit of work writes it: a Post added to the session, flushed by the commit
    (the counters are the service's, not the listeners': set as create_post sets them)."""
    with app.app_context():
        now = time.now()
        db.session.add(Post(thread_id=thread_id, author_id=author_id, parent_id=parent_id,
                            body=body, created_at=now, updated_at=now))
        thread = db.session.get(Thread, thread_id)
        thread.reply_count += 1
        db.session.commit()
        post_id = db.session.scalar(select(func.max(Post.id)).where(Post.thread_id == thread_id))
        db.session.remove()
    return post_id


def test_every_listener_sees_a_core_reply_as_an_orm_one(app, make_user, make_community):
    owner = make_user("owner")
    partner = make_user("pia", audience="partner", organization="acme")
    make_community(owner, "lab", audiences=["employee", "partner", "customer"])
    join(partner, "lab")
    response = owner.post(f"{API}/webhooks", json={"url": "http://127.0.0.1:9/hook",
                                                    "events": ["post.created"]})
    assert response.status_code == 201, response.get_json()
    core = make_thread(owner, "lab", "question", "Twin one", "How?")
    orm = make_thread(owner, "lab", "question", "Twin two", "How?")
    days = _insight_days(app)

    first = make_post(partner, core["id"], "Like this.")
    core_days = _insight_days(app) - days
    days = _insight_days(app)
    orm_first = _orm_reply(app, orm["id"], partner.id, "Like this.")
    assert _insight_days(app) - days == core_days and core_days  # the same cells moved

    days = _insight_days(app)
    make_post(owner, core["id"], "Thanks!", parent_id=first["id"])
    make_post(partner, core["id"], ANGRY)
    core_days = _insight_days(app) - days
    days = _insight_days(app)
    _orm_reply(app, orm["id"], owner.id, "Thanks!", parent_id=orm_first)
    _orm_reply(app, orm["id"], partner.id, ANGRY)
    assert _insight_days(app) - days == core_days and core_days

    core_state, orm_state = _state(app, core["id"]), _state(app, orm["id"])
    assert core_state == orm_state
    # What both must hold, not only alike: one outbox row per transaction, versions bumped once,
    # one delivery per reply, the first reply recorded, the angry reply's concern opened.
    assert core_state["outbox"].count("thread") >= 4  # the thread's creation, then each reply
    assert core_state["versions"] == [2, 2, 2]
    assert [d[3] for d in core_state["deliveries"]] == ["Like this.", "Thanks!", ANGRY]
    assert all(d[1] == "lab" for d in core_state["deliveries"])
    assert core_state["first_reply"]
    assert core_state["concern"] is not None and core_state["concern"][2] == "open"
    assert core_state["reply_count"] == core_state["posts_counted"] == 3


def test_a_rejected_reply_writes_nothing(app, make_user, make_community):
    """A reply that fails its checks (a parent from another thread) leaves no row behind in any
    feature's table: the Core INSERT and its listeners' writes roll back together."""
    owner = make_user("owner")
    make_community(owner, "lab")
    one = make_thread(owner, "lab", "discussion", "One")
    other = make_thread(owner, "lab", "discussion", "Other")
    elsewhere = make_post(owner, other["id"], "Elsewhere.")
    before = _state(app, one["id"])
    response = owner.post(f"{API}/threads/{one['id']}/posts",
                          json={"body": ANGRY, "parent_id": elsewhere["id"]})
    assert response.status_code == 422, response.get_json()
    assert "parent_id" in response.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post).where(
            Post.thread_id == one["id"])) == 0
        db.session.remove()
    after = dict(_state(app, one["id"]))
    assert after == before


def test_a_core_post_alone_queues_its_thread_once(app, make_user, make_community):
    """insert_post without the thread's counters (write_counters queues the thread too): the
    outbox listener alone queues the thread's document and bumps its version, once."""
    from collab.threads.service import insert_post

    owner = make_user("owner")
    make_community(owner, "lab")
    thread = make_thread(owner, "lab", "discussion", "One")
    with app.app_context():
        version = db.session.get(Thread, thread["id"]).version
        rows = db.session.scalar(select(func.count()).select_from(OutboxRow))
        db.session.remove()
    with app.app_context():
        now = time.now()
        post = insert_post(thread_id=thread["id"], author_id=owner.id, parent_id=None,
                           body="Alone.", created_at=now, updated_at=now)
        db.session.commit()
        assert db.session.get(Thread, thread["id"]).version == version + 1
        assert db.session.get(Post, post.id).version == 2
        assert [(r.entity, r.entity_id) for r in db.session.scalars(
            select(OutboxRow).order_by(OutboxRow.id).offset(rows))] == [("thread", thread["id"])]
        db.session.remove()
