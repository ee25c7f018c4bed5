"""GET /me answers from the token lookup's columns (collab.auth.Caller), its payload built
directly: equal, field for field and in order, to marshmallow's dump of the same person loaded as
a User, for people of every audience, an admin and an API client's service user."""
import marshmallow
import pytest

from collab.auth import Caller, _USER_COLUMNS
from collab.db import db
from collab.people.models import User
from collab.people.schemas import UserPrivateOut
from tests.api.content import API


@pytest.mark.parametrize("kind", ["employee", "partner", "admin", "service"])
def test_me_payload_equals_marshmallows_dump_of_the_user(app, make_user, kind):
    if kind == "partner":
        caller = make_user("pat", audience="partner", organization="Acme, Inc.")
    elif kind == "admin":
        caller = make_user("root", is_admin=True)
    else:
        caller = make_user("mia")
    if kind == "service":
        with app.app_context():
            db.session.get(User, caller.id).kind = "service"
            db.session.commit()
    body = caller.get(f"{API}/me").get_json()
    with app.app_context():
        user = db.session.get(User, caller.id)
        from_user = marshmallow.Schema.dump(UserPrivateOut(), user)
        as_caller = Caller(*(getattr(user, key) for key in _USER_COLUMNS))
        fast = UserPrivateOut().dump(as_caller)
        db.session.remove()
    assert fast == from_user and list(fast) == list(from_user)
    assert body == from_user
    assert body["kind"] == ("service" if kind == "service" else "person")
    assert body["organization"] == ("Acme, Inc." if kind == "partner" else None)
    assert body["is_admin"] is (kind == "admin")
