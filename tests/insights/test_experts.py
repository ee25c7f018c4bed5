"""Expertise location on the database engine: ranking by evidence, why, and permissions."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from collab import time
from collab.db import db
from collab.threads.models import Post
from tests.api.content import API, join, make_post, make_thread
from tests.factories import set_membership


def accept(caller, post_id):
    response = caller.post(f"{API}/posts/{post_id}/accept")
    assert response.status_code == 200, response.get_json()


def experts(caller, **params):
    response = caller.get(f"{API}/experts", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def handles(result):
    return [item["user"]["handle"] for item in result["items"]]


@pytest.fixture
def world(make_user, make_community):
    """`eng` (open): alice answers Kubernetes questions and is accepted; bob chats once; carol
    answers billing. `vault` (private): dave answers Kubernetes even more, unseen by outsiders."""
    owner = make_user("owner")
    alice, bob, carol, dave = (make_user(h) for h in ("alice", "bob", "carol", "dave"))
    make_community(owner, "eng", visibility="open")
    make_community(owner, "vault", visibility="private")
    for person in (alice, bob, carol):
        join(person, "eng")
    for i in range(3):
        question = make_thread(owner, "eng", "question", f"Kubernetes pod crash {i}",
                               "Our kubernetes pods restart.", tags=["kubernetes"])
        accept(owner, make_post(alice, question["id"], "Raise the kubernetes memory limit.")["id"])
    chat = make_thread(owner, "eng", "discussion", "Kubernetes upgrade day", "Who is in?")
    make_post(bob, chat["id"], "Count me in for kubernetes.")
    billing = make_thread(owner, "eng", "question", "Invoice totals wrong", "Billing is off.",
                          tags=["billing"])
    accept(owner, make_post(carol, billing["id"], "Recompute the invoice totals.")["id"])
    set_membership_via_owner = owner.post(f"{API}/communities/vault/members",
                                          json={"user_id": dave.id})
    assert set_membership_via_owner.status_code == 201
    join(dave, "vault")
    for i in range(6):
        secret = make_thread(owner, "vault", "question", f"Kubernetes secret cluster {i}",
                             "Secret kubernetes issue.", tags=["kubernetes"])
        accept(owner, make_post(dave, secret["id"], "Kubernetes fix for the secret cluster.")["id"])
    return {"owner": owner, "alice": alice, "bob": bob, "carol": carol, "dave": dave}


def test_accepted_answers_rank_first_with_why(world, make_user):
    viewer = make_user("viewer")
    result = experts(viewer, q="kubernetes")
    assert result["engine"] == "database"
    assert handles(result)[0] == "alice"
    assert "carol" not in handles(result)
    top = result["items"][0]
    assert top["why"]["accepted_answers"] == 3
    assert top["why"]["replies"] == 3
    assert top["why"]["tags"] == ["kubernetes"]
    assert len(top["why"]["evidence"]) == 3
    assert all(e["community"] == "eng" and "Kubernetes" in e["title"]
               for e in top["why"]["evidence"])
    assert handles(experts(viewer, q="invoice"))[0] == "carol"


def test_hidden_community_never_counts(world, make_user):
    """dave's evidence is all in a private community: invisible to outsiders, even in scores."""
    viewer = make_user("viewer")
    assert "dave" not in handles(experts(viewer, q="kubernetes"))
    assert experts(viewer, q="secret cluster")["items"] == []
    assert viewer.get(f"{API}/experts", query_string={"q": "kubernetes",
                                                      "community": "vault"}).status_code == 404
    result = experts(world["owner"], q="kubernetes")  # the owner is a member of vault
    assert handles(result)[0] == "dave"
    alice = next(i for i in result["items"] if i["user"]["handle"] == "alice")
    assert alice["why"]["accepted_answers"] == 3  # unchanged by what else the owner sees
    scoped = experts(world["owner"], q="kubernetes", community="eng")
    assert "dave" not in handles(scoped) and handles(scoped)[0] == "alice"


@pytest.mark.parametrize("state, sees", [("none", False), ("invited", False), ("pending", False),
                                         ("banned", False), ("active", True)])
def test_membership_matrix(app, world, make_user, state, sees):
    viewer = make_user("viewer")
    if state != "none":
        set_membership(app, "vault", viewer.id, state)
    result = experts(viewer, q="secret cluster")
    assert ("dave" in handles(result)) is sees
    assert all(e["community"] != "vault" or sees
               for item in result["items"] for e in item["why"]["evidence"])


def test_recency_decays_old_evidence(app, make_user, make_community):
    owner, old, new = make_user("owner"), make_user("old"), make_user("new")
    make_community(owner, "eng")
    join(old, "eng")
    join(new, "eng")
    old_posts = []
    for i in range(2):
        question = make_thread(owner, "eng", "question", f"Terraform state lock {i}", "Stuck.")
        old_posts.append(make_post(old, question["id"], "Force-unlock the terraform state.")["id"])
        make_post(new, question["id"], "Terraform state lives in the bucket.")
    with app.app_context():
        db.session.execute(update(Post).where(Post.id.in_(old_posts))
                           .values(created_at=time.now() - timedelta(days=800)))
        db.session.commit()
    result = experts(owner, q="terraform")
    ranked = handles(result)
    assert ranked.index("new") < ranked.index("old")  # same evidence, but old's is 800 days old
    scores = {item["user"]["handle"]: item["score"] for item in result["items"]}
    assert scores["old"] < scores["new"] / 2


def test_bad_input_is_422(make_user):
    viewer = make_user("viewer")
    for params in ({}, {"q": ""}, {"q": "-kubernetes"}, {"q": "x", "limit": 0},
                   {"q": '"unbalanced'}, {"q": "x", "sort": "new"}):
        response = viewer.get(f"{API}/experts", query_string=params)
        assert response.status_code == 422, (params, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"]


def test_person_expertise(world, make_user):
    viewer = make_user("viewer")
    alice, dave = world["alice"], world["dave"]
    response = viewer.get(f"{API}/users/{alice.id}/expertise")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["accepted_answers"] == 3 and body["replies"] == 3
    assert body["tags"] == [{"tag": "kubernetes", "count": 3}]
    assert "memory" in [t["term"] for t in body["terms"]]
    hidden = viewer.get(f"{API}/users/{dave.id}/expertise").get_json()
    assert hidden["replies"] == 0 and hidden["tags"] == [] and hidden["terms"] == []
    member = world["owner"].get(f"{API}/users/{dave.id}/expertise").get_json()
    assert member["accepted_answers"] == 6 and member["tags"][0]["tag"] == "kubernetes"
    assert viewer.get(f"{API}/users/999999/expertise").status_code == 404
