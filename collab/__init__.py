"""collab: the REST backend of an enterprise collaboration platform."""
from pathlib import Path

from flask import Flask
from flask_migrate import Migrate, upgrade
from werkzeug.routing import IntegerConverter

from collab import apidocs, auth, integrations, outbox, webhooks
from collab.db import db, described_cursor_class
from collab.errors import register_error_handlers
from collab.json_response import OrjsonProvider
from collab.openapi import CollabApi, ProblemResponses
from collab.schemas import MAX_ID
from collab.serving import CollabFlask
from collab.similarity import vectors as similarity_vectors
from config import BASE_DIR, config_for_environment

MIGRATIONS_DIR = str(BASE_DIR / "migrations")
migrate = Migrate(directory=MIGRATIONS_DIR, render_as_batch=True)


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application; `overrides` replace settings (tests use it)."""
    app = CollabFlask(__name__, instance_path=str(BASE_DIR / "instance"))
    app.json = OrjsonProvider(app)
    app.config.from_object(config_for_environment())
    app.config.update(overrides or {})
    _ensure_sqlite_directory(app.config["SQLALCHEMY_DATABASE_URI"])
    _postgres_plan_cache_mode(app)
    _psycopg_described_cursors(app)

    app.url_map.converters["int"] = BoundedIntConverter
    db.init_app(app)
    migrate.init_app(app, db)
    outbox.init_app(app)
    similarity_vectors.init_app(app)
    apidocs.init_app(app)
    api = CollabApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearerAuth": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearerAuth": []}],
        "extra_plugins": [ProblemResponses()]})
    _register_features(app, api)
    register_error_handlers(app)
    auth.init_app(app)
    integrations.init_app(app, api)
    webhooks.init_app(app)

    if app.config["AUTO_MIGRATE"]:
        with app.app_context():
            upgrade(directory=MIGRATIONS_DIR)
    return app


def _register_features(app: Flask, api: CollabApi) -> None:
    import collab.answers.models  # noqa: F401  (tables known to Alembic and the ORM)
    import collab.audit.models  # noqa: F401
    import collab.challenges.models  # noqa: F401
    import collab.ideas.models  # noqa: F401
    import collab.moderation.models  # noqa: F401
    import collab.threads.models  # noqa: F401
    from collab.challenges.api import blueprint as challenges
    import collab.concerns.service  # noqa: F401  (tables, and the scoring session events)
    import collab.reputation.service  # noqa: F401  (table, and the ledger's session events)
    from collab.communities.api import blueprint as communities
    from collab.people.api import blueprint as people
    from collab.demo import seed_cli
    from collab.directory.api import blueprint as directory
    from collab.people.cli import users_cli
    from collab.ideas.api import blueprint as ideas
    from collab.integrations.api import blueprint as clients
    from collab.integrations.api import oauth_blueprint as oauth
    from collab.threads.api import blueprint as threads
    from collab.webhooks.api import blueprint as webhooks
    from collab.search.api import blueprint as search
    from collab.audit.api import blueprint as audit
    from collab.moderation.api import blueprint as moderation
    from collab.privacy.api import blueprint as privacy
    from collab.similarity.api import blueprint as similarity
    from collab.expertise.api import blueprint as expertise
    from collab.concerns.api import blueprint as concerns
    from collab.insights.api import blueprint as insights, insights_cli
    from collab.reputation.api import blueprint as reputation, reputation_cli
    from collab.digest.api import blueprint as digest
    from search.cli import search_cli
    from collab.answers.api import blueprint as answers
    from collab.freshness.api import blueprint as freshness

    for blueprint in (people, communities, threads, ideas, answers, challenges, search, similarity,
                      expertise, concerns, insights, reputation, digest, audit, moderation, privacy,
                      clients, oauth, webhooks, directory, freshness):
        api.register_blueprint(blueprint, url_prefix="/api/v1")
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(reputation_cli)
    app.cli.add_command(insights_cli)


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` only matches ids that fit the id columns, so huge ids are a plain 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _postgres_plan_cache_mode(app: Flask) -> None:
    """PostgreSQL connections plan prepared statements generically (`POSTGRES_PLAN_CACHE_MODE`).

    psycopg prepares a statement after 5 executions; PostgreSQL then kept planning the hot reads
    afresh for each caller's values (a custom plan: about 0.8 ms of database CPU for a thread read
    whose plan is the same for everyone). A generic plan is made once per connection.
    """
    mode = app.config.get("POSTGRES_PLAN_CACHE_MODE")
    if not mode or not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args["options"] = f"{connect_args.get('options', '')} -c plan_cache_mode={mode}".strip()
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _psycopg_described_cursors(app: Flask) -> None:
    """psycopg connections keep their results' column descriptions (collab.db)."""
    cursor_class = described_cursor_class()
    if cursor_class is None or not app.config["SQLALCHEMY_DATABASE_URI"].startswith(
            "postgresql+psycopg:"):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("cursor_factory", cursor_class)
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _ensure_sqlite_directory(uri: str) -> None:
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
