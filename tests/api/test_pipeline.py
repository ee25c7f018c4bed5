"""The request pipeline every endpoint pays: hot reads run outside a transaction without leaving
pooled connections in autocommit, and psycopg's kept column descriptions describe each result as
psycopg itself would."""
import pytest
from sqlalchemy import event, text

from collab.db import db

API = "/api/v1"


def test_hot_reads_run_without_transaction_and_connections_return_transactional(app, make_user):
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("autocommit reads are PostgreSQL's (SQLite begins lazily)")
    user = make_user("ada")
    with app.app_context():
        engine = db.engine
    autocommit_at_statement, autocommit_at_checkout = [], []

    def statement(conn, cursor, statement, parameters, context, executemany):
        autocommit_at_statement.append(conn.connection.dbapi_connection.autocommit)

    def checkout(dbapi_connection, connection_record, connection_proxy):
        autocommit_at_checkout.append(dbapi_connection.autocommit)

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        for _ in range(3):
            assert user.get(f"{API}/me").status_code == 200
        reads = list(autocommit_at_statement)
        created = user.post(f"{API}/communities", json={
            "slug": "after-reads", "name": "After reads", "purpose": "A write after reads."})
        assert created.status_code == 201, created.get_json()
        write_statements = autocommit_at_statement[len(reads):]
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)
    assert reads == [True, True, True]  # the token lookup of each GET /me, no BEGIN
    assert autocommit_at_checkout and not any(autocommit_at_checkout)
    assert write_statements and not any(write_statements)  # the write is one transaction


def test_kept_descriptions_follow_each_result_columns(app):
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("psycopg's descriptions (SQLite's carry no types)")
    with app.app_context():
        connection = db.session.connection()
        described = {}
        for sql in ("SELECT 1 AS x", "SELECT CAST('one' AS TEXT) AS x", "SELECT 1 AS x, 2 AS y",
                    "SELECT 1 AS x", "SELECT CAST('one' AS TEXT) AS x"):
            result = connection.execute(text(sql))
            names = tuple(column[0] for column in result.cursor.description)
            types = tuple(column[1] for column in result.cursor.description)
            described.setdefault(sql, set()).add((names, types))
            result.close()
        # the same columns are described by the same kept list
        first = connection.execute(text("SELECT 1 AS x")).cursor.description
        again = connection.execute(text("SELECT 2 AS x")).cursor.description
        assert first is again
        db.session.rollback()
    assert all(len(seen) == 1 for seen in described.values())
    assert described["SELECT 1 AS x"] != described["SELECT CAST('one' AS TEXT) AS x"]
    assert next(iter(described["SELECT 1 AS x, 2 AS y"]))[0] == ("x", "y")


def test_query_arguments_loaded_once_per_query_string_stay_exact(app, make_user, make_community):
    """collab.blueprints.BodyParser keeps a query string's loaded arguments: the same text gives
    the same arguments (a fresh dict each time), another text its own, bad ones stay 422."""
    from collab.blueprints import Blueprint
    from collab.communities.schemas import CommunityListArgs

    owner = make_user("olga")
    for slug in ("alpha", "beta", "gamma"):
        make_community(owner, slug)
    for _ in range(2):
        assert len(owner.get(f"{API}/communities?limit=1").get_json()["items"]) == 1
        assert len(owner.get(f"{API}/communities?limit=2").get_json()["items"]) == 2
        assert len(owner.get(f"{API}/communities").get_json()["items"]) == 3
        for bad in ("limit=0", "limit=x", "bogus=1"):
            response = owner.get(f"{API}/communities?{bad}")
            assert response.status_code == 422, bad
    parser = Blueprint.ARGUMENTS_PARSER
    with app.test_request_context("/api/v1/communities?limit=5&visibility=open"):
        first = parser.parse(CommunityListArgs, location="query", unknown=None)
        first["limit"] = 99  # a view changing its arguments changes nobody else's
        again = parser.parse(CommunityListArgs, location="query", unknown=None)
    assert again == {"limit": 5, "cursor": None, "visibility": "open"}
    assert again is not first
    with app.test_request_context("/api/v1/communities?limit=6"):
        assert parser.parse(CommunityListArgs, location="query", unknown=None)["limit"] == 6
