"""Issue 10 leftovers: time to accepted answer measured to the acceptance, reputation on the
profile (visible communities only), and the grouped-SQL insights (UTC buckets, organisation)."""
from datetime import timedelta, timezone

import pytest
from sqlalchemy import select

from collab import time
from collab.db import db
from collab.threads.models import Thread
from tests.api.content import API, join, make_post, make_thread
from tests.factories import set_membership
from tests.insights.test_insights import insights


@pytest.fixture
def askers(make_user, make_community):
    """eng: five people ask, one answers each question at once."""
    owner, helper = make_user("owner"), make_user("helper")
    make_community(owner, "eng")
    join(helper, "eng")
    people = [make_user(f"ask{i}") for i in range(5)]
    pairs = []
    for i, person in enumerate(people):
        join(person, "eng")
        question = make_thread(person, "eng", "question", f"Question {i}", "How?")
        pairs.append((person, make_post(helper, question["id"], "Like this.")))
    return owner, helper, pairs


def test_time_to_accepted_answer_runs_to_the_acceptance(app, askers, monkeypatch):
    owner, _, pairs = askers
    real = time.now
    monkeypatch.setattr(time, "now", lambda: real() + timedelta(hours=10))
    for asker, answer in pairs:
        assert asker.post(f"{API}/posts/{answer['id']}/accept").status_code == 200
    monkeypatch.setattr(time, "now", real)
    body = insights(owner, to=(real() + timedelta(hours=11)).isoformat())
    accepted = body["response_times"]["accepted_answer_hours"]
    assert accepted["suppressed"] is False and accepted["count"] == 5
    assert 9.9 < accepted["p50"] < 10.1 and 9.9 < accepted["p90"] < 10.1
    first = body["response_times"]["first_reply_hours"]
    assert first["count"] == 5 and first["p90"] < 0.1   # answered at once, accepted 10 h later
    # Before `to` reaches the acceptance, it does not count.
    early = insights(owner, to=(real() + timedelta(hours=5)).isoformat())
    assert early["response_times"]["accepted_answer_hours"]["suppressed"] is True


def test_accepted_at_is_set_switched_and_cleared(app, askers, monkeypatch):
    _, helper, pairs = askers
    asker, answer = pairs[0]
    assert asker.post(f"{API}/posts/{answer['id']}/accept").status_code == 200

    def accepted_at():
        with app.app_context():
            value = db.session.scalar(select(Thread.answer_accepted_at)
                                      .where(Thread.id == answer["thread_id"]))
            db.session.remove()
        return value
    first = accepted_at()
    assert first is not None and abs((time.now() - first).total_seconds()) < 60
    # Accepting the same answer again keeps the moment; another answer restarts it.
    real = time.now
    monkeypatch.setattr(time, "now", lambda: real() + timedelta(hours=3))
    assert asker.post(f"{API}/posts/{answer['id']}/accept").status_code == 200
    assert accepted_at() == first
    other = make_post(helper, answer["thread_id"], "Or like that.")
    assert asker.post(f"{API}/posts/{other['id']}/accept").status_code == 200
    assert accepted_at() - first > timedelta(hours=2)
    assert helper.delete(f"{API}/posts/{other['id']}").status_code == 204
    assert accepted_at() is None


def test_profile_carries_reputation_of_visible_communities_only(app, askers, make_user,
                                                                make_community):
    owner, helper, pairs = askers
    for asker, answer in pairs[:2]:
        assert asker.post(f"{API}/posts/{answer['id']}/accept").status_code == 200
    make_community(owner, "vault", visibility="private")
    set_membership(app, "vault", helper.id, "active")
    secret = make_thread(owner, "vault", "question", "Secret", "?")
    accepted = make_post(helper, secret["id"], "Secret answer.")
    assert owner.post(f"{API}/posts/{accepted['id']}/accept").status_code == 200
    outsider = make_user("outsider")
    profile = outsider.get(f"{API}/users/{helper.id}").get_json()
    assert profile["handle"] == "helper" and "email" not in profile
    assert profile["reputation"] == {"total": 30,
                                     "communities": [{"community": "eng", "points": 30}]}
    assert "vault" not in str(profile)
    mine = helper.get(f"{API}/users/{helper.id}").get_json()
    assert mine["email"] and mine["reputation"]["total"] == 45
    assert [c["community"] for c in mine["reputation"]["communities"]] == ["eng", "vault"]
    newcomer = make_user("newcomer")
    assert outsider.get(f"{API}/users/{newcomer.id}").get_json()["reputation"] == \
        {"total": 0, "communities": []}


def test_buckets_are_utc_days_whatever_the_offset(askers):
    owner, _, _ = askers
    to = (time.now() + timedelta(hours=3)).astimezone(timezone(timedelta(hours=2)))
    body = insights(owner, interval="day", to=to.isoformat())
    starts = [bucket["start"] for bucket in body["activity"]]
    assert all(s.endswith(("T00:00:00+00:00", "T00:00:00Z")) for s in starts)
    assert sum(bucket["posts"] or 0 for bucket in body["activity"]) == 5


def test_organisation_view_counts_every_community(app, askers, make_user, make_community):
    owner, _, _ = askers
    make_community(owner, "vault", visibility="private")
    for i in range(5):
        insider = make_user(f"ins{i}")
        set_membership(app, "vault", insider.id, "active")
        make_thread(insider, "vault", "question", f"Hidden {i}", "?")
    admin = make_user("root", is_admin=True)
    everywhere = admin.get(f"{API}/insights", query_string={"interval": "day"}).get_json()
    assert everywhere["answer_rate"]["questions"]["value"] == 10
    unanswered = {row["age"]: row for row in everywhere["unanswered_by_age"]}
    assert unanswered["under_1_day"]["value"] == 10 and unanswered["under_1_day"]["people"] == 10
    assert insights(owner)["answer_rate"]["questions"]["value"] == 5
