"""Expertise at scale on the database engine: a thread matches on its own title, body and tags
(not on its posts), the evidence comes from the newest matching threads only, and the person's
topics come from bounded samples; permissions as before."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from collab import time
from collab.db import db
from collab.expertise import service
from collab.threads.models import Thread
from search import queries
from tests.api.content import API, join, make_post, make_thread
from tests.insights.test_experts import accept, experts, handles


@pytest.fixture
def eng(make_user, make_community):
    owner = make_user("owner")
    make_community(owner, "eng", visibility="open")
    make_community(owner, "vault", visibility="private")
    return owner


def answers_aged_1_100_400_days(app, eng, make_user) -> None:
    """Accepted answers by "day", "quarter" and "ancient" in "grafana" threads started 1, 100 and
    400 days ago (the windows' boundaries lie between them)."""
    people = [make_user(h) for h in ("day", "quarter", "ancient")]
    threads = []
    for person, age in zip(people, (1, 100, 400)):
        join(person, "eng")
        question = make_thread(eng, "eng", "question", f"Grafana panel {age}", "Blank.")
        accept(eng, make_post(person, question["id"], "Refresh the datasource.")["id"])
        threads.append((question["id"], age))
    with app.app_context():
        for thread_id, age in threads:
            db.session.execute(update(Thread).where(Thread.id == thread_id).values(
                created_at=time.now() - timedelta(days=age)))
        db.session.commit()


def test_a_word_only_in_a_reply_does_not_make_the_thread_evidence(eng, make_user):
    talker, expert = make_user("talker"), make_user("expert")
    join(talker, "eng")
    join(expert, "eng")
    lunch = make_thread(eng, "eng", "discussion", "Friday lunch plans", "Pizza or sushi?")
    make_post(talker, lunch["id"], "Sushi, then we talk about kafka offsets.")
    question = make_thread(eng, "eng", "question", "Kafka consumer lag", "Offsets keep growing.")
    accept(eng, make_post(expert, question["id"], "Commit the offsets less often.")["id"])
    ranked = handles(experts(eng, q="kafka"))
    assert ranked[0] == "expert"
    assert "talker" not in ranked


def test_a_tag_alone_makes_the_thread_evidence(eng, make_user):
    expert = make_user("expert")
    join(expert, "eng")
    question = make_thread(eng, "eng", "question", "Consumer lag keeps growing", "Help.",
                           tags=["kafka"])
    accept(eng, make_post(expert, question["id"], "Commit less often.")["id"])
    result = experts(eng, q="kafka")
    assert handles(result)[0] == "expert"
    assert result["items"][0]["why"]["tags"] == ["kafka"]
    assert result["items"][0]["why"]["evidence"][0]["thread_id"] == question["id"]


def test_evidence_comes_from_the_newest_matching_threads_only(app, eng, make_user, monkeypatch):
    """With a sample of two threads, the two newest count, an older one not."""
    old, new = make_user("old"), make_user("new")
    join(old, "eng")
    join(new, "eng")
    threads = []
    for i, person in enumerate((old, new, new)):
        question = make_thread(eng, "eng", "question", f"Terraform state lock {i}", "Stuck.")
        accept(eng, make_post(person, question["id"], "Unlock the state.")["id"])
        threads.append(question["id"])
    with app.app_context():
        for age, thread_id in zip((30, 2, 1), threads):
            db.session.execute(update(Thread).where(Thread.id == thread_id).values(
                created_at=time.now() - timedelta(days=age)))
        db.session.commit()
    assert set(handles(experts(eng, q="terraform"))) >= {"old", "new"}
    monkeypatch.setattr(queries, "EXPERT_SAMPLE", 2)
    result = experts(eng, q="terraform")
    assert "old" not in handles(result)
    top = result["items"][0]
    assert top["user"]["handle"] == "new" and top["why"]["accepted_answers"] == 2
    assert [e["thread_id"] for e in top["why"]["evidence"]] == [threads[2], threads[1]]


def test_grouped_counts_by_age_and_votes(app, eng, make_user):
    """Replies, accepted answers and threads started are counted per age bucket in SQL; net
    up-votes on threads they started count, down-voted threads never subtract."""
    asker, answerer = make_user("asker"), make_user("answerer")
    for person in (asker, answerer):
        join(person, "eng")
    liked = make_thread(asker, "eng", "question", "Vault token renewal", "How?")
    disliked = make_thread(asker, "eng", "question", "Vault policy paths", "Why?")
    accept(asker, make_post(answerer, liked["id"], "Renew it hourly.")["id"])
    make_post(answerer, disliked["id"], "Check the paths.")
    with app.app_context():
        db.session.execute(update(Thread).where(Thread.id == liked["id"]).values(
            upvotes=2, downvotes=1))
        db.session.execute(update(Thread).where(Thread.id == disliked["id"]).values(
            created_at=time.now() - timedelta(days=200), upvotes=0, downvotes=3))
        db.session.commit()
    items = {i["user"]["handle"]: i for i in experts(eng, q="vault")["items"]}
    assert items["answerer"]["why"] | {"evidence": None, "tags": None} == {
        "accepted_answers": 1, "replies": 2, "threads_started": 0, "upvotes_received": 0,
        "recent_contributions": 2, "evidence": None, "tags": None}
    asked = items["asker"]["why"]
    assert (asked["threads_started"], asked["upvotes_received"],
            asked["recent_contributions"]) == (2, 1, 1)
    # 1 accepted (4) + 1 reply (1), all recent; the asker: a recent thread (0.5), a year-old
    # one (0.5 * 0.5) and log2(1 + 1) for the up-vote.
    assert items["answerer"]["score"] == 5.0
    assert items["asker"]["score"] == 1.75


def test_hidden_threads_never_enter_the_sample(app, eng, make_user, monkeypatch):
    """The sample is taken among visible threads: newer hidden ones cannot push visible ones out."""
    expert, secret = make_user("expert"), make_user("secret")
    join(expert, "eng")
    question = make_thread(eng, "eng", "question", "Helm chart values", "Which ones?")
    accept(eng, make_post(expert, question["id"], "Override them per release.")["id"])
    assert eng.post(f"{API}/communities/vault/members", json={"user_id": secret.id}).status_code == 201
    join(secret, "vault")
    for i in range(3):
        hidden = make_thread(eng, "vault", "question", f"Helm secret {i}", "Hidden.")
        accept(eng, make_post(secret, hidden["id"], "Hidden fix.")["id"])
    monkeypatch.setattr(queries, "EXPERT_SAMPLE", 1)
    viewer = make_user("viewer")
    assert handles(experts(viewer, q="helm")) == ["expert", "owner"]  # owner started it
    assert handles(experts(eng, q="helm")) == ["secret", "owner"]  # the owner sees the vault
    assert handles(experts(eng, q="helm", community="eng")) == ["expert", "owner"]


def test_person_topics_from_bounded_samples(app, eng, make_user, monkeypatch):
    """Significant words come from their newest posts and a bounded background."""
    writer = make_user("writer")
    join(writer, "eng")
    for i in range(3):
        thread = make_thread(eng, "eng", "question", f"Question {i}", "Anything.")
        make_post(writer, thread["id"], "Tune the garbage collector pauses.")
    for i in range(3):
        thread = make_thread(eng, "eng", "question", f"Later question {i}", "Anything.")
        make_post(writer, thread["id"], "Rotate the certificate keystore.")
    chat = make_thread(eng, "eng", "discussion", "Lunch", "Where?")
    for _ in range(6):
        make_post(eng, chat["id"], "Lunch is at noon in the canteen.")
    viewer = make_user("viewer")
    body = viewer.get(f"{API}/users/{writer.id}/expertise").get_json()
    assert body["replies"] == 6 and body["accepted_answers"] == 0
    words = [t["term"] for t in body["terms"]]
    assert "garbage" in words and "keystore" in words
    monkeypatch.setattr(service, "PERSON_POSTS", 3)
    words = [t["term"] for t in viewer.get(f"{API}/users/{writer.id}/expertise").get_json()["terms"]]
    assert "keystore" in words and "garbage" not in words
    assert body["replies"] == 6  # counts are never sampled


def test_the_window_widens_until_the_sample_is_full(app, eng, make_user, monkeypatch):
    """Newest first across windows: 1 and 100 days old fill a sample of two, 400 days does not;
    a sample of three reaches back to it."""
    answers_aged_1_100_400_days(app, eng, make_user)
    monkeypatch.setattr(queries, "EXPERT_SAMPLE", 2)
    assert sorted(set(handles(experts(eng, q="grafana"))) - {"owner"}) == ["day", "quarter"]
    monkeypatch.setattr(queries, "EXPERT_SAMPLE", 3)
    assert sorted(set(handles(experts(eng, q="grafana"))) - {"owner"}) == [
        "ancient", "day", "quarter"]
