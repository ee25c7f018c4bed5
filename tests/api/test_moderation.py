"""Moderation: flags, the queue, automatic hiding by trusted members, hide/restore/delete."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from collab import time as clock
from collab.db import db
from collab.outbox import OutboxRow
from tests.api.content import API, join, make_post, make_thread, promote


@pytest.fixture
def space(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    mod = make_user("mod")
    promote(owner, mod, "space")
    members = [make_user(f"m{i}") for i in range(4)]
    for member in members:
        join(member, "space")
    return owner, mod, members


def _search_ids(caller, q):
    return [i["thread"]["id"] for i in caller.get(f"{API}/search", query_string={"q": q}).get_json()["items"]]


def test_members_flag_and_moderators_see_the_queue(make_user, space):
    owner, mod, members = space
    thread = make_thread(owner, "space", title="Spam here")
    post = make_post(owner, thread["id"], body="More spam")
    first = members[0].post(f"{API}/threads/{thread['id']}/flags", json={"reason": "spam"})
    assert first.status_code == 201 and first.get_json()["reason"] == "spam"
    again = members[0].post(f"{API}/threads/{thread['id']}/flags", json={"reason": "spam!"})
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    assert members[1].post(f"{API}/posts/{post['id']}/flags", json={"reason": "rude"}).status_code == 201
    outsider = make_user("eve")
    assert outsider.post(f"{API}/threads/{thread['id']}/flags", json={"reason": "x"}).status_code == 403
    assert members[0].post(f"{API}/threads/{thread['id']}/flags", json={}).status_code == 422
    queue = mod.get(f"{API}/communities/space/flags").get_json()["items"]
    assert [(f["target_type"], f["target_id"]) for f in queue] == [("post", post["id"]),
                                                                   ("thread", thread["id"])]
    assert members[0].get(f"{API}/communities/space/flags").status_code == 403
    # Fewer than the threshold, and new members are not trusted yet: nothing is hidden.
    assert owner.get(f"{API}/threads/{thread['id']}").status_code == 200


def test_trusted_flags_hide_pending_review_and_leave_search(app, space, monkeypatch):
    owner, mod, members = space
    thread = make_thread(owner, "space", title="Offensive widget")
    assert _search_ids(owner, "widget") == [thread["id"]]
    later = clock.now() + timedelta(days=app.config["MODERATION_TRUSTED_MEMBER_DAYS"] + 1)
    monkeypatch.setattr("collab.time.now", lambda: later)  # the members are trusted by now
    threshold = app.config["MODERATION_HIDE_THRESHOLD"]
    for member in members[:threshold - 1]:
        assert member.post(f"{API}/threads/{thread['id']}/flags", json={"reason": "abuse"}).status_code == 201
    assert owner.get(f"{API}/threads/{thread['id']}").status_code == 200
    with app.app_context():
        before = db.session.scalar(select(db.func.max(OutboxRow.id)))
        db.session.remove()
    assert members[threshold - 1].post(f"{API}/threads/{thread['id']}/flags",
                                       json={"reason": "abuse"}).status_code == 201
    for caller in (owner, members[0]):
        assert caller.get(f"{API}/threads/{thread['id']}").status_code == 404
    assert _search_ids(owner, "widget") == []
    with app.app_context():  # the index is told in the same transaction
        rows = db.session.scalars(select(OutboxRow).where(OutboxRow.id > before)).all()
        assert ("thread", thread["id"]) in [(r.entity, r.entity_id) for r in rows]
        db.session.remove()
    events = owner.get(f"{API}/communities/space/audit", query_string={
        "action": "moderation.auto_hide"}).get_json()["items"]
    assert [(e["target_id"], e["actor_id"]) for e in events] == [(thread["id"], None)]
    restored = mod.post(f"{API}/threads/{thread['id']}/moderation",
                        json={"action": "restore", "reason": "fine after review"})
    assert restored.status_code == 200 and restored.get_json()["hidden"] is False
    assert owner.get(f"{API}/threads/{thread['id']}").status_code == 200
    assert _search_ids(owner, "widget") == [thread["id"]]
    assert mod.get(f"{API}/communities/space/flags").get_json()["items"] == []
    resolved = mod.get(f"{API}/communities/space/flags?status=resolved").get_json()["items"]
    assert {f["resolution"] for f in resolved} == {"restore"}


def test_untrusted_new_members_do_not_hide(app, space):
    owner, _, members = space
    thread = make_thread(owner, "space")
    for member in members:
        member.post(f"{API}/threads/{thread['id']}/flags", json={"reason": "abuse"})
    assert owner.get(f"{API}/threads/{thread['id']}").status_code == 200


def test_moderators_hide_restore_delete_with_reason_audited(space):
    owner, mod, members = space
    thread = make_thread(owner, "space", title="Gadget")
    post = make_post(members[0], thread["id"], body="Bad words")
    url = f"{API}/posts/{post['id']}/moderation"
    assert members[1].post(url, json={"action": "hide", "reason": "x"}).status_code == 403
    assert mod.post(url, json={"action": "hide"}).status_code == 422
    assert mod.post(url, json={"action": "hide", "reason": "insult"}).get_json()["hidden"] is True
    assert owner.get(f"{API}/threads/{thread['id']}").get_json()["reply_count"] == 0
    assert owner.get(f"{API}/threads/{thread['id']}/posts").get_json()["items"] == []
    assert mod.post(url, json={"action": "restore", "reason": "ok"}).status_code == 200
    assert owner.get(f"{API}/threads/{thread['id']}").get_json()["reply_count"] == 1
    deleted = mod.post(url, json={"action": "delete", "reason": "for good"}).get_json()
    assert deleted["deleted"] is True and deleted["hidden"] is False
    assert mod.post(url, json={"action": "restore", "reason": "undo"}).status_code == 404
    thread_url = f"{API}/threads/{thread['id']}/moderation"
    assert mod.post(thread_url, json={"action": "hide", "reason": "off topic"}).status_code == 200
    assert _search_ids(owner, "gadget") == []
    events = owner.get(f"{API}/communities/space/audit").get_json()["items"]
    moderation = [(e["action"], e["target_type"], e["details"]["reason"]) for e in events
                  if e["action"].startswith("moderation.")]
    assert moderation == [("moderation.hide", "thread", "off topic"),
                          ("moderation.delete", "post", "for good"),
                          ("moderation.restore", "post", "ok"),
                          ("moderation.hide", "post", "insult")]
