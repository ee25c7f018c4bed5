"""API clients, scopes and the OAuth 2 client-credentials grant."""
from flask import Flask
from flask_smorest import Api


def init_app(app: Flask, api: Api) -> None:
    """The token endpoint, and each operation's required scope in the OpenAPI document."""
    from collab.integrations import conditional, idempotency, oauth, ratelimits, scopes
    from collab.integrations.cli import integrations_cli

    ratelimits.init_app(app)  # after authentication: limits are per token
    oauth.init_app(app)
    idempotency.init_app(app)
    conditional.init_app(app)
    app.cli.add_command(integrations_cli)
    build_spec = api.spec.to_dict
    api.spec.to_dict = lambda: scopes.document(app, build_spec())
