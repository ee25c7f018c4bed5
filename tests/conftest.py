"""Shared fixtures: the app on SQLite and on PostgreSQL, a client, and callers acting as users.

Every test that uses `app` (directly or through `client` / `make_user`) runs twice: once on a
SQLite file and once on a real PostgreSQL (`TEST_DATABASE_URL`, started by scripts/test).
"""
import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from collab import blueprints, create_app
from collab.db import db
from collab.integrations.ratelimits import UNTHROTTLED
from tests.es_node import elasticsearch_url  # noqa: F401  (session fixture: a real Elasticsearch node)
from tests.factories import Caller, make_community_factory, make_user_factory

BACKENDS = ["sqlite", "postgresql"]


def _postgres_database() -> str | None:
    """A fresh database on the test cluster, so parallel runs never share state."""
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        if os.environ.get("COLLAB_REQUIRE_POSTGRES") == "1":
            pytest.fail("TEST_DATABASE_URL is not set but PostgreSQL is required (scripts/test sets it).")
        return None
    name = f"collab_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    admin_url = os.environ["TEST_DATABASE_URL"]
    name = make_url(url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'collab.db'}"
    else:
        url = _postgres_database()
        if url is None:
            pytest.skip("PostgreSQL not configured (set TEST_DATABASE_URL or run scripts/test)")
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "AUTO_MIGRATE": True,
        "ELASTICSEARCH_URL": None,
        "SEARCH_SYNC_IN_PROCESS": False,
        # Queue outbox rows even without a cluster, so the outbox tests need no node
        # (tests/search/test_outbox_modes.py checks the default, which queues none then).
        "SEARCH_OUTBOX": True,
        "WEBHOOKS_DELIVER_IN_PROCESS": False,
        # No embedding on write but in the similarity tests (tests/search/test_*similarity.py).
        "SIMILARITY_EMBED_ON_WRITE": "off",
        **UNTHROTTLED,  # only the rate-limit tests lower the limits
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 60, "max_overflow": 20}
        if request.param == "postgresql" else {},
    })
    application.config["BACKEND"] = request.param
    yield application
    with application.app_context():
        db.engine.dispose()
    if request.param == "postgresql":
        _drop_postgres_database(url)


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Empty every table after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(autouse=True)
def _compare_compiled_dumps(monkeypatch):
    """Every compiled response dump (collab.blueprints.compiled_dump) is compared with
    marshmallow's own dump of the same object: a difference fails the test."""
    monkeypatch.setattr(blueprints, "CHECK_DUMPS", True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def anonymous(client):
    return Caller(client, token=None)


@pytest.fixture
def make_user(app, client):
    """make_user("alice", audience="partner", organization="acme") -> a Caller acting as alice."""
    return make_user_factory(app, client)


@pytest.fixture
def make_community(app):
    """make_community(owner, "slug", visibility=..., audiences=[...]) -> the community JSON."""
    return make_community_factory()
