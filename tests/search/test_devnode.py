"""The dev node is a real Elasticsearch 9: every capability collab's search relies on, proven on results."""
from __future__ import annotations

import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch, helpers

from tests.es_node import local_node_pid, started_nodes

RSS_LIMIT_MB = 1536

CONTENT_SETTINGS = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "analysis": {
        "filter": {
            "english_stop": {"type": "stop", "stopwords": "_english_"},
            "english_stemmer": {"type": "stemmer", "language": "english"},
            "english_possessive": {"type": "stemmer", "language": "possessive_english"},
            "collab_synonyms": {"type": "synonym_graph", "synonyms": ["forum, community", "idea, proposal"]},
            "autocomplete_grams": {"type": "edge_ngram", "min_gram": 2, "max_gram": 15},
        },
        "tokenizer": {
            "prefix_tokenizer": {"type": "edge_ngram", "min_gram": 2, "max_gram": 10, "token_chars": ["letter", "digit"]},
        },
        "analyzer": {
            "content": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase", "asciifolding", "english_possessive", "english_stop", "english_stemmer"],
            },
            "content_search": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase", "asciifolding", "english_possessive", "collab_synonyms", "english_stop", "english_stemmer"],
            },
            "autocomplete": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding", "autocomplete_grams"]},
            "prefix": {"type": "custom", "tokenizer": "prefix_tokenizer", "filter": ["lowercase"]},
            "standard_english_stop": {"type": "standard", "stopwords": "_english_"},
            "plain_english": {"type": "english"},
        },
    },
}

CONTENT_MAPPINGS = {
    "properties": {
        "title": {
            "type": "text",
            "analyzer": "content",
            "search_analyzer": "content_search",
            "fields": {"autocomplete": {"type": "text", "analyzer": "autocomplete", "search_analyzer": "standard"}},
        },
        "body": {"type": "text", "analyzer": "content", "search_analyzer": "content_search"},
        "tags": {"type": "keyword"},
        "published_at": {"type": "date"},
        "popularity": {"type": "integer"},
        "suggest": {"type": "completion"},
        "embedding": {"type": "dense_vector", "dims": 3, "index": True, "similarity": "cosine"},
    }
}


def days_ago(days: int) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()


POSTS = {
    "gardens": {
        "title": "Community gardens in the city",
        "body": "How communities grow vegetables together in shared urban gardens.",
        "tags": ["gardening", "community"],
        "published_at": days_ago(2),
        "popularity": 10,
        "embedding": [1.0, 0.0, 0.0],
    },
    "balcony": {
        "title": "Urban gardening for beginners",
        "body": "Growing vegetables on a balcony: soil, seeds and watering for urban gardens.",
        "tags": ["gardening"],
        "published_at": days_ago(400),
        "popularity": 50,
        "embedding": [0.9, 0.1, 0.0],
    },
    "cafe": {
        "title": "Café culture and neighbourhood forums",
        "body": "Neighbours meet in the café to discuss proposals for the forum.",
        "tags": ["culture", "community"],
        "published_at": days_ago(30),
        "popularity": 5,
        "embedding": [0.0, 1.0, 0.0],
    },
    "bikes": {
        "title": "Bicycle repair workshop",
        "body": "Fix your bike: brakes, gears and tyres at the weekly repair workshop.",
        "tags": ["cycling"],
        "published_at": days_ago(10),
        "popularity": 1,
        "embedding": [0.0, 0.0, 1.0],
    },
}


@pytest.fixture(scope="module")
def es(elasticsearch_url: str):
    with Elasticsearch(elasticsearch_url, request_timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def posts_index(es: Elasticsearch):
    """An index with production-style content settings, four posts bulk-indexed and refreshed."""
    name = f"devnode-posts-{uuid.uuid4().hex[:8]}"
    es.indices.create(index=name, settings=CONTENT_SETTINGS, mappings=CONTENT_MAPPINGS)
    actions = [
        {"_index": name, "_id": post_id, "_source": {**post, "suggest": {"input": [post["title"]]}}}
        for post_id, post in POSTS.items()
    ]
    indexed, errors = helpers.bulk(es, actions, refresh="wait_for")
    assert (indexed, errors) == (len(POSTS), [])
    yield name
    es.indices.delete(index=name, ignore_unavailable=True)


def tokens(es: Elasticsearch, **request) -> list[str]:
    return [token["token"] for token in es.indices.analyze(**request)["tokens"]]


def hit_ids(response) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


# --- the REST layer and the client handshake ---------------------------------------------------------


def test_client_pings_and_reads_info_of_a_9x_server(es: Elasticsearch):
    assert es.ping() is True
    info = es.info()
    assert info["version"]["number"].startswith("9.")
    assert info["tagline"] == "You Know, for Search"
    assert info["cluster_uuid"] and info["cluster_uuid"] != "_na_"
    assert info["version"]["lucene_version"].startswith("10.")


def test_responses_carry_the_elastic_product_header(elasticsearch_url: str):
    if started_nodes.get(elasticsearch_url) is None:
        pytest.skip("external cluster may need credentials for a raw request")
    with urllib.request.urlopen(f"{elasticsearch_url}/_cluster/health") as response:
        assert response.headers["X-Elastic-Product"] == "Elasticsearch"


# --- analyzers under their standard names --------------------------------------------------------------


def test_english_analyzer_stems_plural_and_singular_to_one_term(es: Elasticsearch):
    assert tokens(es, analyzer="english", text="communities") == tokens(es, analyzer="english", text="community")
    assert tokens(es, analyzer="english", text="The communities") == ["commun"]


def test_standard_analyzer_drops_configured_english_stopwords(es: Elasticsearch, posts_index: str):
    assert tokens(es, index=posts_index, analyzer="standard_english_stop", text="The Idea of a Forum") == ["idea", "forum"]
    assert tokens(es, index=posts_index, analyzer="plain_english", text="Gardens") == ["garden"]


def test_edge_ngram_tokenizer_honours_min_max_and_token_chars(es: Elasticsearch, posts_index: str):
    assert tokens(es, index=posts_index, analyzer="prefix", text="Idea42!") == ["id", "ide", "idea", "idea4", "idea42"]


def test_edge_ngram_filter_builds_prefixes(es: Elasticsearch, posts_index: str):
    assert tokens(es, index=posts_index, analyzer="autocomplete", text="Café") == ["ca", "caf", "cafe"]


def test_synonym_filter_expands_inline_rules(es: Elasticsearch):
    expanded = tokens(es, tokenizer="standard", filter=["lowercase", {"type": "synonym", "synonyms": ["forum, community"]}], text="Forum")
    assert sorted(expanded) == ["community", "forum"]


def test_synonym_graph_filter_in_a_search_analyzer(es: Elasticsearch, posts_index: str):
    assert "forum" in tokens(es, index=posts_index, analyzer="content_search", text="community")


def test_asciifolding_lowercase_and_stop_filters(es: Elasticsearch):
    folded = tokens(es, tokenizer="standard", filter=["lowercase", "asciifolding", {"type": "stop", "stopwords": "_english_"}], text="The Crème Brûlée")
    assert folded == ["creme", "brulee"]


def test_stemmer_variants_and_porter_stem(es: Elasticsearch):
    assert tokens(es, tokenizer="standard", filter=["lowercase", "porter_stem"], text="running") == ["run"]
    assert tokens(es, tokenizer="standard", filter=["lowercase", {"type": "stemmer", "language": "light_english"}], text="gardens") == ["garden"]
    assert tokens(es, tokenizer="standard", filter=[{"type": "stemmer", "language": "possessive_english"}], text="Anna's") == ["Anna"]


def test_word_delimiter_graph_and_core_shingle(es: Elasticsearch):
    assert tokens(es, tokenizer="whitespace", filter=["word_delimiter_graph"], text="WiFi-Router2") == ["Wi", "Fi", "Router", "2"]
    shingles = tokens(es, tokenizer="standard", filter=[{"type": "shingle", "min_shingle_size": 2, "max_shingle_size": 2}], text="urban city gardens")
    assert "urban city" in shingles and "city gardens" in shingles


def test_html_strip_char_filter(es: Elasticsearch):
    assert tokens(es, tokenizer="standard", char_filter=["html_strip"], text="<p>Hello <b>world</b></p>") == ["Hello", "world"]


def test_unknown_analysis_settings_fail_like_elasticsearch(es: Elasticsearch):
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError, match="max_ngram_diff"):
        es.indices.analyze(tokenizer={"type": "ngram", "min_gram": 1, "max_gram": 5}, text="abc")


# --- search features on indexed documents ---------------------------------------------------------------


def test_match_query_uses_stemming_synonyms_and_folding(es: Elasticsearch, posts_index: str):
    stemmed = hit_ids(es.search(index=posts_index, query={"match": {"body": "community"}}))
    assert "gardens" in stemmed  # "communities" in the body, stemmed alike
    assert "cafe" in stemmed  # "forum" is a synonym of "community"
    folded = hit_ids(es.search(index=posts_index, query={"match": {"title": "cafe"}}))
    assert folded == ["cafe"]


def test_highlight_marks_the_query_term(es: Elasticsearch, posts_index: str):
    response = es.search(index=posts_index, query={"match": {"body": "vegetables"}}, highlight={"fields": {"body": {}}})
    fragments = [fragment for hit in response["hits"]["hits"] for fragment in hit["highlight"]["body"]]
    assert len(fragments) == 2
    assert all("<em>vegetables</em>" in fragment for fragment in fragments)


def test_terms_aggregation_counts_tags(es: Elasticsearch, posts_index: str):
    response = es.search(index=posts_index, size=0, aggs={"tags": {"terms": {"field": "tags"}}})
    counts = {bucket["key"]: bucket["doc_count"] for bucket in response["aggregations"]["tags"]["buckets"]}
    assert counts == {"gardening": 2, "community": 2, "culture": 1, "cycling": 1}


def test_completion_suggester_returns_a_title(es: Elasticsearch, posts_index: str):
    response = es.search(index=posts_index, suggest={"titles": {"prefix": "urb", "completion": {"field": "suggest"}}})
    options = [option["text"] for option in response["suggest"]["titles"][0]["options"]]
    assert options == ["Urban gardening for beginners"]


def test_autocomplete_subfield_matches_a_prefix(es: Elasticsearch, posts_index: str):
    assert hit_ids(es.search(index=posts_index, query={"match": {"title.autocomplete": "bicy"}})) == ["bikes"]


def test_more_like_this_finds_the_similar_post(es: Elasticsearch, posts_index: str):
    query = {
        "more_like_this": {
            "fields": ["title", "body"],
            "like": [{"_index": posts_index, "_id": "gardens"}],
            "min_term_freq": 1,
            "min_doc_freq": 1,
        }
    }
    assert hit_ids(es.search(index=posts_index, query=query))[0] == "balcony"


def test_function_score_decay_ranks_the_fresher_post_first(es: Elasticsearch, posts_index: str):
    query = {
        "function_score": {
            "query": {"match": {"body": "gardens"}},
            "functions": [{"gauss": {"published_at": {"origin": "now", "scale": "30d", "decay": 0.5}}}],
            "boost_mode": "multiply",
        }
    }
    assert hit_ids(es.search(index=posts_index, query=query)) == ["gardens", "balcony"]


def test_function_score_field_value_factor_ranks_the_popular_post_first(es: Elasticsearch, posts_index: str):
    query = {
        "function_score": {
            "query": {"match": {"tags": "gardening"}},
            "functions": [{"field_value_factor": {"field": "popularity", "modifier": "log1p", "missing": 0}}],
            "boost_mode": "replace",
        }
    }
    assert hit_ids(es.search(index=posts_index, query=query)) == ["balcony", "gardens"]


def test_knn_returns_the_nearest_vector(es: Elasticsearch, posts_index: str):
    response = es.search(index=posts_index, knn={"field": "embedding", "query_vector": [0.2, 0.9, 0.1], "k": 2, "num_candidates": 10})
    assert hit_ids(response)[0] == "cafe"


# --- the node's footprint (last: measured after the capability tests) ----------------------------------


def test_dev_node_resident_memory_stays_under_limit(elasticsearch_url: str, posts_index: str):
    pid = local_node_pid(elasticsearch_url)
    if pid is None:
        pytest.skip("external cluster: its memory is not ours to measure")
    status = Path(f"/proc/{pid}/status").read_text()
    rss_mb = int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) // 1024
    node = started_nodes[elasticsearch_url]
    print(f"\ndev node: healthy {node.startup_seconds:.1f}s after start, RSS {rss_mb} MB")
    assert node.startup_seconds < 60
    assert rss_mb < RSS_LIMIT_MB
