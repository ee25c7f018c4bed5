"""Search benchmark: seed a realistic corpus, reindex, then measure search latency through our API
at a fixed request rate and the same queries sent straight to Elasticsearch.

    python benchmarks/search_benchmark.py --es http://127.0.0.1:9200 [--posts 100000 | --large]
        [--database sqlite:///...|postgresql+psycopg://...] [--rate 10] [--requests 400]
        [--compare-embeddings] [--reuse]

Seeding writes rows with bulk INSERTs (no outbox: the reindex builds the index). Not part of the
test run. Prints: seeding time, reindex threads/s and posts/s, p50/p95/p99 through the API (Flask
test client, in process) and direct to Elasticsearch for the same queries (the search and the
best-post request, as the API sends them), and their ratio (the cost of our layer: the permission
lookup, the database read of the page's threads, serialisation).
The issue's target: API p95 <= 150 ms on 1M posts at 10 searches/s; reindex >= 2,000 posts/s.

--compare-embeddings reindexes four times in the same run: without the semantic signal (the
anchor), with it cold (every thread's vector computed and stored), without it again (the anchor
with caches as warm as the others had them) and with it warm (the stored vectors reused, as after
the write-side embedder or `flask search embed`), and prints each rate and the ratios to both
anchors (similarity issue: with embeddings >= 0.5 of without). Related threads,
threads/similar and ideas/similar are then measured at --rate (drafts embedded in the request).

--reuse measures on a database seeded by an earlier run (--database, same --communities): no
seeding; it reindexes that database (with embeddings when the model is installed) into a new
index and measures as above, printing the load average beside each series (a shared machine).
"""
import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import click  # noqa: E402
from sqlalchemy import delete, insert  # noqa: E402

from collab import create_app  # noqa: E402
from collab.communities.models import Community, CommunityAudience, Membership  # noqa: E402
from collab.db import db  # noqa: E402
from collab.people import service as people  # noqa: E402
from collab.similarity.models import ThreadEmbedding  # noqa: E402
from collab.threads.models import Post, Thread, ThreadTag  # noqa: E402
from search import client as search_client  # noqa: E402
from search import embeddings, queries, reindex  # noqa: E402

WORDS = ("deploy pipeline kafka consumer rebalance latency dashboard export csv billing invoice "
         "login sso okta saml token expiry mobile offline sync conflict search index relevance "
         "release train rollback database migration postgres replica backup restore alert pager "
         "incident review onboarding laptop vpn network proxy certificate renewal api rate limit "
         "webhook retry queue worker memory leak cpu spike cache eviction feature flag rollout "
         "dark mode theme accessibility contrast keyboard shortcut notification email digest").split()
TAGS = ("sso", "kafka", "billing", "mobile", "search", "infra", "security", "ux", "api", "data")
QUERIES = ("kafka consumer", "sso login", '"release train"', "dashboard -mobile", "billing invoic",
           "postgres replica backup", "dark mode", "rate limit webhook", "memory leak", "okta")
KINDS = ("discussion", "question", "idea", "announcement")


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def seed(app, posts: int, posts_per_thread: int, communities: int, rng: random.Random) -> tuple[int, str]:
    """Bulk-inserts users, communities, threads and posts; returns (threads, a caller's token)."""
    with app.app_context():
        owner = people.create_user(None, handle="bench-owner", email="owner@bench.test",
                                   audience="employee")
        reader = people.create_user(None, handle="bench-reader", email="reader@bench.test",
                                    audience="employee")
        _, token = people.issue_token(None, reader.id, "bench")
        authors = [owner.id, reader.id]
        community_ids = []
        for i in range(communities):
            community = Community(slug=f"bench-{i}", name=f"Bench {i}", purpose="benchmark",
                                  visibility="private" if i % 5 == 4 else "open",
                                  created_by_id=owner.id)
            db.session.add(community)
            db.session.flush()
            db.session.add(CommunityAudience(community_id=community.id, audience="employee"))
            db.session.add(Membership(community_id=community.id, user_id=owner.id, role="owner",
                                      status="active"))
            community_ids.append(community.id)
        db.session.commit()
        thread_count = max(posts // posts_per_thread, 1)
        now = datetime.now(UTC)
        connection = db.session.connection()
        with click.progressbar(length=thread_count + posts, label="seeding", show_pos=True) as bar:
            next_thread = 1
            while next_thread <= thread_count:
                batch = range(next_thread, min(next_thread + 1000, thread_count + 1))
                thread_rows, tag_rows, post_rows = [], [], []
                for thread_id in batch:
                    kind = rng.choice(KINDS)
                    created = now - timedelta(days=rng.randint(0, 720), minutes=rng.randint(0, 1440))
                    replies = posts_per_thread
                    up = int(rng.paretovariate(1.5)) - 1
                    thread_rows.append({
                        "id": thread_id, "community_id": rng.choice(community_ids),
                        "author_id": rng.choice(authors), "kind": kind,
                        "title": sentence(rng, rng.randint(3, 8)).rstrip("."),
                        "body": " ".join(sentence(rng, rng.randint(8, 20)) for _ in range(3)),
                        "status": "new" if kind == "idea" else "open", "pinned": False,
                        "locked": False, "reply_count": replies, "upvotes": up, "downvotes": 0,
                        "top_score": 0.0, "trending_score": 0.0, "version": 1,
                        "created_at": created, "updated_at": created, "last_activity_at": created})
                    for tag in rng.sample(TAGS, rng.randint(0, 3)):
                        tag_rows.append({"thread_id": thread_id, "tag": tag})
                    for _ in range(replies):
                        post_rows.append({
                            "thread_id": thread_id, "author_id": rng.choice(authors),
                            "body": " ".join(sentence(rng, rng.randint(6, 18))
                                             for _ in range(rng.randint(1, 4))),
                            "version": 1, "created_at": created, "updated_at": created})
                connection.execute(insert(Thread.__table__), thread_rows)
                if tag_rows:
                    connection.execute(insert(ThreadTag.__table__), tag_rows)
                connection.execute(insert(Post.__table__), post_rows)
                db.session.commit()
                connection = db.session.connection()
                bar.update(len(thread_rows) + len(post_rows))
                next_thread = batch[-1] + 1
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text(
                "SELECT setval('threads_id_seq', (SELECT max(id) FROM threads))"))
            db.session.commit()
        db.session.remove()
    return thread_count, token


def existing(app) -> tuple[int, str]:
    """A database seeded by an earlier run: (its highest thread id, a new token of its reader)."""
    from collab.people.models import User
    with app.app_context():
        reader = db.session.scalar(db.select(User).where(User.handle == "bench-reader"))
        if reader is None:
            raise SystemExit("--reuse: no bench-reader in this database (seed it with a run first)")
        _, token = people.issue_token(None, reader.id, "bench (reuse)")
        threads = db.session.scalar(db.select(db.func.max(Thread.id))) or 0
        posts = db.session.scalar(db.select(db.func.count()).select_from(Post))
        db.session.remove()
    print(f"reusing {threads} threads and {posts} posts", flush=True)
    return threads, token


def load_average() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)

    def pick(p):
        return ordered[min(int(p * len(ordered)), len(ordered) - 1)] * 1000

    return pick(0.50), pick(0.95), pick(0.99)


def warm_up(app, call, requests: int = 20) -> None:
    """A few calls to warm caches; a first query that times out on a cold index (and so falls
    back to the database) is tolerated here, and the breaker is reset after it."""
    for i in range(requests):
        try:
            call(i)
        except AssertionError:
            with app.app_context():
                search_client.breaker(app).reset()


def paced(requests: int, rate: float, call, label: str | None = None) -> list[float]:
    """Sends `requests` calls at a fixed rate (open loop, one at a time); returns latencies."""
    interval = 1.0 / rate
    latencies = []
    start = time.perf_counter()
    with click.progressbar(range(requests), label=label or "warming up", show_pos=True) as bar:
        for i in bar:
            due = start + i * interval
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            began = time.perf_counter()
            call(i)
            latencies.append(time.perf_counter() - began)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es", required=True, help="Elasticsearch URL (e.g. a dev node)")
    parser.add_argument("--database", help="SQLAlchemy URL of an EMPTY database (default: temp SQLite)")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--large", action="store_true", help="1,000,000 posts")
    parser.add_argument("--posts-per-thread", type=int, default=10)
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second (the issue's)")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--compare-embeddings", action="store_true",
                        help="reindex without, cold and warm with embeddings; print the ratios")
    parser.add_argument("--reuse", action="store_true",
                        help="measure on the database an earlier run seeded (--database): no seeding")
    parser.add_argument("--index-prefix",
                        help="with --reuse: measure the index an earlier run built under this prefix "
                             "(its alias <prefix>-content) as it is: no reindex, and it is kept")
    parser.add_argument("--model", choices=("minilm", "distilled"), default="minilm",
                        help="distilled: the static table distilled from MiniLM "
                             "(benchmarks/distilled_embeddings.py), swapped in for this run only")
    args = parser.parse_args()
    if args.model == "distilled":
        import distilled_embeddings
        distilled_embeddings.use()
    if args.reuse and not args.database:
        parser.error("--reuse needs --database")
    posts = 1_000_000 if args.large else args.posts
    database = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    prefix = args.index_prefix or f"bench-{int(time.time())}"
    if args.index_prefix and not args.reuse:
        parser.error("--index-prefix needs --reuse")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "AUTO_MIGRATE": True,
                      "ELASTICSEARCH_URL": args.es, "SEARCH_INDEX_PREFIX": prefix,
                      "SEARCH_SYNC_IN_PROCESS": False,
                      "RATELIMIT_ENABLED": False})  # one caller sends everything
    rng = random.Random(args.seed)
    began = time.perf_counter()
    if args.reuse:
        threads, token = existing(app)
    else:
        threads, token = seed(app, posts, args.posts_per_thread, args.communities, rng)
        print(f"seeded {threads} threads and {posts} posts in {time.perf_counter() - began:.1f}s "
              f"({database.split(':')[0]})")

    def timed_reindex(label: str):
        with app.app_context():
            total = reindex.count_documents_to_build()
            with click.progressbar(length=total, label=f"reindex {label} (threads)", show_pos=True) as bar:
                result = reindex.reindex(app, progress=bar.update)
            db.session.remove()
        print(f"reindex {label}: {result.documents} threads with {result.posts} posts in "
              f"{result.seconds:.1f}s = {result.rate:.0f} threads/s, {result.posts_rate:.0f} posts/s")
        return result

    if args.compare_embeddings:
        if not embeddings.available():
            raise SystemExit("--compare-embeddings: the embedding model is not installed")
        with embeddings.switched_off():
            first = timed_reindex("without embeddings")
        with app.app_context():
            db.session.execute(delete(ThreadEmbedding))
            db.session.commit()
            db.session.remove()
        cold = timed_reindex("with embeddings, cold (computed)")
        # The anchor again, with caches as warm as the runs with embeddings have them; the warm run
        # last, so the index measured below carries the vectors.
        with embeddings.switched_off():
            second = timed_reindex("without embeddings, again")
        warm = timed_reindex("with embeddings, warm (stored, reused)")
        for label, run in (("cold", cold), ("warm", warm)):
            print(f"ratio with/without embeddings, {label}: {run.rate / first.rate:.3f} to the first "
                  f"anchor, {run.rate / second.rate:.3f} to the second ({run.rate:.0f} / "
                  f"{first.rate:.0f} and {second.rate:.0f} threads/s; issue: >= 0.5)")
        result = warm
    elif args.index_prefix:
        result = None
        print(f"measuring the existing index behind {prefix}-content (no reindex)")
    else:
        result = timed_reindex("(embeddings)" if embeddings.available() else "(no embedding model)")
    if result is not None:
        # Elasticsearch's docs.count counts each nested post as a document of its own.
        lucene_rate = (result.documents + result.posts) / result.seconds if result.seconds else 0.0
        print(f"         = {lucene_rate:.0f} Elasticsearch documents/s (thread documents plus their "
              f"nested post documents, as docs.count counts them)")

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def through_api(i):
        response = client.get("/api/v1/search", headers=headers,
                              query_string={"q": QUERIES[i % len(QUERIES)], "limit": 20})
        assert response.status_code == 200 and response.get_json()["engine"] == "elasticsearch"

    with app.app_context():
        from collab.people.models import User
        from collab.permissions import visible_community_id_list
        reader = db.session.scalar(db.select(User).where(User.handle == "bench-reader"))
        visible = visible_community_id_list(reader)
        now = datetime.now(UTC)
        bodies = [queries.search_body(queries.parse(q), queries.Filters(visible_community_ids=visible),
                                      "relevance", queries.Page(20, now=now)) for q in QUERIES]
        es = search_client.client(app)
        alias = search_client.settings(app).alias
        db.session.remove()

    def direct(i):
        """The requests the API sends: the search, then the page's best posts."""
        text_query = queries.parse(QUERIES[i % len(QUERIES)])
        hits = es.search(index=alias, body=bodies[i % len(bodies)])["hits"]["hits"][:20]
        best = queries.best_posts_body(text_query, [h["_source"]["thread_id"] for h in hits],
                                       visible, fuzzy=False)
        if best is not None:
            es.search(index=alias, body=best)

    for call in (through_api, direct):  # warm caches
        warm_up(app, call)
    api = percentiles(paced(args.requests, args.rate, through_api, "through the API"))
    api_load = load_average()
    raw = percentiles(paced(args.requests, args.rate, direct, "Elasticsearch direct"))
    raw_load = load_average()
    print(f"search at {args.rate:g} req/s, {args.requests} requests, {len(QUERIES)} queries:")
    print(f"  through the API:      p50 {api[0]:7.1f} ms  p95 {api[1]:7.1f} ms  p99 {api[2]:7.1f} ms"
          f"  ({api_load})")
    print(f"  Elasticsearch direct: p50 {raw[0]:7.1f} ms  p95 {raw[1]:7.1f} ms  p99 {raw[2]:7.1f} ms"
          f"  ({raw_load})")
    print(f"  ratio API/direct:     p50 {api[0] / raw[0]:.2f}x  p95 {api[1] / raw[1]:.2f}x  "
          f"p99 {api[2] / raw[2]:.2f}x")
    def related(i):
        thread_id = 1 + (i * 7919) % threads
        response = client.get(f"/api/v1/threads/{thread_id}/related", headers=headers,
                              query_string={"limit": 10})
        assert response.status_code in (200, 404) and (
            response.status_code == 404 or response.get_json()["engine"] == "elasticsearch")

    def similar(i, endpoint="threads/similar"):
        draft = random.Random(i)
        response = client.post(f"/api/v1/communities/bench-{i % args.communities}/{endpoint}",
                               headers=headers, json={
                                   "title": sentence(draft, 6), "limit": 10,
                                   "body": " ".join(sentence(draft, 12) for _ in range(3))})
        assert response.status_code in (200, 404) and (
            response.status_code == 404 or response.get_json()["engine"] == "elasticsearch")

    def similar_ideas(i):
        similar(i, "ideas/similar")

    for name, call in (("related", related), ("threads/similar", similar),
                       ("ideas/similar", similar_ideas)):
        warm_up(app, call)
        figures = percentiles(paced(args.requests, args.rate, call, name))
        print(f"  {name + ':':21} p50 {figures[0]:7.1f} ms  p95 {figures[1]:7.1f} ms  "
              f"p99 {figures[2]:7.1f} ms  (through the API; {load_average()})")
    # The plain search again, after the similarity series: the anchor on both sides of them.
    again = percentiles(paced(args.requests, args.rate, through_api, "search again"))
    print(f"  {'search, again:':21} p50 {again[0]:7.1f} ms  p95 {again[1]:7.1f} ms  "
          f"p99 {again[2]:7.1f} ms  (through the API; {load_average()})")
    if args.index_prefix:
        print(f"(kept the index behind {prefix}-content)")
        return
    with app.app_context():
        names = list(es.indices.get(index=f"{prefix}-content-v*"))
        es.indices.delete(index=",".join(names))
    print(f"(deleted benchmark index {', '.join(names)})")


if __name__ == "__main__":
    main()
