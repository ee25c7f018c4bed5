"""The OAuth 2 client-credentials grant (RFC 6749 §4.4), served by Authlib.

Tokens issued here are ordinary `api_tokens` rows (hash only) of the client's service user,
carrying the granted scopes and an expiry, so one authentication path serves every token.
"""
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidScopeError, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from flask import Flask, current_app
from sqlalchemy import select

from collab import time
from collab.auth import hash_token, new_token
from collab.db import db
from collab.integrations import scopes
from collab.integrations.models import ApiClient
from collab.people.models import ApiToken

DEFAULT_EXPIRES_IN = 3600


class _Client(ClientMixin):
    """Authlib's view of a registered client."""

    def __init__(self, client: ApiClient):
        self.row = client

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        allowed = scopes.parse(self.row.scopes)
        if not scope:
            return " ".join(s for s in scopes.ALL_SCOPES if s in allowed)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        import hmac

        return hmac.compare_digest(self.row.secret_hash, hash_token(client_secret or ""))

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint != "token" or method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


class _ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Asking for a scope the client was not given is an error, not a silent narrowing."""

    def validate_requested_scope(self):
        super().validate_requested_scope()
        requested = set((self.request.payload.scope or "").split())
        if requested - scopes.parse(self.request.client.row.scopes):
            raise InvalidScopeError("The client may not request these scopes.")


def _query_client(client_id: str):
    client = db.session.scalar(select(ApiClient).where(
        ApiClient.client_id == client_id, ApiClient.revoked_at.is_(None)))
    return _Client(client) if client is not None else None


def _save_token(token: dict, request) -> None:
    client = request.client.row
    db.session.add(ApiToken(
        user_id=client.service_user_id, client_id=client.id, name=f"oauth:{client.name}"[:80],
        token_hash=hash_token(token["access_token"]), scopes=token.get("scope") or "",
        expires_at=time.now() + timedelta(seconds=token["expires_in"])))
    db.session.commit()


def token_response():
    return current_app.extensions["oauth2_server"].create_token_response()


def init_app(app: Flask) -> None:
    expires_in = int(app.config.get("OAUTH2_TOKEN_EXPIRES_IN_SECONDS", DEFAULT_EXPIRES_IN))
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    app.extensions["oauth2_server"] = server
    server.scopes_supported = list(scopes.ALL_SCOPES)
    server.register_token_generator("default", BearerTokenGenerator(
        access_token_generator=lambda client, grant_type, user, scope: new_token(),
        expires_generator=lambda client, grant_type: expires_in))
    server.register_grant(_ClientCredentialsGrant)
