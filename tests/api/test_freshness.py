"""Knowledge freshness: old accepted answers in threads still read need review (both databases)."""
from datetime import timedelta

from sqlalchemy import select

from collab.audit.models import AuditEvent
from collab.db import db
from tests.api.content import API, join, make_post, make_thread, promote
from tests.api.freshness import AGE, answered_question, clock, freshness, state, verify  # noqa: F401


def _search(caller, **params) -> dict:
    response = caller.get(f"{API}/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["engine"] == "database"
    return response.get_json()


def _ids(result) -> set[int]:
    return {item["thread"]["id"] for item in result["items"]}


def _kb(make_user, make_community):
    owner, asker, answerer = make_user(), make_user(), make_user()
    make_community(owner, "kb")
    join(asker, "kb")
    join(answerer, "kb")
    return owner, asker, answerer


def test_an_old_answer_needs_review_only_while_its_thread_is_read(app, make_user,
                                                                   make_community, clock):
    owner, asker, answerer = _kb(make_user, make_community)
    read, unread = (answered_question(asker, answerer, "kb", t)[0] for t in ("VPN", "Printers"))
    plain = make_thread(asker, "kb", kind="question", title="Unanswered")
    answered_at = clock.now
    described = freshness(asker, read["id"])
    assert described["state"] == "fresh" and described["verified_by"] is None
    assert described["checked_at"].startswith(answered_at.isoformat()[:19])
    assert freshness(asker, plain["id"]) is None  # no accepted answer: no state
    assert _ids(_search(owner, q="unanswered")) == {plain["id"]}  # full text survives 0010

    clock.advance(AGE)
    assert state(asker, read["id"]) == "needs_review"  # old, and read right now
    assert _ids(_search(owner, freshness="needs_review")) == {read["id"]}
    assert _ids(_search(owner, freshness="fresh")) == {unread["id"]}  # old but nobody reads it

    clock.advance(timedelta(days=31))  # the last read leaves the 30-day window
    assert _ids(_search(owner, freshness="needs_review")) == set()
    assert state(asker, unread["id"]) == "needs_review"  # read again today
    assert _ids(_search(owner, freshness="needs_review")) == {unread["id"]}


def test_reads_are_recorded_at_most_hourly_without_a_version_bump(app, make_user,
                                                                   make_community, clock):
    from collab.threads.models import Thread

    _, asker, answerer = _kb(make_user, make_community)
    question, _ = answered_question(asker, answerer, "kb", "Backups")

    def stored():
        with app.app_context():
            thread = db.session.get(Thread, question["id"])
            result = thread.last_read_at, thread.version
            db.session.remove()
            return result

    _, version = stored()
    freshness(asker, question["id"])
    first_read, after_read = stored()
    assert first_read == clock.now and after_read == version
    clock.advance(timedelta(minutes=59))
    freshness(asker, question["id"])
    assert stored() == (first_read, version)  # within the hour: unchanged
    clock.advance(timedelta(minutes=2))
    freshness(asker, question["id"])
    assert stored() == (clock.now, version)


def test_verify_restarts_the_clock_and_is_audited(app, make_user, make_community, clock):
    _, asker, answerer = _kb(make_user, make_community)
    question, answer = answered_question(asker, answerer, "kb", "SSO")
    clock.advance(AGE)
    assert state(asker, question["id"]) == "needs_review"

    response = verify(answerer, answer["id"])
    assert response.status_code == 200, response.get_json()
    described = response.get_json()["answer_freshness"]
    assert described["state"] == "fresh"
    assert described["verified_by"]["id"] == answerer.id
    assert described["verified_at"] == described["checked_at"]
    assert state(asker, question["id"]) == "fresh"

    clock.advance(timedelta(days=179))
    assert state(asker, question["id"]) == "fresh"
    clock.advance(timedelta(days=2))
    assert state(asker, question["id"]) == "needs_review"
    with app.app_context():
        events = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id,
                                           AuditEvent.target_id)).all()
    assert ("answer.verify", answerer.id, answer["id"]) in events


def test_obsolete_until_verified_again_or_another_answer_is_accepted(app, make_user,
                                                                     make_community, clock):
    owner, asker, answerer = _kb(make_user, make_community)
    moderator = make_user()
    promote(owner, moderator, "kb")
    question, answer = answered_question(asker, answerer, "kb", "Wiki")
    other = answered_question(asker, answerer, "kb", "Chat")[0]

    response = verify(moderator, answer["id"], "obsolete")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["answer_freshness"]["state"] == "obsolete"
    assert verify(moderator, answer["id"], "obsolete").status_code == 200  # idempotent
    assert _ids(_search(asker, freshness="obsolete")) == {question["id"]}
    assert _ids(_search(asker, freshness="fresh")) == {other["id"]}
    clock.advance(AGE)
    assert state(asker, question["id"]) == "obsolete"  # obsolete wins over needing review

    better = make_post(answerer, question["id"], body="The new way.")
    assert asker.post(f"{API}/posts/{better['id']}/accept").status_code == 200
    described = freshness(asker, question["id"])
    assert described["state"] == "fresh" and described["obsolete_at"] is None
    assert described["checked_at"].startswith(clock.now.isoformat()[:19])
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("answer.%"))))
    assert actions == ["answer.obsolete"]

    assert verify(answerer, better["id"], "obsolete").status_code == 200
    response = verify(answerer, better["id"])
    assert response.get_json()["answer_freshness"]["state"] == "fresh"


def test_who_may_verify_and_what_is_refused(app, make_user, make_community, clock):
    owner, asker, answerer = _kb(make_user, make_community)
    bystander, outsider = make_user(), make_user()
    join(bystander, "kb")
    question, answer = answered_question(asker, answerer, "kb", "Badges")
    unaccepted = make_post(bystander, question["id"], body="Me too.")
    make_community(owner, "board", visibility="private")
    secret, secret_answer = answered_question(owner, owner, "board", "Budget")

    for action in ("verify", "obsolete"):
        for caller in (bystander, asker, outsider):  # not the answerer, not staff
            response = verify(caller, answer["id"], action)
            assert response.status_code == 403, (action, response.get_json())
        assert verify(answerer, unaccepted["id"], action).status_code == 403  # not its author
        assert verify(bystander, unaccepted["id"], action).status_code == 409  # not accepted
        assert verify(owner, unaccepted["id"], action).status_code == 409
        for missing in (secret_answer["id"], 10**9):  # hidden community, nothing at all: 404
            response = verify(answerer, missing, action)
            assert response.status_code == 404
            assert response.content_type == "application/problem+json"
    assert state(asker, question["id"]) == "fresh"  # nothing was changed by the refusals
    assert verify(owner, answer["id"]).status_code == 200  # owners moderate


def test_search_validates_freshness_and_hides_other_communities(app, make_user, make_community,
                                                                clock):
    owner, asker, answerer = _kb(make_user, make_community)
    outsider = make_user()
    make_community(owner, "board", visibility="private")
    secret = answered_question(owner, owner, "board", "Budget")[0]
    public = answered_question(asker, answerer, "kb", "Budget tools")[0]
    clock.advance(AGE)
    assert state(owner, secret["id"]) == "needs_review"
    assert state(asker, public["id"]) == "needs_review"

    response = outsider.get(f"{API}/search", query_string={"freshness": "stale"})
    assert response.status_code == 422
    assert "freshness" in response.get_json()["errors"]
    result = _search(outsider, q="budget", freshness="needs_review")
    assert _ids(result) == {public["id"]} and result["total"] == 1
    assert all(b["value"] != "board" for b in result["facets"]["community"])
    assert _ids(_search(owner, q="budget", freshness="needs_review")) == {secret["id"], public["id"]}
    assert result["items"][0]["thread"]["answer_freshness"]["state"] == "needs_review"
