"""Plain factory functions for rows, and a client wrapper that acts as a given user."""
import itertools

from flask.testing import FlaskClient

from collab.db import db
from collab.people import service as people


class Caller:
    """Sends API requests as one user (or anonymously when token is None)."""

    def __init__(self, client: FlaskClient, token: str | None, user: dict | None = None):
        self.client = client
        self.token = token
        self.user = user or {}

    @property
    def id(self) -> int:
        return self.user["id"]

    @property
    def handle(self) -> str:
        return self.user["handle"]

    def _headers(self, headers: dict | None) -> dict:
        merged = dict(headers or {})
        if self.token:
            merged["Authorization"] = f"Bearer {self.token}"
        return merged

    def request(self, method: str, url: str, headers: dict | None = None, **kwargs):
        return self.client.open(url, method=method, headers=self._headers(headers), **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)

    def put(self, url, **kwargs):
        return self.request("PUT", url, **kwargs)

    def patch(self, url, **kwargs):
        return self.request("PATCH", url, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)


_sequence = itertools.count(1)


def make_user_factory(app, client):
    def make_user(handle: str | None = None, *, audience: str = "employee",
                  organization: str | None = None, is_admin: bool = False) -> Caller:
        handle = handle or f"user{next(_sequence)}"
        with app.app_context():
            user = people.create_user(None, handle=handle, email=f"{handle}@example.com",
                                      audience=audience, organization=organization,
                                      is_admin=is_admin)
            _, token = people.issue_token(None, user.id, "test")
            summary = {"id": user.id, "handle": user.handle, "audience": user.audience,
                       "organization": user.organization, "is_admin": user.is_admin}
            db.session.remove()
        return Caller(client, token, summary)

    return make_user


def make_community_factory():
    def make_community(owner: Caller, slug: str, *, visibility: str = "open",
                       audiences: list[str] | None = None, organizations: list[str] | None = None,
                       **fields) -> dict:
        payload = {"slug": slug, "name": slug.replace("-", " ").title(),
                   "purpose": f"Why {slug} exists.", "visibility": visibility,
                   "audiences": audiences or ["employee"], "organizations": organizations or [],
                   **fields}
        response = owner.post("/api/v1/communities", json=payload)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make_community


def set_membership(app, slug: str, user_id: int, status: str, role: str = "member") -> None:
    """Put a user in any membership state directly (the API flows are tested elsewhere)."""
    from sqlalchemy import select

    from collab.communities.models import Community, Membership

    with app.app_context():
        community = db.session.scalar(select(Community).where(Community.slug == slug))
        db.session.add(Membership(community_id=community.id, user_id=user_id, role=role,
                                  status=status))
        db.session.commit()
        db.session.remove()
