"""Regression tests for the disclosure and crash paths found by probing (issue 11).

Each test is named after the finding it protects against.
"""
import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.test import EnvironBuilder

from collab.cursors import sign
from tests.api.content import API, join, make_post, make_thread, promote


def _raw_cursor(values) -> str:
    """An unsigned cursor of the old format: what a forger can build."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _signed(app, purpose, value) -> str:
    with app.app_context():
        return sign(purpose, value)


def _problem(response, status):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    return response.get_json()


# Disclosure ----------------------------------------------------------------------

@pytest.fixture
def private_space(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "secret", visibility="private")
    pending_user = make_user("pat")
    owner.post(f"{API}/communities/secret/members", json={"user_id": pending_user.id})
    banned = make_user("bart")
    promote(owner, banned, "secret", role="member")
    assert owner.patch(f"{API}/communities/secret/members/{banned.id}",
                       json={"status": "banned"}).status_code == 200
    return owner, pending_user, banned


def test_patch_member_noop_requires_permission(make_user, private_space):
    owner, invitee, banned = private_space
    outsider = make_user("eve")
    # A body that changes nothing used to return the membership without any check.
    for caller in (outsider, invitee):
        for target in (owner.id, banned.id):
            for body in ({"role": "member"}, {"status": "banned"}, {"role": "owner"}):
                response = caller.patch(f"{API}/communities/secret/members/{target}", json=body)
                assert response.status_code in (403, 404), response.get_json()
                assert "user" not in (response.get_json() or {})
    # The outsider cannot see the private community at all: 404 as if it did not exist.
    _problem(outsider.patch(f"{API}/communities/secret/members/{owner.id}",
                            json={"role": "owner"}), 404)


def test_patch_member_forbidden_and_not_found_do_not_depend_on_target(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "plaza")
    member, bystander = make_user("mia"), make_user("ben")
    join(member, "plaza")
    ghost_id = 2**31 - 1
    for caller in (member, bystander):  # a member and a non-member who may see the community
        existing = caller.patch(f"{API}/communities/plaza/members/{owner.id}", json={"role": "owner"})
        missing = caller.patch(f"{API}/communities/plaza/members/{ghost_id}", json={"role": "owner"})
        assert existing.status_code == missing.status_code == 403
        existing = caller.delete(f"{API}/communities/plaza/members/{owner.id}")
        missing = caller.delete(f"{API}/communities/plaza/members/{ghost_id}")
        assert existing.status_code == missing.status_code == 403


def test_invite_by_partner_moderator_does_not_read_the_directory(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "partners", audiences=["employee", "partner"],
                   organizations=["acme"])
    moderator = make_user("mod", audience="partner", organization="acme")
    promote(owner, moderator, "partners")
    stranger = make_user("gary", audience="partner", organization="globex")  # shares no space
    response = moderator.post(f"{API}/communities/partners/members", json={"user_id": stranger.id})
    body = _problem(response, 422)
    assert "globex" not in json.dumps(body) and "gary" not in json.dumps(body)
    nobody = moderator.post(f"{API}/communities/partners/members", json={"user_id": 2**31 - 1})
    assert nobody.get_json()["errors"] == body["errors"]  # unknown and unseen look the same


def test_invite_respects_audience_and_allow_list(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "acme-only", visibility="private", audiences=["employee", "partner"],
                   organizations=["acme"])
    make_community(owner, "staff", audiences=["employee"])
    globex = make_user("gina", audience="partner", organization="globex")
    customer = make_user("carl", audience="customer", organization="acme")
    for user in (globex, customer):
        _problem(owner.post(f"{API}/communities/acme-only/members", json={"user_id": user.id}), 422)
    _problem(owner.post(f"{API}/communities/staff/members", json={"user_id": globex.id}), 422)
    acme = make_user("ann", audience="partner", organization="acme")
    assert owner.post(f"{API}/communities/acme-only/members",
                      json={"user_id": acme.id}).status_code == 201


def test_slug_taken_does_not_reveal_invisible_private_community(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "hidden", visibility="private")
    make_community(owner, "public")
    other = make_user("eve")
    invisible = other.post(f"{API}/communities", json={"slug": "hidden", "name": "H", "purpose": "p"})
    visible = other.post(f"{API}/communities", json={"slug": "public", "name": "P", "purpose": "p"})
    reserved = other.post(f"{API}/communities", json={"slug": "admin", "name": "A", "purpose": "p"})
    bodies = [_problem(r, 409) for r in (invisible, visible, reserved)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert "taken" not in json.dumps(bodies[0]).lower()


# Crashes -------------------------------------------------------------------------

@pytest.mark.parametrize("values", [
    [False, "abc", 1], [None, None, None], [False, 5, 1], [False, {"t": "2024-01-01T00:00:00"}, 1],
    [False, {"t": "0001-01-01T00:00:00+01:00"}, 1], [False, {"t": 5}, 1], [False, {}, 1],
    [True, {"t": "9999-12-31T23:59:59-05:00"}, 1], ["x", 1], [[[[[[[]]]]]]], 5, "x",
])
def test_list_cursor_unsigned_or_mistyped_is_422(make_user, make_community, values):
    owner = make_user("olga")
    make_community(owner, "space")
    thread = make_thread(owner, "space")
    for url in (f"{API}/communities/space/threads", f"{API}/threads/{thread['id']}/posts",
                f"{API}/communities", f"{API}/communities/space/members"):
        response = owner.get(url, query_string={"cursor": _raw_cursor(values)})
        _problem(response, 422)


def test_list_cursor_posts_forged_wyj4iiwxxq_is_422(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    thread = make_thread(owner, "space")
    _problem(owner.get(f"{API}/threads/{thread['id']}/posts?cursor=WyJ4IiwxXQ"), 422)


@pytest.mark.parametrize("values", [
    [False, {"t": "0001-01-01T00:00:00+01:00"}, 1], [False, {"t": "9999-12-31T23:00:00-05:00"}, 1],
    [False, {"t": "2024-01-01T00:00:00"}, 1], [False, "abc", 1], [None, {"t": "x"}, 1],
    [False, {"t": "2024-01-01T00:00:00+00:00"}, 2**70], [False, {"t": "2024-01-01T00:00:00+00:00"}],
])
def test_list_cursor_signed_but_out_of_range_is_422(app, make_user, make_community, values):
    """Even a correctly signed cursor is type- and range-checked (a leaked key is not a crash)."""
    owner = make_user("olga")
    make_community(owner, "space")
    make_thread(owner, "space")
    response = owner.get(f"{API}/communities/space/threads",
                         query_string={"cursor": _signed(app, "list", values)})
    _problem(response, 422)


def test_list_cursor_round_trip_still_pages(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    ids = {make_thread(owner, "space", title=f"T{i}")["id"] for i in range(5)}
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = owner.get(f"{API}/communities/space/threads", query_string=query).get_json()
        seen += [t["id"] for t in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)


def test_list_cursor_tampered_signature_is_422(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    for i in range(3):
        make_thread(owner, "space", title=f"T{i}")
    cursor = owner.get(f"{API}/communities/space/threads?limit=1").get_json()["next_cursor"]
    payload, _, signature = cursor.partition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    _problem(owner.get(f"{API}/communities/space/threads", query_string={"cursor": forged}), 422)


@pytest.mark.parametrize("name, value", [
    ("since", "0001-01-01T00:00:00+01:00"), ("since", "0001-01-01T00:00:00"),
    ("until", "9999-12-31T23:59:59-05:00"), ("until", "9999-12-31T23:59:59.999999"),
    ("since", "0001-01-01T00:00:00+14:00"), ("until", "0001-01-01T00:00:01-14:00"),
])
def test_search_since_until_calendar_extremes(make_user, make_community, name, value):
    owner = make_user("olga")
    make_community(owner, "space")
    make_thread(owner, "space", title="Widget")
    response = owner.get(f"{API}/search", query_string={"q": "widget", name: value})
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 422:
        assert name in response.get_json()["errors"]


@pytest.mark.parametrize("sort, after, stamp", [
    ("new", [10**30], None), ("top", [10**30, 1], None), ("relevance", [1.0, 10**30], 1),
    ("relevance", [1.0, 1], 10**15), ("relevance", [1e308, 1], -5), ("new", [-(10**30)], None),
])
def test_search_cursor_huge_positions_and_times(app, make_user, make_community, sort, after,
                                                stamp):
    from collab.search.service import _fingerprint
    owner = make_user("olga")
    make_community(owner, "space")
    make_thread(owner, "space", title="Widget")
    args = {"q": "widget", "sort": sort}
    payload = {"f": _fingerprint(args), "e": "d", "a": after}
    if stamp is not None:
        payload["t"] = stamp
    for cursor in (_signed(app, "search", payload), _raw_cursor(payload)):
        response = owner.get(f"{API}/search", query_string={**args, "cursor": cursor})
        _problem(response, 422)


def test_search_cursor_is_signed(make_user, make_community):
    from collab.search.service import _fingerprint
    owner = make_user("olga")
    make_community(owner, "space")
    for i in range(3):
        make_thread(owner, "space", title=f"Widget {i}")
    first = owner.get(f"{API}/search", query_string={"q": "widget", "sort": "new", "limit": 1})
    cursor = first.get_json()["next_cursor"]
    assert owner.get(f"{API}/search", query_string={
        "q": "widget", "sort": "new", "limit": 1, "cursor": cursor}).status_code == 200
    forged = _raw_cursor({"f": _fingerprint({"q": "widget", "sort": "new"}), "e": "d", "a": [2]})
    _problem(owner.get(f"{API}/search", query_string={
        "q": "widget", "sort": "new", "limit": 1, "cursor": forged}), 422)


def test_json_nested_5000_deep_is_400(make_user):
    alice = make_user("alice")
    body = '{"slug": "x", "name": "X", "purpose": ' + "[" * 5000 + "]" * 5000 + "}"
    _problem(alice.post(f"{API}/communities", data=body, content_type="application/json"), 400)
    body = '{"slug": "x", "name": "X", "purpose": ' + "[" * 200 + "]" * 200 + "}"
    _problem(alice.post(f"{API}/communities", data=body, content_type="application/json"), 400)


def test_json_integer_over_4300_digits_is_400(make_user, make_community):
    alice = make_user("alice")
    make_community(alice, "space")
    thread = make_thread(alice, "space", "idea")
    body = '{"value": ' + "9" * 5000 + "}"
    _problem(alice.put(f"{API}/threads/{thread['id']}/vote", data=body,
                       content_type="application/json"), 400)
    body = '{"user_id": ' + "9" * 40 + "}"
    _problem(alice.post(f"{API}/communities/space/members", data=body,
                        content_type="application/json"), 400)


@pytest.mark.parametrize("text", ['"x\\ud800"', '"\\udfff"', '"a\\u0000b"'])
def test_lone_surrogate_and_nul_refused_anywhere(make_user, make_community, text):
    alice = make_user("alice")
    for body in (f'{{"slug": "x", "name": {text}, "purpose": "p"}}',
                 f'{{"slug": "x", "name": "X", "purpose": "p", "organizations": [{text}]}}',
                 f'{{"slug": "x", "name": "X", "purpose": "p", "audiences": ["employee"], '
                 f'"organizations": ["a", {text}]}}'):
        response = alice.post(f"{API}/communities", data=body, content_type="application/json")
        assert _problem(response, 422)["errors"]
    assert alice.get(f"{API}/communities").get_json()["items"] == []


def test_nul_in_nested_list_is_refused(make_user):
    alice = make_user("alice")
    response = alice.post(f"{API}/communities", json={
        "slug": "x", "name": "X", "purpose": "p", "organizations": ["a\u0000"]})
    assert "organizations" in _problem(response, 422)["errors"]


@pytest.mark.parametrize("spoof", ["\u202eevil", "ab\u200bc", "x\u2066y", "\ufeffz", "a\u200dz"])
def test_bidi_and_zero_width_refused_in_titles_handles_slugs(make_user, make_community, spoof):
    admin = make_user("root", is_admin=True)
    make_community(admin, "space")
    response = admin.post(f"{API}/communities/space/threads",
                          json={"kind": "discussion", "title": spoof, "body": "b"})
    assert "title" in _problem(response, 422)["errors"]
    response = admin.post(f"{API}/communities", json={"slug": "x", "name": spoof, "purpose": "p"})
    assert "name" in _problem(response, 422)["errors"]
    response = admin.post(f"{API}/users", json={"handle": "h" + spoof, "email": "h@example.com",
                                                "audience": "employee"})
    assert "handle" in _problem(response, 422)["errors"]
    response = admin.post(f"{API}/users", json={"handle": "hh", "display_name": spoof,
                                                "email": "h@example.com", "audience": "employee"})
    assert "display_name" in _problem(response, 422)["errors"]
    # Bodies may quote such characters (they are text, not names).
    assert admin.post(f"{API}/communities/space/threads", json={
        "kind": "discussion", "title": "Fine", "body": spoof}).status_code == 201


def test_handle_and_slug_with_trailing_newline_refused(make_user):
    admin = make_user("root", is_admin=True)
    assert "slug" in _problem(admin.post(f"{API}/communities", json={
        "slug": "abc\n", "name": "N", "purpose": "p"}), 422)["errors"]
    assert "handle" in _problem(admin.post(f"{API}/users", json={
        "handle": "abc\n", "email": "a@example.com", "audience": "employee"}), 422)["errors"]


# Missing protections -------------------------------------------------------------

def test_request_body_over_limit_is_413(app, make_user):
    alice = make_user("alice")
    big = b'{"slug": "x", "name": "X", "purpose": "' + b"p" * (app.config["MAX_CONTENT_LENGTH"]) + b'"}'
    body = _problem(alice.post(f"{API}/communities", data=big, content_type="application/json"), 413)
    assert body["status"] == 413


def test_streamed_request_body_over_limit_is_413(app, make_user):
    alice = make_user("alice")
    limit = app.config["MAX_CONTENT_LENGTH"]

    def chunks():
        yield b'{"slug": "x", "name": "X", "purpose": "'
        for _ in range(limit // 65536 + 2):
            yield b"p" * 65536
        yield b'"}'

    class Stream:
        def __init__(self):
            self._chunks = chunks()
            self._buffer = b""

        def read(self, size=-1):
            while size < 0 or len(self._buffer) < size:
                try:
                    self._buffer += next(self._chunks)
                except StopIteration:
                    break
            if size < 0:
                size = len(self._buffer)
            out, self._buffer = self._buffer[:size], self._buffer[size:]
            return out

    # What a server that de-chunks the body hands the app: a terminated stream, no length.
    environ = EnvironBuilder(path=f"{API}/communities", method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {alice.token}"}).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": Stream(), "wsgi.input_terminated": True})
    response = app.response_class.force_type(app, environ)
    _problem(response, 413)


def test_token_issuance_is_rate_limited(app, make_user):
    alice = make_user("alice")
    limit = app.config["TOKEN_ISSUE_LIMIT"]
    statuses = [alice.post(f"{API}/users/{alice.id}/tokens", json={"name": f"t{i}"}).status_code
                for i in range(limit + 2)]
    # The fixture's own token counts towards the window.
    assert statuses.count(201) == limit - 1
    response = alice.post(f"{API}/users/{alice.id}/tokens", json={"name": "more"})
    body = _problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0 and body["status"] == 429


def test_tokens_expire(app, make_user, monkeypatch):
    alice = make_user("alice")
    response = alice.post(f"{API}/users/{alice.id}/tokens", json={"name": "short"})
    assert response.status_code == 201
    created = response.get_json()
    expires_at = datetime.fromisoformat(created["expires_at"])
    lifetime = timedelta(days=app.config["TOKEN_LIFETIME_DAYS"])
    assert abs(expires_at - datetime.fromisoformat(created["created_at"]) - lifetime) < timedelta(seconds=5)
    fresh = type(alice)(alice.client, created["token"], alice.user)
    assert fresh.get(f"{API}/me").status_code == 200
    later = expires_at + timedelta(seconds=1)
    monkeypatch.setattr("collab.time.now", lambda: later)
    _problem(fresh.get(f"{API}/me"), 401)


def test_moderator_cannot_lift_owner_ban_on_moderator(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    mod_a, mod_b = make_user("ann"), make_user("bob")
    promote(owner, mod_a, "space")
    promote(owner, mod_b, "space")
    assert owner.patch(f"{API}/communities/space/members/{mod_b.id}",
                       json={"status": "banned"}).status_code == 200
    _problem(mod_a.patch(f"{API}/communities/space/members/{mod_b.id}",
                         json={"status": "active"}), 403)
    _problem(mod_a.delete(f"{API}/communities/space/members/{mod_b.id}"), 403)
    members = owner.get(f"{API}/communities/space/members?status=banned").get_json()["items"]
    assert [(m["user"]["id"], m["role"]) for m in members] == [(mod_b.id, "moderator")]
    assert owner.patch(f"{API}/communities/space/members/{mod_b.id}",
                       json={"status": "active"}).status_code == 200


def test_concurrent_identical_votes_are_a_noop(app, make_user, make_community):
    from tests.api.test_votes_concurrency import _all_at_once
    owner = make_user("olga")
    make_community(owner, "space")
    voter = make_user("vic")
    join(voter, "space")
    for round_ in range(3):
        idea = make_thread(owner, "space", "idea", title=f"Idea {round_}")
        url = f"{API}/threads/{idea['id']}/vote"
        statuses = _all_at_once(app, [(voter, "PUT", url, {"value": 1})] * 6)
        assert statuses == [200] * 6
        thread = owner.get(f"{API}/threads/{idea['id']}").get_json()
        assert (thread["upvotes"], thread["downvotes"]) == (1, 0)


def test_database_search_exclude_only_query(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    make_thread(owner, "space", title="Widget roadmap", body="About widgets.")
    other = make_thread(owner, "space", title="Gadget roadmap", body="About gadgets.")
    with_post = make_thread(owner, "space", title="Plans", body="Plans.")
    make_post(owner, with_post["id"], body="The widget is late.")
    body = owner.get(f"{API}/search", query_string={"q": "-widget"}).get_json()
    assert [i["thread"]["id"] for i in body["items"]] == [other["id"]]
    assert body["total"] == 1


def test_database_search_finds_tags(make_user, make_community):
    owner = make_user("olga")
    make_community(owner, "space")
    tagged = make_thread(owner, "space", title="Roadmap", body="Plans.", tags=["kubernetes"])
    make_thread(owner, "space", title="Other", body="Other.")
    body = owner.get(f"{API}/search", query_string={"q": "kubernetes"}).get_json()
    assert [i["thread"]["id"] for i in body["items"]] == [tagged["id"]]
    body = owner.get(f"{API}/search", query_string={"q": "-kubernetes"}).get_json()
    assert tagged["id"] not in [i["thread"]["id"] for i in body["items"]]


def test_openapi_declares_problem_json_errors(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    assert "Problem" in spec["components"]["schemas"]
    operations = [(path, method, op) for path, item in spec["paths"].items()
                  for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]
    assert len(operations) > 20
    for path, method, operation in operations:
        responses = operation["responses"]
        for status in ("401", "404", "422"):
            assert status in responses, (path, method, status)
            response = responses[status]
            if "$ref" in response:
                name = response["$ref"].rsplit("/", 1)[1]
                response = spec["components"]["responses"][name]
            if path.endswith("/oauth/token") and status == "401":
                continue  # RFC 6749 section 5.2 fixes the token endpoint's error format
            assert "application/problem+json" in response["content"], (path, method, status)
        if method in ("post", "put", "patch"):
            assert "413" in responses
