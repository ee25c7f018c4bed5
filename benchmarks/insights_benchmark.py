"""Insights benchmark: seed the search benchmark's corpus with what the insight endpoints compute
from, reindex, then measure every issue-10 endpoint through the API at a fixed request rate, on
Elasticsearch and on the database fallback where the endpoint has both.

    python benchmarks/insights_benchmark.py --es http://127.0.0.1:9261 [--posts 1000000]
        [--database postgresql+psycopg://...] [--rate 8] [--requests 60] [--budget 45]
        [--reuse --prefix NAME]  # measure again on an already seeded database and index

Seeding (bulk INSERTs, no outbox, as benchmarks/search_benchmark.py; its words, tags, kinds,
sentence() and percentiles() are reused): 150 people in three audiences (employee, partner,
customer) with memberships joined over the year, threads and posts spread over 365 days written by
members, replies some hours after the thread, accepted answers on most questions (accepted some
hours after the answer), votes, idea status changes, concerns in every state, concern flags,
reads, a tag and a title word that rise in the last two weeks, and the reputation ledger and the
insight roll-ups rebuilt from that history (`reputation recompute`, `insights rebuild`). Default
database: a fresh one on our own PostgreSQL (scripts/postgres.sh, port --pg-port). Prints
p50/p95/p99 per endpoint and engine, against the issue's target (p95 <= 300 ms on 1M posts). Not
part of the test run.
"""
import argparse
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import click  # noqa: E402
from sqlalchemy import bindparam, create_engine, insert, text, update  # noqa: E402

from search_benchmark import KINDS, TAGS, percentiles, sentence  # noqa: E402

from collab import create_app  # noqa: E402
from collab.communities.models import Community, CommunityAudience, Membership  # noqa: E402
from collab.concerns.models import Concern, ConcernFlag  # noqa: E402
from collab.db import db  # noqa: E402
from collab.ideas.models import IdeaStatusChange, Vote  # noqa: E402
from collab.insights import service as insights  # noqa: E402
from collab.people import service as people  # noqa: E402
from collab.people.models import User  # noqa: E402
from collab.reputation import service as reputation  # noqa: E402
from collab.threads.models import Post, Thread, ThreadTag  # noqa: E402
from search import embeddings, reindex  # noqa: E402

TARGET_MS = 300.0
AUDIENCES = ("employee", "partner", "customer")
PEOPLE_PER_AUDIENCE = 50
DAYS = 365
RISING_TAG, RISING_WORD = "outage", "outage"
FUNNEL = ("new", "under_review", "planned", "in_progress", "done")
# Rows of endpoints under RATELIMIT_SEARCH: each (row, engine) gets a token of its own.
SEARCH_LIMITED = "GET /search"
TOPICS = ("kafka consumer", "sso login", "postgres replica backup", "memory leak", "rate limit")


def _community_people(rng, communities, users):
    """Each person joins about a quarter of the communities; the owner is in all."""
    members = {c: [] for c in communities}
    rows = []
    now = datetime.now(UTC)
    for user_id, audience in users:
        for community_id in communities:
            if rng.random() < 0.25:
                members[community_id].append(user_id)
                rows.append({"community_id": community_id, "user_id": user_id, "role": "member",
                             "status": "active", "created_at": now - timedelta(
                                 days=rng.randint(0, DAYS), minutes=rng.randint(0, 1440)),
                             "updated_at": now})
    return members, rows


def seed(app, posts: int, posts_per_thread: int, communities: int, rng: random.Random) -> dict:
    """Bulk-inserts the corpus; returns the callers' tokens and ids."""
    with app.app_context():
        owner = people.create_user(None, handle="bench-owner", email="owner@bench.test",
                                   audience="employee")
        admin = people.create_user(None, handle="bench-admin", email="admin@bench.test",
                                   audience="employee", is_admin=True)
        users = []
        for audience in AUDIENCES:
            for i in range(PEOPLE_PER_AUDIENCE):
                person = people.create_user(None, handle=f"{audience}-{i}",
                                            email=f"{audience}-{i}@bench.test", audience=audience,
                                            commit=False)
                users.append(person)
        db.session.commit()
        reader = users[0]  # an employee member of some communities
        user_pairs = [(u.id, u.audience) for u in users]
        audience_of = dict(user_pairs)
        community_ids = []
        for i in range(communities):
            community = Community(slug=f"bench-{i}", name=f"Bench {i}", purpose="benchmark",
                                  visibility="private" if i % 5 == 4 else "open",
                                  created_by_id=owner.id)
            db.session.add(community)
            db.session.flush()
            for audience in AUDIENCES:
                db.session.add(CommunityAudience(community_id=community.id, audience=audience))
            db.session.add(Membership(community_id=community.id, user_id=owner.id, role="owner",
                                      status="active"))
            community_ids.append(community.id)
        members, membership_rows = _community_people(rng, community_ids, user_pairs)
        db.session.execute(insert(Membership), membership_rows)
        db.session.commit()
        tokens = {name: people.issue_token(None, user.id, "bench")[1]
                  for name, user in (("owner", owner), ("admin", admin), ("reader", reader))}
        ids = {"owner": owner.id, "admin": admin.id, "reader": reader.id,
               "expert": users[1].id, "partner": users[PEOPLE_PER_AUDIENCE].id}

        thread_count = max(posts // posts_per_thread, 1)
        now = datetime.now(UTC)
        connection = db.session.connection()
        post_id = 0
        counts = dict(votes=0, accepted=0, concerns=0, idea_moves=0)
        accept = update(Thread).where(Thread.id == bindparam("tid")).values(
            accepted_post_id=bindparam("pid"), status="answered",
            answer_accepted_at=bindparam("at"), answer_checked_at=bindparam("at"),
            last_read_at=bindparam("read"))
        with click.progressbar(length=thread_count + posts, label="seeding", show_pos=True) as bar:
            next_thread = 1
            while next_thread <= thread_count:
                batch = range(next_thread, min(next_thread + 1000, thread_count + 1))
                rows = {name: [] for name in ("threads", "tags", "posts", "votes", "changes",
                                              "concerns", "flags")}
                accepted = []
                for thread_id in batch:
                    community_id = rng.choice(community_ids)
                    voices = members[community_id] or [owner.id]
                    kind = rng.choice(KINDS)
                    age = timedelta(days=rng.randint(0, DAYS), minutes=rng.randint(0, 1440))
                    created = now - age
                    recent = age < timedelta(days=14)
                    author = rng.choice(voices)
                    title = sentence(rng, rng.randint(3, 8)).rstrip(".")
                    if recent and rng.random() < 0.4:
                        title += f" {RISING_WORD}"
                    status = "new" if kind == "idea" else "open"
                    up = down = 0
                    voters = rng.sample(voices, min(len(voices), rng.randint(0, 6)))
                    for voter in voters:
                        value = 1 if rng.random() < 0.85 else -1
                        up, down = up + (value == 1), down + (value == -1)
                        at = min(now, created + timedelta(hours=rng.randint(1, 400)))
                        rows["votes"].append({"thread_id": thread_id, "user_id": voter,
                                              "value": value, "audience": audience_of[voter],
                                              "created_at": at, "updated_at": at})
                    if kind == "idea" and rng.random() < 0.5:
                        moved = created
                        for before, after in zip(FUNNEL, FUNNEL[1:rng.randint(2, len(FUNNEL))]):
                            moved = min(now, moved + timedelta(hours=rng.randint(2, 600)))
                            rows["changes"].append({"thread_id": thread_id, "from_status": before,
                                                    "to_status": after, "note": "", "actor_id":
                                                    owner.id, "created_at": moved})
                            status = after
                    tags = rng.sample(TAGS, rng.randint(0, 3))
                    if recent and rng.random() < 0.5:
                        tags.append(RISING_TAG)
                    rows["tags"] += [{"thread_id": thread_id, "tag": tag} for tag in tags]
                    replies = []
                    for n in range(posts_per_thread):
                        post_id += 1
                        at = min(now, created + timedelta(minutes=rng.randint(5, 60 * 24 * 3)))
                        parent = replies[-1]["id"] if replies and rng.random() < 0.3 else None
                        replies.append({
                            "id": post_id, "thread_id": thread_id, "parent_id": parent,
                            "author_id": rng.choice(voices),
                            "body": " ".join(sentence(rng, rng.randint(6, 18))
                                             for _ in range(rng.randint(1, 4))),
                            "version": 1, "created_at": at, "updated_at": at})
                    rows["posts"] += replies
                    if kind == "question" and replies and rng.random() < 0.6:
                        answer = rng.choice(replies)
                        at = min(now, answer["created_at"] + timedelta(hours=rng.randint(0, 200)))
                        read = now - timedelta(days=rng.randint(0, 120))
                        accepted.append({"tid": thread_id, "pid": answer["id"], "at": at,
                                         "read": read})
                    if rng.random() < 0.02:
                        state = rng.choice(("open", "open", "acknowledged", "resolved",
                                            "dismissed"))
                        opened = min(now, created + timedelta(hours=rng.randint(0, 48)))
                        acknowledged = (min(now, opened + timedelta(hours=rng.randint(1, 96)))
                                        if state != "open" else None)
                        resolved = (min(now, acknowledged + timedelta(hours=rng.randint(1, 300)))
                                    if state in ("resolved", "dismissed") else None)
                        rows["concerns"].append({
                            "community_id": community_id, "thread_id": thread_id, "state": state,
                            "score": round(rng.uniform(0.5, 1.3), 3), "flags": 1,
                            "reasons": "outage,broken", "assignee_id":
                                owner.id if state != "open" else None,
                            "response_note": "", "opened_at": opened,
                            "acknowledged_at": acknowledged, "resolved_at": resolved,
                            "updated_at": resolved or acknowledged or opened})
                        rows["flags"].append({"thread_id": thread_id, "user_id": rng.choice(voices),
                                              "reason": "", "created_at": opened})
                    rows["threads"].append({
                        "id": thread_id, "community_id": community_id, "author_id": author,
                        "kind": kind, "title": title,
                        "body": " ".join(sentence(rng, rng.randint(8, 20)) for _ in range(3)),
                        "status": status, "pinned": False, "locked": False,
                        "reply_count": len(replies), "upvotes": up, "downvotes": down,
                        "top_score": 0.0, "trending_score": 0.0, "version": 1,
                        "created_at": created, "updated_at": created,
                        "last_activity_at": replies[-1]["created_at"] if replies else created})
                for model, name in ((Thread, "threads"), (ThreadTag, "tags"), (Post, "posts"),
                                    (Vote, "votes"), (IdeaStatusChange, "changes"),
                                    (Concern, "concerns"), (ConcernFlag, "flags")):
                    if rows[name]:
                        connection.execute(insert(model.__table__), rows[name])
                if accepted:
                    connection.execute(accept, accepted)
                counts["votes"] += len(rows["votes"])
                counts["accepted"] += len(accepted)
                counts["concerns"] += len(rows["concerns"])
                counts["idea_moves"] += len(rows["changes"])
                db.session.commit()
                connection = db.session.connection()
                bar.update(len(rows["threads"]) + len(rows["posts"]))
                next_thread = batch[-1] + 1
        if db.engine.dialect.name == "postgresql":
            for table in ("threads", "posts"):
                db.session.execute(text(
                    f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        click.echo(f"  {counts['votes']} votes, {counts['accepted']} accepted answers, "
                   f"{counts['idea_moves']} idea status changes, {counts['concerns']} concerns, "
                   f"{len(membership_rows)} memberships")
        click.echo("reputation recompute from the event history...")
        began = time.perf_counter()
        days, points = reputation.recompute()
        click.echo(f"  {days} person-days, {points} points in {time.perf_counter() - began:.1f}s")
        # The bulk INSERTs bypass the session events that keep the insight roll-ups.
        began = time.perf_counter()
        with click.progressbar(length=insights.rollup_days(), label="insights rebuild (days)",
                               show_pos=True) as bar:
            rows, facts = insights.rebuild(progress=bar.update)
        click.echo(f"  insights rebuild: {rows} person-days, {facts} thread facts in "
                   f"{time.perf_counter() - began:.1f}s")
        db.session.remove()
    return {"tokens": tokens, "ids": ids}


def callers(app) -> dict:
    """Tokens and ids of the benchmark's callers on an already seeded database."""
    with app.app_context():
        handles = {"owner": "bench-owner", "admin": "bench-admin", "reader": "employee-0",
                   "expert": "employee-1", "partner": "partner-0"}
        ids = {name: db.session.scalar(db.select(User.id).where(User.handle == handle))
               for name, handle in handles.items()}
        tokens = {name: people.issue_token(None, ids[name], "bench")[1]
                  for name in ("owner", "admin", "reader")}
        db.session.remove()
    return {"tokens": tokens, "ids": ids}


def measure(call, requests: int, rate: float, budget: float, label: str) -> list[float]:
    """Open loop at a fixed rate, one request at a time; stops early past `budget` seconds.

    A request is a sample only when `call` says it was answered: a 429 (rate limited) is an
    error, never a fast sample."""
    interval = 1.0 / rate
    latencies = []
    start = time.perf_counter()
    with click.progressbar(range(requests), label=f"{label:44}", show_pos=True) as bar:
        for i in bar:
            if time.perf_counter() - start > budget and len(latencies) >= 3:
                break
            pause = start + i * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            began = time.perf_counter()
            if call(i):
                latencies.append(time.perf_counter() - began)
    return latencies


def endpoints(ids: dict, communities: int, now: datetime) -> list[tuple]:
    """(name, caller, engines, path, query) of every issue-10 read."""
    since90 = (now - timedelta(days=90)).isoformat()
    open_ones = [k for k in range(communities) if k % 5 != 4]  # every fifth is private
    slug = lambda i: f"bench-{open_ones[(i * 7) % len(open_ones)]}"  # noqa: E731
    both, database = ("elasticsearch", "database"), ("database",)
    return [
        ("GET /experts?q=", "reader", both, lambda i: "/api/v1/experts",
         lambda i: {"q": TOPICS[i % len(TOPICS)]}),
        ("GET /experts?q=&community=", "reader", both, lambda i: "/api/v1/experts",
         lambda i: {"q": TOPICS[i % len(TOPICS)], "community": slug(i)}),
        ("GET /users/{id}/expertise", "reader", both,
         lambda i: f"/api/v1/users/{ids['expert'] + i % 20}/expertise", lambda i: {}),
        ("GET /communities/{slug}/concerns", "owner", database,
         lambda i: f"/api/v1/communities/{slug(i)}/concerns", lambda i: {}),
        ("GET /communities/{slug}/concerns?state=open", "owner", database,
         lambda i: f"/api/v1/communities/{slug(i)}/concerns", lambda i: {"state": "open"}),
        ("GET /communities/{slug}/insights day 90d", "owner", both,
         lambda i: f"/api/v1/communities/{slug(i)}/insights",
         lambda i: {"interval": "day", "from": since90}),
        ("GET /communities/{slug}/insights week 90d", "owner", both,
         lambda i: f"/api/v1/communities/{slug(i)}/insights",
         lambda i: {"interval": "week", "from": since90}),
        ("GET /communities/{slug}/insights (30d)", "owner", both,
         lambda i: f"/api/v1/communities/{slug(i)}/insights", lambda i: {}),
        ("GET /insights week 90d (organisation)", "admin", both, lambda i: "/api/v1/insights",
         lambda i: {"interval": "week", "from": since90}),
        ("GET /insights day 90d (organisation)", "admin", both, lambda i: "/api/v1/insights",
         lambda i: {"interval": "day", "from": since90}),
        *[(f"GET /communities/{{slug}}/leaderboard {period}", "reader", database,
           lambda i: f"/api/v1/communities/{slug(i)}/leaderboard",
           (lambda p: lambda i: {"period": p})(period))
          for period in ("week", "month", "year", "all")],
        ("GET /users/{id} (profile, reputation)", "reader", database,
         lambda i: f"/api/v1/users/{ids['expert'] + i % 20}", lambda i: {}),
        ("GET /users/{id}/reputation", "reader", database,
         lambda i: f"/api/v1/users/{ids['expert'] + i % 20}/reputation", lambda i: {}),
        ("GET /communities/{slug}/digest (member)", "reader", database,
         lambda i: f"/api/v1/communities/{slug(i)}/digest", lambda i: {}),
        ("GET /communities/{slug}/digest 30d (owner)", "owner", database,
         lambda i: f"/api/v1/communities/{slug(i)}/digest",
         lambda i: {"since": (now - timedelta(days=30)).isoformat()}),
        ("GET /search?freshness=needs_review", "reader", both, lambda i: "/api/v1/search",
         lambda i: {"freshness": "needs_review", "limit": 20}),
        ("GET /search?q= (anchor: no freshness filter)", "reader", both,
         lambda i: "/api/v1/search", lambda i: {"q": TOPICS[i % len(TOPICS)], "limit": 20}),
        ("GET /search?q=&freshness=needs_review", "reader", both, lambda i: "/api/v1/search",
         lambda i: {"q": TOPICS[i % len(TOPICS)], "freshness": "needs_review", "limit": 20}),
        ("GET /search?q=&freshness=fresh", "reader", both, lambda i: "/api/v1/search",
         lambda i: {"q": TOPICS[i % len(TOPICS)], "freshness": "fresh", "limit": 20}),
    ]


def _engines_seen(body) -> set:
    """Every `engine` the answer names, except insights' rising topics: both engines read them
    from the database (the tag roll-up, migration 0026), so they name it on both."""
    seen = set()
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "rising_topics":
                continue
            if key == "engine":
                seen.add(value)
            else:
                seen |= _engines_seen(value)
    return seen


def _postgres(port: int) -> str:
    url = subprocess.run(["bash", str(ROOT / "scripts/postgres.sh"), "start", str(port)],
                         check=True, capture_output=True, text=True).stdout.strip()
    name = f"insights_bench_{int(time.time())}"
    with create_engine(url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    return url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--es", required=True, help="Elasticsearch URL (e.g. a dev node)")
    parser.add_argument("--database", help="SQLAlchemy URL of an EMPTY database (default: a new "
                        "database on our own PostgreSQL, scripts/postgres.sh)")
    parser.add_argument("--pg-port", type=int, default=54346)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--posts-per-thread", type=int, default=10)
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--rate", type=float, default=8.0, help="requests per second")
    parser.add_argument("--requests", type=int, default=60, help="per endpoint and engine")
    parser.add_argument("--budget", type=float, default=45.0,
                        help="seconds per endpoint and engine before stopping early")
    parser.add_argument("--only", help="measure only endpoints whose name contains this")
    parser.add_argument("--reuse", action="store_true",
                        help="measure again: --database and --prefix of a seeded run")
    parser.add_argument("--prefix", help="index prefix (default: a new one)")
    parser.add_argument("--keep", action="store_true", help="keep the index (to --reuse it)")
    parser.add_argument("--seed-only", action="store_true", help="seed and reindex, no figures "
                        "(implies --keep; measure later with --reuse)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.reuse and not (args.database and args.prefix):
        parser.error("--reuse needs --database and --prefix")
    # No insight endpoint reads sentence embeddings; computing them would make the reindex of 1M
    # posts take hours on a CPU (benchmarks/similarity_benchmark.py measures them).
    embeddings._state["available"] = False
    database = args.database or _postgres(args.pg_port)
    prefix = args.prefix or f"insbench-{int(time.time())}"
    config = {"SQLALCHEMY_DATABASE_URI": database, "AUTO_MIGRATE": True,
              "ELASTICSEARCH_URL": args.es, "SEARCH_INDEX_PREFIX": prefix,
              "SEARCH_SYNC_IN_PROCESS": False, "SEARCH_OUTBOX": False}
    app = create_app(config)
    fallback = create_app({**config, "ELASTICSEARCH_URL": None})
    print(f"database {database.split('@')[-1]}, index prefix {prefix}")
    if database.startswith("postgresql"):  # the figures depend on the server's buffer cache
        with create_engine(database).connect() as connection:
            print("PostgreSQL shared_buffers "
                  f"{connection.execute(text('SHOW shared_buffers')).scalar()} "
                  "(scripts/postgres.sh: COLLAB_PG_SHARED_BUFFERS)")
    if args.reuse:
        seeded = callers(app)
    else:
        began = time.perf_counter()
        seeded = seed(app, args.posts, args.posts_per_thread, args.communities,
                      random.Random(args.seed))
        print(f"seeded {args.posts // args.posts_per_thread} threads and {args.posts} posts in "
              f"{time.perf_counter() - began:.1f}s")
        with app.app_context():
            total = reindex.count_documents_to_build()
            with click.progressbar(length=total, label="reindex (threads)", show_pos=True) as bar:
                result = reindex.reindex(app, progress=bar.update)
            db.session.remove()
        print(f"reindex: {result.documents} threads with {result.posts} posts in "
              f"{result.seconds:.1f}s = {result.posts_rate:.0f} posts/s")

    if args.seed_only:
        print(f"measure with: --reuse --database {database} --prefix {prefix}")
        return
    with app.app_context():
        posts = db.session.scalar(db.select(db.func.count()).select_from(Post))
        db.session.remove()
    now = datetime.now(UTC)
    clients = {"elasticsearch": app.test_client(), "database": fallback.test_client()}
    headers = {name: {"Authorization": f"Bearer {token}"}
               for name, token in seeded["tokens"].items()}

    def own_headers(caller: str) -> dict:
        """A token of the caller's own for one row and engine: the search endpoints' limit
        (RATELIMIT_SEARCH, 60 a minute per token) would otherwise answer 429 to a shared one."""
        with app.app_context():
            token = people.issue_token(None, seeded["ids"][caller], "bench")[1]
            db.session.remove()
        return {"Authorization": f"Bearer {token}"}

    figures = []
    for name, caller, engines, path, query in endpoints(seeded["ids"], args.communities, now):
        if args.only and args.only not in name:
            continue
        for engine in engines:
            client = clients[engine]

            errors = []
            row_headers = own_headers(caller) if name.startswith(SEARCH_LIMITED) \
                else headers[caller]

            def call(i, client=client, engine=engine, row_headers=row_headers, path=path,
                     query=query, errors=errors) -> bool:
                """Counts a failure or an answer from the other engine (Elasticsearch timed
                out, the fallback answered) instead of stopping the run; a 429 is no sample."""
                response = client.get(path(i), headers=row_headers, query_string=query(i))
                seen = _engines_seen(response.get_json()) if response.is_json else set()
                if response.status_code != 200 or (seen and seen != {engine}):
                    errors.append((response.status_code, sorted(seen)))
                return response.status_code != 429

            call(0)  # warm caches
            errors.clear()
            samples = measure(call, args.requests, args.rate, args.budget, f"{name} [{engine}]")
            figures.append((name, engine, len(samples),
                            *(percentiles(samples) if samples else (float("nan"),) * 3),
                            len(errors)))
            print(f"\n  -> {name} [{engine}]: n {len(samples)}, p50 {figures[-1][3]:.1f}, "
                  f"p95 {figures[-1][4]:.1f}, p99 {figures[-1][5]:.1f} ms, "
                  f"errors/fallbacks {len(errors)} {errors[:2]}", flush=True)

    print(f"\ninsight endpoints through the API at {args.rate:g} req/s (up to {args.requests} "
          f"requests, {args.budget:g}s each), {posts} posts; target p95 <= {TARGET_MS:g} ms:")
    print(f"{'endpoint':46} {'engine':13} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  "
          f"target  errors/fallbacks")
    for name, engine, n, p50, p95, p99, errors in figures:
        verdict = "met" if p95 <= TARGET_MS else "MISSED"
        print(f"{name:46} {engine:13} {n:4d} {p50:8.1f} {p95:8.1f} {p99:8.1f}  {verdict:6}  "
              f"{errors}")
    missed = sum(1 for f in figures if not f[4] <= TARGET_MS)  # NaN: no answer at all
    print(f"{len(figures) - missed} of {len(figures)} met the target")
    if not args.keep:
        with app.app_context():
            from search import client as search_client
            es = search_client.client(app)
            names = list(es.indices.get(index=f"{prefix}-content-v*"))
            if names:
                es.indices.delete(index=",".join(names))
            db.session.remove()
        print(f"(deleted benchmark index {', '.join(names)}; database kept: {database})")


if __name__ == "__main__":
    main()
