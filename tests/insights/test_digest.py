"""The digest: a community's news since a date, within what the caller may see."""
import pytest

from tests.api.content import API, join, make_post, make_thread, set_status
from tests.factories import set_membership


@pytest.fixture
def lab(make_user, make_community):
    owner, ann, bo = make_user("owner"), make_user("ann"), make_user("bo")
    make_community(owner, "lab")
    join(ann, "lab")
    join(bo, "lab")
    question = make_thread(bo, "lab", "question", "How to deploy?", "Steps?", tags=["deploy"])
    answer = make_post(ann, question["id"], "Run the pipeline.")
    assert bo.post(f"{API}/posts/{answer['id']}/accept").status_code == 200
    idea = make_thread(ann, "lab", "idea", "Faster builds", "Cache them.")
    set_status(owner, idea["id"], "planned", "Next quarter.")
    make_thread(bo, "lab", "discussion", "Builds broken",
                "This is unacceptable, builds are broken again and nobody answers.")
    return owner, ann, bo, question, idea


def test_digest_content(lab):
    owner, ann, bo, question, idea = lab
    response = bo.get(f"{API}/communities/lab/digest")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [t["title"] for t in body["new_threads"]] == ["Builds broken", "Faster builds",
                                                         "How to deploy?"]
    assert [t["id"] for t in body["newly_answered"]] == [question["id"]]
    assert body["ideas_moved"][0]["to_status"] == "planned"
    assert body["ideas_moved"][0]["note"] == "Next quarter."
    assert body["open_concerns"] == {"count": 1, "items": None}  # a member sees the number
    assert body["new_experts"][0]["user"]["handle"] == "ann"
    assert body["new_experts"][0]["tags"] == ["deploy"]
    assert len(body["rising_threads"]) == 3
    staff = owner.get(f"{API}/communities/lab/digest").get_json()
    assert [c["title"] for c in staff["open_concerns"]["items"]] == ["Builds broken"]
    later = bo.get(f"{API}/communities/lab/digest",
                   query_string={"since": "2100-01-01T00:00:00Z"})
    assert later.status_code == 422 and "since" in later.get_json()["errors"]


@pytest.mark.parametrize("state, status", [("none", 404), ("banned", 404), ("invited", 404),
                                           ("active", 200)])
def test_private_digest_matrix(app, make_user, make_community, state, status):
    owner = make_user("owner")
    make_community(owner, "vault", visibility="private")
    make_thread(owner, "vault", "discussion", "Secret plan", "Hidden.")
    viewer = make_user("viewer")
    if state != "none":
        set_membership(app, "vault", viewer.id, state)
    assert viewer.get(f"{API}/communities/vault/digest").status_code == status
    assert viewer.get(f"{API}/communities/vault/digest?color=red").status_code == 422


def test_an_old_answer_accepted_this_week_is_news(app, lab):
    """Newly answered means accepted in the period, not an answer written in it."""
    from datetime import timedelta

    from sqlalchemy import update

    from collab import time
    from collab.db import db
    from collab.threads.models import Post, Thread
    owner, ann, bo, question, _ = lab
    with app.app_context():
        db.session.execute(update(Thread).where(Thread.id == question["id"]).values(
            created_at=time.now() - timedelta(days=60)))
        db.session.execute(update(Post).where(Post.thread_id == question["id"]).values(
            created_at=time.now() - timedelta(days=59)))
        db.session.commit()
    body = bo.get(f"{API}/communities/lab/digest").get_json()
    assert [t["id"] for t in body["newly_answered"]] == [question["id"]]
    assert body["new_experts"][0]["user"]["handle"] == "ann"
    with app.app_context():
        db.session.execute(update(Thread).where(Thread.id == question["id"]).values(
            answer_accepted_at=time.now() - timedelta(days=30)))
        db.session.commit()
    body = bo.get(f"{API}/communities/lab/digest").get_json()
    assert body["newly_answered"] == [] and body["new_experts"] == []
