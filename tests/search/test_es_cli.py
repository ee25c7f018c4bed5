"""The search command line against the real node, and a cluster that is slow rather than down."""
import json
import socket
import time as clock

from collab.db import db
from search import client as search_client
from search import indexer
from tests.search.helpers import API, make_post, make_thread, search, sync
from tests.search.test_es_sync import _database_versions, _index_versions


def _refresh(app) -> None:
    with app.app_context():
        search_client.client(app).indices.refresh(index=search_client.settings(app).alias)
        db.session.remove()


def _run(app, *args):
    result = app.test_cli_runner().invoke(args=["search", *args])
    return result.exit_code, result.output


def test_init_status_sync_reindex_commands(es_app, make_user, make_community):
    owner = make_user()
    make_community(owner, "eng")
    thread = make_thread(owner, "eng", title="Kafka consumer lag", body="Rebalancing storms")
    make_post(owner, thread["id"], body="Raise max.poll.interval.ms")
    make_thread(owner, "eng", title="Billing export", body="CSV please")

    code, output = _run(es_app, "init")
    assert code == 0 and output.startswith("created:"), output
    first_index = output.split("-> ")[1].strip()
    code, output = _run(es_app, "init")
    assert code == 0 and output.startswith("exists:"), output

    code, output = _run(es_app, "status")
    status = json.loads(output)
    assert code == 0 and status["engine"] == "elasticsearch"
    assert status["outbox"]["backlog"] > 0

    code, output = _run(es_app, "sync")
    assert code == 0 and output.strip().splitlines()[-1].startswith("done:"), output
    _refresh(es_app)
    status = json.loads(_run(es_app, "status")[1])
    assert status["outbox"]["backlog"] == 0 and status["documents"] == 2
    assert status["index"] == first_index

    code, output = _run(es_app, "reindex")
    assert code == 0 and "2 threads with 1 posts" in output, output
    _refresh(es_app)
    status = json.loads(_run(es_app, "status")[1])
    assert status["index"] != first_index and status["documents"] == 2
    with es_app.app_context():
        es = search_client.client(es_app)
        assert not es.indices.exists(index=first_index)  # the old index is deleted
        db.session.remove()
    result = search(owner, q="kafka")
    assert result["engine"] == "elasticsearch" and result["total"] == 1


def test_commands_refuse_without_a_cluster(app):
    for command in ("init", "reindex", "sync"):
        code, output = _run(app, command)
        assert code != 0 and "ELASTICSEARCH_URL is not set" in output


def test_slow_cluster_writes_succeed_search_falls_back_then_catches_up(es_app, make_user,
                                                                       make_community):
    owner = make_user()
    make_community(owner, "eng")
    seeded = make_thread(owner, "eng", title="Seed idea", kind="idea")
    sync(es_app)
    live_url = es_app.config["ELASTICSEARCH_URL"]
    # A port that accepts connections and never answers: a hung cluster, not a dead one.
    with socket.socket() as blackhole:
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(128)
        es_app.config["ELASTICSEARCH_URL"] = f"http://127.0.0.1:{blackhole.getsockname()[1]}"
        try:
            for i in range(30):
                response = owner.post(f"{API}/communities/eng/threads", json={
                    "kind": "discussion", "title": f"Written while slow {i}", "body": "slow"})
                assert response.status_code == 201
                response = owner.post(f"{API}/threads/{seeded['id']}/posts", json={"body": f"r{i}"})
                assert response.status_code == 201
            began = clock.monotonic()
            first = search(owner, q="slow")
            waited = clock.monotonic() - began
            assert first["engine"] == "database" and first["total"] == 30
            assert waited < search_client.SEARCH_TIMEOUT + 2
            # The breaker is open now: the next search does not wait for the cluster again.
            began = clock.monotonic()
            assert search(owner, q="slow")["engine"] == "database"
            assert clock.monotonic() - began < 1.0
        finally:
            es_app.config["ELASTICSEARCH_URL"] = live_url
            search_client.breaker(es_app).reset()
            es_app.extensions.pop("search_known_aliases", None)
    with es_app.app_context():
        assert indexer.backlog()[0] >= 60
        db.session.remove()
    sync(es_app)
    assert _index_versions(es_app) == _database_versions(es_app)
    result = search(owner, q="slow")
    assert result["engine"] == "elasticsearch" and result["total"] == 30
