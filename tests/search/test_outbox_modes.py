"""Database-only mode queues no outbox rows and reports no backlog; a reindex leaves an exact status."""
import json

import pytest
from sqlalchemy import func, select

from collab.db import db
from collab.outbox import OutboxRow
from collab.threads.models import Thread
from tests.search.helpers import API, make_post, make_thread, vote


@pytest.fixture
def default_outbox(app):
    """The shipped setting (SEARCH_OUTBOX unset: rows only when a cluster is configured)."""
    saved = app.config.get("SEARCH_OUTBOX")
    app.config["SEARCH_OUTBOX"] = None
    yield app
    app.config["SEARCH_OUTBOX"] = saved


def _pending(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(OutboxRow)
                                  .where(OutboxRow.processed_at.is_(None)))
        db.session.remove()
    return count


def _status(app) -> dict:
    result = app.test_cli_runner().invoke(args=["search", "status"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_database_only_mode_writes_no_rows_and_reports_no_backlog(default_outbox, make_user,
                                                                   make_community):
    app = default_outbox
    assert app.config["ELASTICSEARCH_URL"] is None
    owner = make_user(is_admin=True)
    make_community(owner, "eng")
    thread = make_thread(owner, "eng", kind="idea", title="Offline drafts", body="Write later")
    make_post(owner, thread["id"], body="Yes please")
    vote(owner, thread["id"], 1)
    assert _pending(app) == 0
    with app.app_context():  # versions still move, so a cluster added later orders writes right
        assert db.session.get(Thread, thread["id"]).version > 1
        db.session.remove()
    status = owner.get(f"{API}/search/status").get_json()
    assert status["engine"] == "database"
    assert status["outbox"] == {"enabled": False, "backlog": 0, "oldest_age_seconds": None}
    # Search still answers from the database.
    found = owner.get(f"{API}/search", query_string={"q": "drafts"}).get_json()
    assert [item["thread"]["id"] for item in found["items"]] == [thread["id"]]


def test_rows_left_by_another_configuration_are_no_backlog_without_a_cluster(default_outbox, app,
                                                                              make_user,
                                                                              make_community):
    owner = make_user(is_admin=True)
    app.config["SEARCH_OUTBOX"] = True  # e.g. written while a cluster was configured
    make_community(owner, "eng")
    make_thread(owner, "eng", title="Left behind", body="b")
    assert _pending(app) > 0
    app.config["SEARCH_OUTBOX"] = None
    assert _status(app)["outbox"]["backlog"] == 0


def test_reindex_settles_the_rows_it_covers(default_outbox, es_app, make_user, make_community):
    app = es_app
    owner = make_user()
    make_community(owner, "eng")
    for n in range(3):
        thread = make_thread(owner, "eng", title=f"Kafka lag {n}", body="Rebalancing")
        make_post(owner, thread["id"], body="Raise the poll interval")
    pending = _pending(app)
    assert pending >= 4  # the cluster is configured: changes are queued
    assert _status(app)["outbox"]["backlog"] == pending
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    status = _status(app)
    assert status["outbox"] == {"enabled": True, "backlog": 0, "oldest_age_seconds": None}
    assert status["documents"] == 3
    # A change after the reindex is queued as usual.
    make_post(owner, thread["id"], body="Later")
    assert _status(app)["outbox"]["backlog"] >= 1
