"""Where a similarity request's time goes: related, threads/similar and ideas/similar, part by part.

    python benchmarks/similarity_latency.py --es URL --database URL --index-prefix P
        [--requests 60] [--rate 10] [--profile]

Measures the index an earlier search benchmark run left (`search_benchmark.py --reuse
--index-prefix P`): no seeding, no reindex. Each request goes through the API (Flask test client,
in process) at --rate, with the same drafts and threads as search_benchmark.py; per request it
records the wall time and the process CPU, and inside it the draft's embedding, the `_msearch`
round trip with Elasticsearch's `took` for the BM25 and the kNN searches, and the loading of the
returned threads. Prints p50 / p95 of each part. --profile also prints Elasticsearch's own
profile (`profile: true`) of one BM25 and one kNN search per endpoint (query and collector times).
Not part of the test run.
"""
import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.search_benchmark import existing, paced, sentence, warm_up  # noqa: E402
from collab import create_app  # noqa: E402
from collab.search import service as search  # noqa: E402
from search import embeddings  # noqa: E402

PARTS = ("embed", "msearch", "took bm25", "took knn", "load", "rest", "wall", "cpu")


class Recorder:
    """Times the parts of the request running now (wraps the service's own calls, unchanged)."""

    def __init__(self):
        self.current: dict[str, float] = {}
        self.profile_next = False
        self.profiling = ""  # the endpoint whose searches are profiled now
        self.profiles: dict[str, list] = {}

    def wrap(self):
        encode, es_call, scored = embeddings.encode, search.es_call, search.scored_threads

        def timed_encode(*args, **kwargs):
            began = time.perf_counter()
            try:
                return encode(*args, **kwargs)
            finally:
                self.current["embed"] = self.current.get("embed", 0) + time.perf_counter() - began

        def timed_es_call(name, **kwargs):
            if name == "msearch" and self.profile_next:
                kwargs["searches"] = [dict(part, profile=True) if i % 2 else part
                                      for i, part in enumerate(kwargs["searches"])]
            began = time.perf_counter()
            response = es_call(name, **kwargs)
            if name == "msearch":
                # One round trip with both searches (related), or the BM25 search and then the
                # kNN search (a draft, embedded meanwhile): add up the round trips.
                self.current["msearch"] = (self.current.get("msearch", 0)
                                           + time.perf_counter() - began)
                bodies = kwargs["searches"][1::2]
                for body, part in zip(bodies, response["responses"]):
                    self.current["took knn" if "knn" in body else "took bm25"] = \
                        part.get("took", 0) / 1000
                if self.profile_next:
                    self.profiles.setdefault(self.profiling, []).extend(
                        ("kNN" if "knn" in body else "BM25", part.get("profile"))
                        for body, part in zip(bodies, response["responses"]))
            return response

        def timed_scored(*args, **kwargs):
            began = time.perf_counter()
            try:
                return scored(*args, **kwargs)
            finally:
                self.current["load"] = time.perf_counter() - began

        embeddings.encode, search.es_call, search.scored_threads = timed_encode, timed_es_call, timed_scored


def summarise(profile: dict) -> str:
    """Query and collector time (ms) of one search's shard profile."""
    lines = []
    for shard in profile.get("shards", []):
        for search_part in shard.get("searches", []):
            for query in search_part.get("query", []):
                lines.append(f"      query {query['type']}: {query['time_in_nanos'] / 1e6:.1f} ms")
            for collector in search_part.get("collector", []):
                lines.append(f"      collector {collector['name']}: "
                             f"{collector['time_in_nanos'] / 1e6:.1f} ms")
        for dfs in shard.get("dfs", {}).get("knn", []) or []:
            for query in dfs.get("query", []):
                lines.append(f"      knn {query['type']} ({query.get('description', '')[:60]}): "
                             f"{query['time_in_nanos'] / 1e6:.1f} ms")
            if "vector_operations_count" in dfs:
                lines.append(f"      knn vector operations: {dfs['vector_operations_count']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--index-prefix", required=True)
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", help="comma-separated: related,threads/similar,ideas/similar")
    args = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "ELASTICSEARCH_URL": args.es,
                      "SEARCH_INDEX_PREFIX": args.index_prefix, "SEARCH_SYNC_IN_PROCESS": False,
                      "RATELIMIT_ENABLED": False})
    threads, token = existing(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    recorder = Recorder()
    recorder.wrap()
    samples: dict[str, list[dict]] = {}

    def request(name, i):
        if name == "related":
            thread_id = 1 + (i * 7919) % threads
            return client.get(f"/api/v1/threads/{thread_id}/related", headers=headers,
                              query_string={"limit": 10})
        draft = random.Random(i)
        return client.post(f"/api/v1/communities/bench-{i % args.communities}/{name}",
                           headers=headers, json={
                               "title": sentence(draft, 6), "limit": 10,
                               "body": " ".join(sentence(draft, 12) for _ in range(3))})

    def measured(name):
        def call(i):
            recorder.current = {}
            cpu, began = time.process_time(), time.perf_counter()
            response = request(name, i)
            recorder.current["wall"] = time.perf_counter() - began
            recorder.current["cpu"] = time.process_time() - cpu
            # What the parts do not cover: authentication, permissions, serialisation (the
            # embedding overlaps the BM25 search, so it only counts where it waits longer).
            parts = recorder.current
            waited = max(parts.get("embed", 0) - (parts.get("msearch", 0) - parts.get("took knn", 0)
                                                  if "embed" in parts else 0), 0)
            parts["rest"] = parts["wall"] - parts.get("msearch", 0) - parts.get("load", 0) - waited
            assert response.status_code in (200, 404), response.get_data(as_text=True)[:300]
            if response.status_code == 200:
                assert response.get_json()["engine"] == "elasticsearch"
                samples.setdefault(name, []).append(dict(recorder.current))
        return call

    names = args.only.split(",") if args.only else ["related", "threads/similar", "ideas/similar"]
    for name in names:
        call = measured(name)
        warm_up(app, lambda i: call(10_000 + i))  # a cold index may time out once
        samples[name] = []
        if args.profile:
            recorder.profile_next, recorder.profiling = True, name
            call(20_000)
            recorder.profile_next = False
            samples[name] = []
        paced(args.requests, args.rate, call, name)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{args.requests} requests each at {args.rate:g}/s, index {args.index_prefix}-content, "
          f"load average {load}; ms, p50 / p95 (CPU: the process's, all threads)")
    print(f"  {'':17}" + "".join(f"{part:>16}" for part in PARTS))
    for name in names:
        rows = samples[name]
        cells = []
        for part in PARTS:
            values = sorted(r[part] * 1000 for r in rows if part in r)
            if not values:
                cells.append(f"{'-':>16}")
                continue
            p95 = values[min(int(0.95 * len(values)), len(values) - 1)]
            cells.append(f"{statistics.median(values):8.1f} /{p95:6.1f}")
        print(f"  {name:17}" + "".join(cells))
    if args.profile:
        for name, parts in recorder.profiles.items():
            print(f"Elasticsearch profile, {name}:")
            for label, part in parts:
                print(f"    {label}:")
                print(summarise(part or {}))
        if os.environ.get("SIMILARITY_PROFILE_JSON"):
            Path(os.environ["SIMILARITY_PROFILE_JSON"]).write_text(json.dumps(recorder.profiles))


if __name__ == "__main__":
    main()
