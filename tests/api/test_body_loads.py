"""Small JSON bodies of pure schemas (collab.blueprints.pure_load) are loaded once per text: the
same text gives the same arguments (a fresh dict each time), bad texts stay refused, each app's
body limits still hold, and schemas whose load reads anything but the text are never kept."""
import pytest
from marshmallow import fields, validate, validates_schema

from collab.blueprints import SMALL_BODY, Blueprint, pure_load
from collab.json_body import MalformedBody
from collab.ideas.schemas import StatusChangeIn, VoteIn
from collab.schemas import AwareDateTime, StrictSchema
from tests.api.content import API, join, make_thread


def _parse(app, schema, body: bytes):
    parser = Blueprint.ARGUMENTS_PARSER
    with app.test_request_context("/", method="PUT", data=body,
                                  content_type="application/json"):
        return parser.parse(schema, location="json", unknown=None)


def test_a_small_vote_body_is_kept_by_its_text_and_stays_exact(app, make_user, make_community):
    owner, member = make_user("olga"), make_user("mia")
    make_community(owner, "space")
    join(member, "space")
    idea = make_thread(owner, "space", kind="idea")
    parser = Blueprint.ARGUMENTS_PARSER
    for value, expected in ((1, 1), (-1, 0), (1, 1), (-1, 0)):
        response = member.put(f"{API}/threads/{idea['id']}/vote", json={"value": value})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["upvotes"] == expected
        assert response.get_json()["my_vote"] == value
    kept = [key for key in parser._queries if key[0] == "json" and key[1] is VoteIn]
    assert kept  # the vote's body was kept by its text
    for bad in ({"value": 2}, {"value": "1"}, {"value": 1, "extra": 1}, {}):
        for _ in range(2):  # refused every time: refusals are never kept
            response = member.put(f"{API}/threads/{idea['id']}/vote", json=bad)
            assert response.status_code == 422, bad
    first = _parse(app, VoteIn, b'{"value": 1}')
    first["value"] = -1  # a view changing its arguments changes nobody else's
    assert _parse(app, VoteIn, b'{"value": 1}') == {"value": 1}
    assert _parse(app, VoteIn, b'{"value":-1}') == {"value": -1}


class Count(StrictSchema):
    value = fields.Integer()


def test_each_apps_body_limits_hold_for_kept_bodies(app):
    """A text kept under one app's limits is still refused by an app with stricter ones."""
    body = b'{"value": 1234567}'
    assert len(body) <= SMALL_BODY and pure_load(Count)
    before = app.config["JSON_MAX_INT_DIGITS"]
    try:
        app.config["JSON_MAX_INT_DIGITS"] = 40
        assert _parse(app, Count, body) == {"value": 1234567}
        assert _parse(app, Count, body) == {"value": 1234567}
        app.config["JSON_MAX_INT_DIGITS"] = 5
        with pytest.raises(MalformedBody):
            _parse(app, Count, body)
    finally:
        app.config["JSON_MAX_INT_DIGITS"] = before


def test_only_loads_that_depend_on_the_text_alone_are_kept():
    class WithSchemaCheck(StrictSchema):
        value = fields.Integer()

        @validates_schema
        def _check(self, data, **kwargs):
            pass

    class WithOwnValidator(StrictSchema):
        value = fields.Integer(validate=lambda value: value > 0)

    class WithClockDefault(StrictSchema):
        value = fields.Integer(load_default=lambda: 1)

    class WithDate(StrictSchema):
        at = AwareDateTime()

    class Plain(StrictSchema):
        value = fields.Integer(validate=validate.Range(1, 5))
        name = fields.String(load_default="x")

    assert pure_load(VoteIn) and pure_load(StatusChangeIn) and pure_load(Plain)
    for schema in (WithSchemaCheck, WithOwnValidator, WithClockDefault, WithDate):
        assert not pure_load(schema), schema.__name__
