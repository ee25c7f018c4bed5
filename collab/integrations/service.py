"""Registering, listing and revoking API clients (admins only)."""
import secrets

from sqlalchemy import select, update

from collab import time
from collab.auth import hash_token
from collab.communities.models import Community
from collab.db import db
from collab.errors import Forbidden, InvalidInput, NotFound
from collab.integrations import scopes as scope_names
from collab.integrations.models import ApiClient, ApiClientCommunity
from collab.people import service as people
from collab.people.models import ApiToken, User, UserKind


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("Only admins manage API clients.")


def _with_slugs(clients: list[ApiClient]) -> list[ApiClient]:
    ids = {row.community_id for c in clients for row in c.community_rows}
    slugs = dict(db.session.execute(select(Community.id, Community.slug)
                                    .where(Community.id.in_(ids))).all()) if ids else {}
    for client in clients:
        client.community_slugs = sorted(slugs[row.community_id] for row in client.community_rows)
    return clients


def register_client(actor: User, fields: dict) -> tuple[ApiClient, str]:
    """Returns the client and its secret, which is never stored."""
    _require_admin(actor)
    owner_id = fields.get("owner_id") or actor.id
    if db.session.get(User, owner_id) is None:
        raise InvalidInput({"owner_id": [f"No user {owner_id}."]})
    community_ids = []
    if fields["communities"]:
        found = dict(db.session.execute(select(Community.slug, Community.id).where(
            Community.slug.in_(fields["communities"]))).all())
        missing = sorted(set(fields["communities"]) - set(found))
        if missing:
            raise InvalidInput({"communities": [f"No community '{slug}'." for slug in missing]})
        community_ids = sorted(found.values())
    client_id = "client_" + secrets.token_hex(12)
    handle = fields["handle"] or f"svc-{client_id[7:19]}"
    granted = [s for s in scope_names.ALL_SCOPES if s in fields["scopes"]]
    service_user = people.create_user(
        None, handle=handle, email=f"{handle}@clients.invalid", audience=fields["audience"],
        organization=fields["organization"], display_name=fields["name"],
        is_admin=scope_names.ADMIN in granted, kind=UserKind.SERVICE, commit=False)
    secret = "collab_secret_" + secrets.token_urlsafe(32)
    client = ApiClient(client_id=client_id, secret_hash=hash_token(secret), name=fields["name"],
                       owner_id=owner_id, service_user=service_user, scopes=" ".join(granted),
                       all_communities=fields["all_communities"],
                       community_rows=[ApiClientCommunity(community_id=c) for c in community_ids])
    db.session.add(client)
    db.session.commit()
    return _with_slugs([client])[0], secret


def list_clients(actor: User) -> list[ApiClient]:
    _require_admin(actor)
    return _with_slugs(list(db.session.scalars(select(ApiClient).order_by(ApiClient.id))))


def get_client(actor: User, client_id: int) -> ApiClient:
    _require_admin(actor)
    client = db.session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"No client {client_id}.")
    return _with_slugs([client])[0]


def revoke_client(actor: User, client_id: int) -> None:
    """The client can obtain no more tokens and its tokens stop working at once."""
    client = get_client(actor, client_id)
    stamp = time.now()
    if client.revoked_at is None:
        client.revoked_at = stamp
    db.session.execute(update(ApiToken).where(ApiToken.client_id == client.id,
                                              ApiToken.revoked_at.is_(None))
                       .values(revoked_at=stamp))
    db.session.commit()
