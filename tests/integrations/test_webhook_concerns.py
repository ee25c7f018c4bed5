"""`concern.opened` webhooks: written with the concern, only for the community's moderators."""
from tests.integrations.helpers import API
from tests.integrations.test_webhooks import drain, new_thread, receiver, subscribe  # noqa: F401

RISKY = {"kind": "discussion", "title": "Billing", "body": "This is unacceptable, we want a refund."}


def join(caller, slug="lab"):
    assert caller.post(f"{API}/communities/{slug}/members", json={}).status_code in (200, 201)


def concern_events(receiver):
    return [e for e in receiver.received() if e["type"] == "concern.opened"]


def test_a_risky_thread_opens_a_concern_event_for_moderators_only(make_user, make_community,
                                                                  receiver, drain):
    owner, member = make_user("owner"), make_user("member")
    make_community(owner, "lab")
    join(member)
    subscribe(owner, receiver.url, ["concern.opened"])
    subscribe(member, receiver.url, ["concern.opened"])  # may see the community, not the queue
    subscribe(owner, receiver.url, ["thread.created"])
    thread = member.post(f"{API}/communities/lab/threads", json=RISKY).get_json()
    stats = drain()
    assert (stats.delivered, stats.skipped) == (2, 1)  # thread.created + the owner's concern
    events = concern_events(receiver)
    assert len(events) == 1
    concern = events[0]["data"]["concern"]
    assert concern["thread_id"] == thread["id"] and concern["state"] == "open"
    assert concern["reopened"] is False and "refund" in concern["reasons"]
    assert events[0]["data"]["community"]["slug"] == "lab"
    queue = owner.get(f"{API}/communities/lab/concerns").get_json()["items"]
    assert [c["id"] for c in queue] == [concern["id"]]
    # a calm thread opens none
    new_thread(member, title="Lunch")
    drain()
    assert len(concern_events(receiver)) == 1


def test_a_flag_and_a_reopen_emit_the_event(make_user, make_community, receiver, drain):
    owner, member = make_user("owner"), make_user("member")
    make_community(owner, "lab")
    join(member)
    subscribe(owner, receiver.url, ["concern.opened"])
    thread = new_thread(member, title="Office chairs")
    assert drain().delivered == 0
    flagged = member.post(f"{API}/threads/{thread['id']}/concern-flags", json={"reason": "tone"})
    assert flagged.status_code in (200, 201), flagged.get_json()
    drain()
    events = concern_events(receiver)
    assert len(events) == 1 and events[0]["data"]["concern"]["thread_id"] == thread["id"]
    concern_id = events[0]["data"]["concern"]["id"]
    assert owner.patch(f"{API}/concerns/{concern_id}", json={"state": "resolved"}).status_code == 200
    drain()
    assert len(concern_events(receiver)) == 1  # resolving is not an opening
    assert owner.patch(f"{API}/concerns/{concern_id}", json={"state": "open"}).status_code == 200
    drain()
    events = concern_events(receiver)
    assert len(events) == 2 and events[1]["data"]["concern"]["reopened"] is True
    assert events[1]["data"]["concern"]["id"] == concern_id


def test_a_moderator_demoted_before_delivery_does_not_get_it(make_user, make_community, receiver,
                                                             drain):
    owner, moderator = make_user("owner"), make_user("moderator")
    make_community(owner, "lab")
    join(moderator)
    assert owner.patch(f"{API}/communities/lab/members/{moderator.id}",
                       json={"role": "moderator"}).status_code == 200
    subscribe(moderator, receiver.url, ["concern.opened"])
    owner.post(f"{API}/communities/lab/threads", json=RISKY)
    drain()
    assert len(concern_events(receiver)) == 1
    owner.post(f"{API}/communities/lab/threads", json={**RISKY, "title": "Again"})
    assert owner.patch(f"{API}/communities/lab/members/{moderator.id}",
                       json={"role": "member"}).status_code == 200
    stats = drain()
    assert stats.skipped == 1 and len(concern_events(receiver)) == 1


def test_concern_opened_is_in_the_openapi_event_enum(anonymous):
    spec = anonymous.get(f"{API}/openapi.json").get_json()
    text = str(spec["components"]["schemas"])
    assert "concern.opened" in text
