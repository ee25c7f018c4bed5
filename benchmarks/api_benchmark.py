"""API benchmark (issue 13): collab under gunicorn beside a raw Flask + psycopg anchor, loaded by wrk.

    python3 benchmarks/api_benchmark.py [--reuse] [--quick] [--only thread,top,new,...]
        [--database URL | --pg-port 54341] [--http-port 8111] [--duration 15] [--rounds 2]
        [--workers 2 --worker-class sync --threads 1] [--soak 600] [--sweep]

1. Seeds a fresh PostgreSQL database migrated by the app (create_app with AUTO_MIGRATE), in bulk
   with COPY: 2,000 people in the three audiences (partners and customers in organisations),
   40 communities of mixed visibility, audiences and allow-lists, ~13.7k memberships with roles
   and statuses, 20k threads of every kind, 200k posts, 100k votes on ideas, idea status
   histories and accepted answers; every stored counter and score (reply_count, upvotes,
   downvotes, top_score, trending_score, last_activity_at, the reputation ledger) is computed
   as the app computes it. `--reuse` keeps an already seeded database.
2. Issues API tokens (people.issue_token) for a sample of 600 people, and writes request files
   that spread the load over thousands of (token, thread) pairs, communities and people.
3. Counts SQL statements per request in process (Flask test client, a before_cursor_execute
   listener on the app's engine), SELECTs apart from writes.
4. Starts collab (`wsgi:app`, COLLAB_ENV=production, AUTO_MIGRATE off, SEARCH_OUTBOX on, no
   Elasticsearch, the production rate limits) and the raw anchor (benchmarks/raw_anchor.py) under
   the same gunicorn settings, and loads them with wrk (benchmarks/wrk/requests.lua), collab and
   raw back to back, for each round; it reports the best round of each (highest requests/s).
   CPU per request: utime+stime of the gunicorn master and workers, and of every process of the
   PostgreSQL server, read from /proc before and after each run, divided by the requests.
5. Writes: PUT /threads/{id}/vote (each request flips a different person's vote on one of many
   ideas, so every request writes) and POST /threads/{id}/posts; then checks every thread's
   stored tallies, top_score, reply_count and last_activity_at against fresh counts, and every
   community's stored active_member_count (kept by triggers, migration 0024) against its
   memberships.
6. Prints the issue's table with each "Done when" target and whether it is met.
`--soak SECONDS` then loads GET /threads/{id} at 80% of the measured capacity and prints, per
minute, requests/s, p50/p99 and each worker's RSS. `--sweep` measures other gunicorn settings.
Not part of the test run; needs wrk (Debian's package) and PostgreSQL.
"""
import argparse
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import click  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402

LUA = ROOT / "benchmarks" / "wrk" / "requests.lua"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
AUDIENCES = ("employee", "partner", "customer")
PARTNER_ORGS = [f"partner-org-{i}" for i in range(1, 9)]
CUSTOMER_ORGS = [f"customer-org-{i}" for i in range(1, 17)]
KINDS = (("discussion", 35), ("question", 25), ("idea", 30), ("announcement", 10))
IDEA_STATUSES = (("new", 55), ("under_review", 15), ("planned", 10), ("in_progress", 8),
                 ("done", 7), ("declined", 5))
FROZEN = ("done", "declined", "duplicate")
TAGS = ("sso", "kafka", "billing", "mobile", "search", "infra", "security", "ux", "api", "data",
        "release", "onboarding")
WORDS = ("deploy pipeline kafka consumer rebalance latency dashboard export csv billing invoice "
         "login sso token expiry mobile offline sync conflict search index relevance release "
         "train rollback database migration replica backup restore alert pager incident review "
         "onboarding laptop network proxy certificate renewal api rate limit webhook retry queue "
         "worker memory cache eviction feature flag rollout dark mode theme accessibility "
         "contrast keyboard shortcut notification email digest").split()
SWEEP = "2:sync,3:sync,4:sync,2:gthread:2,2:gthread:4,3:gthread:2,4:gthread:2"
SAMPLE_TOKENS = {"employee": 300, "partner": 150, "customer": 150}
SEED_MARK = "bench-u0001"

READS = ("thread", "top", "new", "trending", "communities", "me")
WRITES = ("vote", "posts")
LABELS = {
    "thread": "GET /threads/{id}",
    "top": "GET /communities/{slug}/threads sort=top",
    "new": "same, sort=new",
    "trending": "same, sort=trending",
    "communities": "GET /communities",
    "me": "GET /me",
    "vote": "PUT /threads/{id}/vote",
    "posts": "POST /threads/{id}/posts",
}
# The raw anchor each read is compared with.
RAW_OF = {"thread": "raw-thread", "top": "raw-top", "new": "raw-new", "trending": "raw-trending",
          "communities": "raw-pk", "me": "raw-pk"}


def say(message: str) -> None:
    print(message, flush=True)


# Seeding ---------------------------------------------------------------------------------------

@dataclass
class Scale:
    people: int = 2000
    communities: int = 40
    memberships: int = 13_700
    threads: int = 20_000
    posts: int = 200_000
    votes: int = 100_000

    def scaled(self, factor: float) -> "Scale":
        return Scale(*(max(int(getattr(self, name) * factor), minimum) for name, minimum in (
            ("people", 60), ("communities", 8), ("memberships", 300), ("threads", 400),
            ("posts", 2000), ("votes", 1000))))


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


def weighted(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs)
    return rng.choices(values, weights)[0]


def copy_rows(connection, table: str, columns: list[str], rows, total: int, label: str) -> None:
    """COPY rows into a table through psycopg, with a progress bar."""
    with connection.cursor() as cursor, click.progressbar(
            length=total, label=f"  {label:<12}", show_pos=True) as bar:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for index, row in enumerate(rows, 1):
                copy.write_row(row)
                if index % 5000 == 0:
                    bar.update(5000)
            bar.update(total - bar.pos)


def seed(url: str, scale: Scale, rng: random.Random) -> None:
    """Bulk-load the data set; counters computed here as the services compute them."""
    from collab.ideas import ranking

    now = datetime.now(UTC).replace(microsecond=0)

    def naive(moment: datetime) -> datetime:
        return moment.astimezone(UTC).replace(tzinfo=None)

    # People: employees, partners and customers (the last two in organisations).
    people = []  # (id, audience, organization)
    shares = {"employee": 0.65, "partner": 0.20}
    for user_id in range(1, scale.people + 1):
        fraction = (user_id - 1) / scale.people
        audience = ("employee" if fraction < shares["employee"] else
                    "partner" if fraction < shares["employee"] + shares["partner"] else "customer")
        organization = (None if audience == "employee" else
                        rng.choice(PARTNER_ORGS if audience == "partner" else CUSTOMER_ORGS))
        people.append((user_id, audience, organization))
    by_audience = defaultdict(list)
    for user_id, audience, organization in people:
        by_audience[audience].append(user_id)
    audience_of = {u: a for u, a, _ in people}
    organization_of = {u: o for u, _, o in people}

    # Communities: open, restricted and private; every one open to employees, some to partners
    # and customers, a third of those with an organisation allow-list.
    communities = []  # dicts
    for index in range(scale.communities):
        visibility = ("open", "open", "open", "open", "open", "restricted", "restricted",
                      "private")[index % 8]
        audiences = ["employee"]
        if index % 3 == 1 or index % 10 == 3:
            audiences.append("partner")
        if index % 4 == 2 or index % 10 == 3:
            audiences.append("customer")
        organizations = []
        if len(audiences) > 1 and index % 3 == 0:
            pool = (PARTNER_ORGS if "partner" in audiences else []) + (
                CUSTOMER_ORGS if "customer" in audiences else [])
            organizations = sorted(rng.sample(pool, 3))
        communities.append({
            "id": index + 1, "slug": f"bench-{index + 1:02d}", "visibility": visibility,
            "audiences": audiences, "organizations": organizations,
            "owner": rng.choice(by_audience["employee"]),
            "created_at": now - timedelta(days=400 + index)})

    def may_join(user_id: int, community: dict) -> bool:
        audience = audience_of[user_id]
        if audience not in community["audiences"]:
            return False
        return (audience == "employee" or not community["organizations"]
                or organization_of[user_id] in community["organizations"])

    # Memberships: the owner, two moderators, then members drawn from the eligible people with
    # a popularity skew, until the target count; statuses as the visibility allows.
    memberships = {}  # (community_id, user_id) -> (role, status)
    for community in communities:
        memberships[(community["id"], community["owner"])] = ("owner", "active")
        for moderator in rng.sample(by_audience["employee"], 2):
            memberships.setdefault((community["id"], moderator), ("moderator", "active"))
    eligible = {c["id"]: [u for u, _, _ in people if may_join(u, c)] for c in communities}
    popularity = [1.0 / (rank + 1) ** 0.6 for rank in range(len(communities))]
    rng.shuffle(popularity)
    attempts = 0
    while len(memberships) < scale.memberships and attempts < scale.memberships * 20:
        attempts += 1
        community = rng.choices(communities, popularity)[0]
        user_id = rng.choice(eligible[community["id"]])
        key = (community["id"], user_id)
        if key in memberships:
            continue
        roll = rng.random()
        if community["visibility"] == "private":
            status = "invited" if roll < 0.05 else "active"
        elif community["visibility"] == "restricted":
            status = "pending" if roll < 0.05 else "banned" if roll < 0.06 else "active"
        else:
            status = "invited" if roll < 0.02 else "banned" if roll < 0.03 else "active"
        memberships[key] = ("member", status)
    active = defaultdict(list)  # community_id -> active member ids
    staff = defaultdict(list)
    for (community_id, user_id), (role, status) in memberships.items():
        if status == "active":
            active[community_id].append(user_id)
            if role in ("owner", "moderator"):
                staff[community_id].append(user_id)

    # Threads, their posts and votes, with the counters the services would store.
    thread_weights = [1.0 / (rank + 1) ** 0.7 for rank in range(len(communities))]
    rng.shuffle(thread_weights)
    threads = []
    for thread_id in range(1, scale.threads + 1):
        community = rng.choices(communities, thread_weights)[0]
        kind = weighted(rng, KINDS)
        author = rng.choice(staff[community["id"]] if kind == "announcement"
                            else active[community["id"]])
        created = now - timedelta(seconds=rng.randint(3600, 365 * 86400))
        status = weighted(rng, IDEA_STATUSES) if kind == "idea" else "open"
        threads.append({
            "id": thread_id, "community_id": community["id"], "author_id": author, "kind": kind,
            "title": sentence(rng, 3, 8).rstrip("."),
            "body": " ".join(sentence(rng, 8, 20) for _ in range(rng.randint(1, 4))),
            "status": status, "pinned": False, "locked": rng.random() < 0.01,
            "created_at": created, "last_activity_at": created,
            "reply_count": 0, "upvotes": 0, "downvotes": 0,
            "trending_score": ranking.initial_trending_score(created), "posts": []})
    by_community = defaultdict(list)
    for thread in threads:
        by_community[thread["community_id"]].append(thread)
    for community_threads in by_community.values():  # two pinned threads, announcements first
        ordered = sorted(community_threads, key=lambda t: (t["kind"] != "announcement", -t["id"]))
        for thread in ordered[:2]:
            thread["pinned"] = True

    post_weights = [rng.paretovariate(1.2) for _ in threads]
    post_rows = []
    for post_id, thread in enumerate(rng.choices(threads, post_weights, k=scale.posts), 1):
        span = max(int((now - thread["created_at"]).total_seconds()) - 1, 1)
        created = thread["created_at"] + timedelta(seconds=rng.randint(1, span))
        author = rng.choice(active[thread["community_id"]])
        post_rows.append((post_id, thread["id"], author, created))
        thread["posts"].append((post_id, created))
        thread["reply_count"] += 1
        thread["last_activity_at"] = max(thread["last_activity_at"], created)
        thread["trending_score"] = ranking.add_activity(thread["trending_score"],
                                                        ranking.REPLY_WEIGHT, created)

    ideas = [t for t in threads if t["kind"] == "idea"]
    vote_weights = [rng.paretovariate(1.1) for _ in ideas]
    wanted = defaultdict(int)
    for idea in rng.choices(range(len(ideas)), vote_weights, k=scale.votes):
        wanted[idea] += 1
    vote_rows = []
    carry = 0  # votes an idea could not take (too few members) go to the next one
    order = list(wanted) + [i for i in range(len(ideas)) if i not in wanted]
    for idea_index in order:
        idea = ideas[idea_index]
        voters = active[idea["community_id"]]
        target = wanted.get(idea_index, 0) + carry
        count = min(target, len(voters))
        carry = target - count
        up_share = rng.uniform(0.55, 0.95)
        span = max(int((now - idea["created_at"]).total_seconds()) - 1, 1)
        for voter in rng.sample(voters, count):
            value = 1 if rng.random() < up_share else -1
            created = idea["created_at"] + timedelta(seconds=rng.randint(1, span))
            vote_rows.append((len(vote_rows) + 1, idea["id"], voter, value, audience_of[voter],
                              created))
            if value > 0:
                idea["upvotes"] += 1
                idea["trending_score"] = ranking.add_activity(idea["trending_score"],
                                                              ranking.UPVOTE_WEIGHT, created)
            else:
                idea["downvotes"] += 1
        if len(vote_rows) >= scale.votes:
            break

    # Idea status histories (one change from new, by the owner) and accepted answers.
    status_rows = []
    for idea in ideas:
        if idea["status"] != "new":
            community = communities[idea["community_id"] - 1]
            span = max(int((now - idea["created_at"]).total_seconds()) - 1, 1)
            status_rows.append((len(status_rows) + 1, idea["id"], "new", idea["status"],
                                sentence(rng, 4, 10), community["owner"],
                                idea["created_at"] + timedelta(seconds=rng.randint(1, span))))
    for thread in threads:
        thread["accepted_post_id"] = thread["answer_checked_at"] = None
        if thread["kind"] == "question" and thread["posts"] and rng.random() < 0.4:
            post_id, created = rng.choice(thread["posts"])
            thread["accepted_post_id"], thread["answer_checked_at"] = post_id, created
            thread["status"] = "answered"

    engine = create_engine(url)
    raw = engine.raw_connection()
    connection = raw.driver_connection
    try:
        copy_rows(connection, "users", ["id", "handle", "display_name", "email", "audience",
                                        "organization", "is_admin", "created_at", "kind"],
                  ((u, f"bench-u{u:04d}", f"Bench person {u}", f"bench-u{u:04d}@bench.test", a, o,
                    False, naive(now - timedelta(days=730)), "person") for u, a, o in people),
                  len(people), "people")
        copy_rows(connection, "communities", ["id", "slug", "name", "purpose", "description",
                                              "visibility", "archived", "created_by_id",
                                              "created_at", "updated_at"],
                  ((c["id"], c["slug"], f"Bench community {c['id']}", sentence(rng, 5, 12), "",
                    c["visibility"], False, c["owner"], naive(c["created_at"]),
                    naive(c["created_at"])) for c in communities),
                  len(communities), "communities")
        copy_rows(connection, "community_audiences", ["community_id", "audience"],
                  ((c["id"], a) for c in communities for a in c["audiences"]),
                  sum(len(c["audiences"]) for c in communities), "audiences")
        copy_rows(connection, "community_organizations", ["community_id", "organization"],
                  ((c["id"], o) for c in communities for o in c["organizations"]),
                  sum(len(c["organizations"]) for c in communities), "allow-lists")
        joined = naive(now - timedelta(days=380))
        copy_rows(connection, "memberships", ["id", "community_id", "user_id", "role", "status",
                                              "created_at", "updated_at"],
                  ((i, c, u, role, status, joined, joined)
                   for i, ((c, u), (role, status)) in enumerate(memberships.items(), 1)),
                  len(memberships), "memberships")
        copy_rows(connection, "threads", [
            "id", "community_id", "author_id", "kind", "title", "body", "status", "pinned",
            "locked", "reply_count", "upvotes", "downvotes", "top_score", "trending_score",
            "version", "created_at", "updated_at", "last_activity_at", "answer_checked_at"],
            ((t["id"], t["community_id"], t["author_id"], t["kind"], t["title"], t["body"],
              t["status"], t["pinned"], t["locked"], t["reply_count"], t["upvotes"],
              t["downvotes"], ranking.wilson_lower_bound(t["upvotes"], t["downvotes"]),
              t["trending_score"], 1, naive(t["created_at"]), naive(t["created_at"]),
              naive(t["last_activity_at"]),
              naive(t["answer_checked_at"]) if t["answer_checked_at"] else None)
             for t in threads), len(threads), "threads")
        copy_rows(connection, "thread_tags", ["thread_id", "tag"],
                  ((t["id"], tag) for t in threads
                   for tag in rng.sample(TAGS, (t["id"] * 7) % 4)),
                  sum((t["id"] * 7) % 4 for t in threads), "tags")
        copy_rows(connection, "posts", ["id", "thread_id", "author_id", "body", "version",
                                        "created_at", "updated_at", "upvotes", "downvotes",
                                        "score"],
                  ((p, t, a, " ".join(sentence(rng, 6, 18) for _ in range(rng.randint(1, 3))), 1,
                    naive(c), naive(c), 0, 0, 0) for p, t, a, c in post_rows),
                  len(post_rows), "posts")
        copy_rows(connection, "votes", ["id", "thread_id", "user_id", "value", "audience",
                                        "created_at", "updated_at"],
                  ((i, t, u, v, a, naive(c), naive(c)) for i, t, u, v, a, c in vote_rows),
                  len(vote_rows), "votes")
        copy_rows(connection, "idea_status_changes", ["id", "thread_id", "from_status",
                                                      "to_status", "note", "actor_id",
                                                      "created_at"],
                  ((i, t, f, s, n, a, naive(c)) for i, t, f, s, n, a, c in status_rows),
                  len(status_rows), "statuses")
        with connection.cursor() as cursor:
            cursor.execute("UPDATE threads SET accepted_post_id = v.post_id FROM (VALUES "
                           + ", ".join(f"({t['id']}, {t['accepted_post_id']})" for t in threads
                                       if t["accepted_post_id"]) + ") AS v(thread_id, post_id) "
                           "WHERE threads.id = v.thread_id")
            for table in ("users", "communities", "memberships", "threads", "posts", "votes",
                          "idea_status_changes"):
                cursor.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        connection.commit()
        say("  analysing tables")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        connection.autocommit = False
    finally:
        raw.close()
        engine.dispose()
    say(f"  seeded {len(people)} people, {len(communities)} communities, "
        f"{len(memberships)} memberships, {len(threads)} threads ({len(ideas)} ideas), "
        f"{len(post_rows)} posts, {len(vote_rows)} votes, {len(status_rows)} status changes")


def recompute_reputation(app) -> None:
    """The reputation ledger from the seeded history, as `flask reputation recompute` does."""
    from collab.db import db
    from collab.reputation import service as reputation

    with app.app_context():
        rows, points = reputation.recompute()
        db.session.remove()
    say(f"  reputation ledger: {rows} daily rows, {points} points")


def issue_tokens(app, rng: random.Random) -> list[dict]:
    """API tokens (people.issue_token) for a sample of people who are active somewhere."""
    from collab.db import db
    from collab.people import service as people
    from collab.permissions import visible_community_id_list
    from collab.people.models import User

    sample = []
    with app.app_context():
        engaged = db.session.execute(text(
            "SELECT u.id, u.audience FROM users u WHERE u.handle LIKE 'bench-u%' AND EXISTS "
            "(SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.status = 'active') "
            "ORDER BY u.id")).all()
        by_audience = defaultdict(list)
        for user_id, audience in engaged:
            by_audience[audience].append(user_id)
        chosen = []
        for audience, count in SAMPLE_TOKENS.items():
            ids = by_audience[audience]
            chosen += rng.sample(ids, min(count, len(ids)))
        with click.progressbar(chosen, label="  tokens", show_pos=True) as bar:
            for user_id in bar:
                _, plaintext = people.issue_token(None, user_id, "api-benchmark")
                user = db.session.get(User, user_id)
                sample.append({"user_id": user_id, "token": plaintext,
                               "audience": user.audience,
                               "visible": visible_community_id_list(user)})
        db.session.remove()
    return sample


# Request files -----------------------------------------------------------------------------------

@dataclass
class Plan:
    """What the load sends: request files and the facts they were drawn from."""

    workdir: Path
    people: list[dict]
    threads_by_community: dict[int, list[int]]
    slugs: dict[int, str]
    files: dict[str, Path] = field(default_factory=dict)


def build_plan(url: str, people: list[dict], workdir: Path, rng: random.Random) -> Plan:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id, community_id FROM threads WHERE deleted_at IS NULL")).all()
        slugs = dict(connection.execute(text("SELECT id, slug FROM communities")).all())
    engine.dispose()
    threads_by_community = defaultdict(list)
    for thread_id, community_id in rows:
        threads_by_community[community_id].append(thread_id)
    plan = Plan(workdir, people, threads_by_community, slugs)

    def write(name: str, lines: list[str]) -> None:
        path = workdir / f"{name}.tsv"
        path.write_text("\n".join(lines) + "\n")
        plan.files[name] = path

    thread_lines, raw_thread_lines, list_targets = [], [], []
    for _ in range(8000):
        person = rng.choice(people)
        visible = [c for c in person["visible"] if threads_by_community.get(c)]
        community = rng.choice(visible)
        thread_id = rng.choice(threads_by_community[community])
        thread_lines.append(f"GET\t/api/v1/threads/{thread_id}\t{person['token']}\t")
        raw_thread_lines.append(f"GET\t/raw/threads/{thread_id}\t-\t")
        list_targets.append((person, slugs[rng.choice(visible)]))
    write("thread", thread_lines)
    write("raw-thread", raw_thread_lines)
    for sort in ("top", "new", "trending"):
        write(sort, [f"GET\t/api/v1/communities/{slug}/threads?sort={sort}&limit=20\t"
                     f"{person['token']}\t" for person, slug in list_targets[:4000]])
        write(f"raw-{sort}", [f"GET\t/raw/communities/{slug}/threads?sort={sort}\t-\t"
                              for _, slug in list_targets[:4000]])
    shuffled = people[:]
    rng.shuffle(shuffled)
    write("communities", [f"GET\t/api/v1/communities\t{p['token']}\t" for p in shuffled])
    write("me", [f"GET\t/api/v1/me\t{p['token']}\t" for p in shuffled])
    write("raw-pk", [f"GET\t/raw/users/{p['user_id']}\t-\t" for p in shuffled])
    return plan


def write_vote_file(url: str, plan: Plan, wrk_threads: int, rng_seed: int) -> Path:
    """Votes that each change something: per (person, idea) the value flips from its current one.

    Pairs are laid out cycle after cycle, so a pair reappears only after every other pair, and
    always in the same wrk thread (the pair count is a multiple of the thread count).
    """
    rng = random.Random(rng_seed)
    engine = create_engine(url)
    by_user = {p["user_id"]: p for p in plan.people}
    with engine.connect() as connection:
        open_ideas = connection.execute(text(
            "SELECT m.user_id, t.id FROM memberships m JOIN communities c ON c.id = m.community_id "
            "JOIN threads t ON t.community_id = c.id WHERE m.status = 'active' AND NOT c.archived "
            "AND t.kind = 'idea' AND t.status NOT IN ('done', 'declined', 'duplicate') "
            "AND NOT t.locked AND t.merged_into_id IS NULL AND t.deleted_at IS NULL "
            "AND m.user_id = ANY(:users)"), {"users": list(by_user)}).all()
        current = {(u, t): v for u, t, v in connection.execute(text(
            "SELECT user_id, thread_id, value FROM votes WHERE user_id = ANY(:users)"),
            {"users": list(by_user)})}
    engine.dispose()
    per_user = defaultdict(list)
    for user_id, thread_id in open_ideas:
        per_user[user_id].append(thread_id)
    pairs = []
    for user_id in sorted(per_user):
        threads = per_user[user_id]
        for thread_id in rng.sample(threads, min(12, len(threads))):
            pairs.append((user_id, thread_id))
    rng.shuffle(pairs)
    pairs = pairs[:len(pairs) - len(pairs) % (2 * wrk_threads)]
    lines = []
    for cycle in range(2):
        for user_id, thread_id in pairs:
            first = -current[(user_id, thread_id)] if (user_id, thread_id) in current else 1
            value = first if cycle == 0 else -first
            lines.append(f"PUT\t/api/v1/threads/{thread_id}/vote\t{by_user[user_id]['token']}\t"
                         f'{{"value": {value}}}')
    path = plan.workdir / "vote.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_post_file(url: str, plan: Plan, rng_seed: int) -> Path:
    rng = random.Random(rng_seed)
    engine = create_engine(url)
    by_user = {p["user_id"]: p for p in plan.people}
    with engine.connect() as connection:
        writable = connection.execute(text(
            "SELECT m.user_id, t.id FROM memberships m JOIN communities c ON c.id = m.community_id "
            "JOIN threads t ON t.community_id = c.id WHERE m.status = 'active' AND NOT c.archived "
            "AND NOT t.locked AND t.merged_into_id IS NULL AND t.deleted_at IS NULL "
            "AND m.user_id = ANY(:users)"), {"users": list(by_user)}).all()
    engine.dispose()
    lines = []
    for user_id, thread_id in rng.sample(writable, min(8000, len(writable))):
        body = json.dumps({"body": " ".join(sentence(rng, 6, 16) for _ in range(2))})
        lines.append(f"POST\t/api/v1/threads/{thread_id}/posts\t{by_user[user_id]['token']}\t{body}")
    path = plan.workdir / "posts.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


# SQL statements per request ----------------------------------------------------------------------

def is_read(statement: str) -> bool:
    """A SELECT, or a WITH whose parts only read (a data-modifying WITH is a write)."""
    text = statement.lstrip().upper()
    return text.startswith("SELECT") or (text.startswith("WITH") and not re.search(
        r"\b(INSERT INTO|DELETE FROM|UPDATE \w+ SET)\b", text))


def count_statements(url: str, plan: Plan, names: list[str]) -> dict[str, tuple[int, int]]:
    """(SELECTs, writes) one request of each endpoint sends, in process on the same database."""
    os.environ.update(production_environment(url))
    from collab import create_app
    from collab.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUTO_MIGRATE": False})
    client = app.test_client()
    counts: dict[str, tuple[int, int]] = {}
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def first_line(name: str, path: Path | None = None) -> tuple[str, str, str, str]:
        line = (path or plan.files[name]).read_text().splitlines()[0]
        method, target, token, body = (line.split("\t") + [""])[:4]
        return method, target, token, body

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            for name in names:
                if name == "vote":
                    request_line = first_line(name, write_vote_file(url, plan, 1, 99))
                elif name == "posts":
                    request_line = first_line(name, write_post_file(url, plan, 99))
                else:
                    request_line = first_line(name)
                method, target, token, body = request_line
                headers = {"Authorization": f"Bearer {token}"}
                if name not in WRITES:  # once to warm (a thread's first read in an hour writes)
                    client.open(target, method=method, headers=headers)
                statements.clear()
                response = client.open(target, method=method, headers=headers,
                                       data=body or None,
                                       content_type="application/json" if body else None)
                if response.status_code >= 300:
                    raise SystemExit(f"{name}: {method} {target} answered {response.status_code}: "
                                     f"{response.get_data(as_text=True)[:300]}")
                selects = sum(1 for s in statements if is_read(s))
                counts[name] = (selects, len(statements) - selects)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
            db.session.remove()
            db.engine.dispose()
    return counts


# Servers ---------------------------------------------------------------------------------------

def production_environment(url: str) -> dict[str, str]:
    return {"COLLAB_ENV": "production", "SECRET_KEY": "api-benchmark-not-a-secret",
            "DATABASE_URL": url, "AUTO_MIGRATE": "0", "SEARCH_OUTBOX": "on",
            "SEARCH_SYNC_IN_PROCESS": "0", "WEBHOOKS_DELIVER_IN_PROCESS": "0"}


@dataclass
class Settings:
    workers: int = 2
    worker_class: str = "sync"
    threads: int = 1

    def __str__(self) -> str:
        threads = f" --threads {self.threads}" if self.worker_class == "gthread" else ""
        return f"-w {self.workers} -k {self.worker_class}{threads}"


class Server:
    """A gunicorn master with its workers, started and stopped by us."""

    def __init__(self, name: str, app: str, port: int, settings: Settings, env: dict,
                 workdir: Path, probe: str, token: str | None = None):
        self.name, self.port, self.probe, self.token = name, port, probe, token
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(workdir / f"{name}-{port}.log", "ab")
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("RATELIMIT_", "ELASTICSEARCH", "REDIS_URL"))}
        environment.update(env)
        command = [sys.executable, "-m", "gunicorn", "-w", str(settings.workers),
                   "-k", settings.worker_class, "--threads", str(settings.threads),
                   "-b", f"127.0.0.1:{port}", "--worker-tmp-dir", "/dev/shm",
                   "--timeout", "60", app]
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=self.log,
                                        stderr=self.log, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        request = urllib.request.Request(self.url + self.probe, headers=(
            {"Authorization": f"Bearer {self.token}"} if self.token else {}))
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200 and len(self.worker_pids()) > 0:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise SystemExit(f"{self.name} did not answer {self.probe} within 120 s")

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)

    def pids(self) -> list[int]:
        return [self.process.pid, *self.worker_pids()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def postmaster_pid(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:  # read while the backend lives: it exits on close
        backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
    engine.dispose()
    return int(fields[1])


# Load ------------------------------------------------------------------------------------------

@dataclass
class Run:
    requests: int
    seconds: float
    errors: int  # non-2xx answers (wrk counts status >= 400) plus socket errors and timeouts
    p50: float
    p95: float
    p99: float
    app_cpu_ms: float  # per request
    db_cpu_ms: float
    load: float = 0.0  # the machine's 1-minute load average at the end of the run

    @property
    def idle_rps(self) -> float:
        """Requests/s two idle cores would serve if the app and the database were all they ran
        (the runs are CPU-bound): 2 cores / CPU per request. wrk's own CPU is not counted."""
        used = self.app_cpu_ms + self.db_cpu_ms
        return 2000.0 / used if used else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Load:
    def __init__(self, args, postmaster: int):
        self.connections, self.wrk_threads = args.connections, args.wrk_threads
        self.postmaster = postmaster

    def run(self, server: Server, path: Path, seconds: float, rate: float | None = None) -> Run:
        db_pids = [self.postmaster, *children(self.postmaster)]
        app_pids = server.pids()
        app_before, db_before = cpu_ticks(app_pids), cpu_ticks(db_pids)
        command = ["wrk", "-t", str(self.wrk_threads), "-c", str(self.connections),
                   "-d", f"{max(int(round(seconds)), 1)}s", "--timeout", "10s", "-s", str(LUA),
                   server.url, "--", str(path), str(self.wrk_threads)]
        environment = dict(os.environ)
        environment.pop("WRK_RATE", None)
        if rate:
            environment["WRK_RATE"] = f"{rate:.3f}"
        result = subprocess.run(command, capture_output=True, text=True, env=environment)
        settle(server)
        app_used = cpu_ticks(server.pids()) - app_before
        db_used = cpu_ticks([self.postmaster, *children(self.postmaster)]) - db_before
        lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
        if result.returncode != 0 or not lines:
            raise SystemExit(f"wrk failed ({result.returncode}): {result.stderr}{result.stdout}")
        figures = json.loads(lines[-1][len("RESULT "):])
        requests = figures["requests"]
        errors = sum(figures[k] for k in ("connect_errors", "read_errors", "write_errors",
                                          "status_errors", "timeouts"))
        per_request = 1000.0 / CLOCK_TICKS / max(requests, 1)
        return Run(requests, figures["duration_us"] / 1e6, errors, figures["p50"],
                   figures["p95"], figures["p99"], app_used * per_request, db_used * per_request,
                   load_average())


def settle(server: Server, quiet: float = 0.5, limit: float = 60.0) -> None:
    """Wait for the requests wrk left in flight: until the workers use no CPU for `quiet` s.

    A sync worker finishes a request whose client went away, so the next run, a vote file read
    from the votes table or the counters check would otherwise overlap with it."""
    deadline = time.monotonic() + limit
    last = cpu_ticks(server.pids())
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_ticks(server.pids())
        if now == last:
            return
        last = now


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def best(runs: list[Run]) -> Run:
    return max(runs, key=lambda r: r.rps)


# Checks ----------------------------------------------------------------------------------------

def check_counters(url: str) -> tuple[bool, list[str]]:
    """Every thread's stored counters against fresh counts over votes and posts, every
    community's active-member count against its memberships, and the reputation ledger against the events (what `flask reputation recompute` would write)."""
    from collab.ideas import ranking
    from collab.reputation import rules, service as reputation

    engine = create_engine(url, isolation_level="REPEATABLE READ")  # one snapshot for all
    with engine.connect() as connection:
        row = connection.execute(text("""
            SELECT count(*) AS threads,
                   count(*) FILTER (WHERE t.upvotes <> coalesce(v.up, 0)
                                       OR t.downvotes <> coalesce(v.down, 0)) AS tallies,
                   count(*) FILTER (WHERE t.reply_count <> coalesce(p.n, 0)) AS replies,
                   count(*) FILTER (WHERE t.last_activity_at
                                    <> greatest(t.created_at, coalesce(p.last, t.created_at)))
                       AS activity
            FROM threads t
            LEFT JOIN (SELECT thread_id, count(*) FILTER (WHERE value = 1) AS up,
                              count(*) FILTER (WHERE value = -1) AS down
                       FROM votes GROUP BY thread_id) v ON v.thread_id = t.id
            LEFT JOIN (SELECT thread_id, count(*) AS n, max(created_at) AS last FROM posts
                       WHERE deleted_at IS NULL GROUP BY thread_id) p ON p.thread_id = t.id
            WHERE t.deleted_at IS NULL""")).one()
        scores = connection.execute(text(
            "SELECT upvotes, downvotes, top_score FROM threads WHERE deleted_at IS NULL")).all()
        votes = connection.execute(text("SELECT count(*) FROM votes")).scalar_one()
        # Stored active-member counts (migration 0024; COPY fires the triggers that keep them).
        communities, members_differ = connection.execute(text("""
            SELECT count(*), count(*) FILTER (WHERE c.active_member_count <> coalesce(m.n, 0))
            FROM communities c
            LEFT JOIN (SELECT community_id, count(*) AS n FROM memberships
                       WHERE status = 'active' GROUP BY community_id) m
                ON m.community_id = c.id""")).one()
        posts = connection.execute(text(
            "SELECT count(*) FROM posts WHERE deleted_at IS NULL")).scalar_one()
        # trending_score only grows: creation, every reply and every up-vote add activity (a vote
        # flipped back and forth adds it each time), so the activity still in the tables (live
        # posts, current up-votes at their last change) is a lower bound of the stored score.
        bounds = {}
        for thread_id, created, stored in connection.execute(text(
                "SELECT id, created_at, trending_score FROM threads WHERE deleted_at IS NULL")):
            bounds[thread_id] = [ranking.initial_trending_score(created.replace(tzinfo=UTC)),
                                 stored]
        for thread_id, weight, at in connection.execute(text(
                "SELECT thread_id, :reply, created_at FROM posts WHERE deleted_at IS NULL "
                "UNION ALL SELECT thread_id, :upvote, updated_at FROM votes WHERE value = 1"),
                {"reply": ranking.REPLY_WEIGHT, "upvote": ranking.UPVOTE_WEIGHT}):
            bound = bounds.get(thread_id)
            if bound is not None:
                bound[0] = ranking.add_activity(bound[0], float(weight), at.replace(tzinfo=UTC))
        rebuilt = {key: (min(raw, rules.DAILY_CAP), raw)
                   for key, raw in reputation.event_days(connection).items()}
        ledger = {(c, u, d): (points, raw) for c, u, d, points, raw in connection.execute(text(
            "SELECT community_id, user_id, day, points, raw_points FROM reputation_days"))}
    engine.dispose()
    ledger_differ = len(rebuilt.keys() ^ ledger.keys()) + sum(
        1 for key in rebuilt.keys() & ledger.keys() if rebuilt[key] != ledger[key])
    trending = sum(1 for bound, stored in bounds.values() if stored < bound - 1e-6)
    top = sum(1 for up, down, stored in scores
              if abs(ranking.wilson_lower_bound(up, down) - stored) > 1e-9)
    lines = [f"{row.threads} threads, {votes} votes, {posts} posts checked:",
             f"  upvotes/downvotes equal to COUNT(votes): {row.threads - row.tallies} of "
             f"{row.threads} ({row.tallies} differ)",
             f"  top_score equal to the Wilson bound of the stored tallies: {len(scores) - top} of "
             f"{len(scores)} ({top} differ)",
             f"  reply_count equal to COUNT(posts): {row.threads - row.replies} of {row.threads} "
             f"({row.replies} differ)",
             f"  last_activity_at equal to the last post's time: {row.threads - row.activity} of "
             f"{row.threads} ({row.activity} differ)",
             f"  trending_score at least the activity still in the tables: "
             f"{len(bounds) - trending} of {len(bounds)} ({trending} below)",
             f"  communities' active_member_count equal to COUNT(active memberships): "
             f"{communities - members_differ} of {communities} ({members_differ} differ)",
             f"  reputation ledger equal to a rebuild from the events: "
             f"{len(ledger) - ledger_differ} of {len(ledger)} daily rows "
             f"({ledger_differ} differ or missing; {sum(p for p, _ in ledger.values())} points "
             f"against {sum(p for p, _ in rebuilt.values())})"]
    exact = (row.tallies == 0 and row.replies == 0 and row.activity == 0 and top == 0
             and ledger_differ == 0 and members_differ == 0)
    return exact and trending == 0, lines


def mark_threads_read(url: str) -> None:
    """Every thread read 10 minutes ago, as on a busy site: reads measure the steady state (the
    first read of a thread in an hour also writes its last_read_at, collab/freshness)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE threads SET last_read_at = "
                                "(now() AT TIME ZONE 'utc') - interval '10 minutes'"))
    engine.dispose()
    say("  every thread's last_read_at set to 10 minutes ago (reads then write nothing)")


def outbox_rows(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM search_outbox")).scalar_one()
    engine.dispose()
    return count


# PostgreSQL ------------------------------------------------------------------------------------

def prepare_database(args) -> tuple[str, bool]:
    """The database URL, and whether it is already seeded (with --reuse)."""
    if args.database:
        url = args.database
        seeded = is_seeded(url)
        if seeded is None:
            raise SystemExit(f"cannot reach {url}")
        if seeded and args.reuse:
            return url, True
        engine = create_engine(url)
        with engine.connect() as connection:
            tables = connection.execute(text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            )).scalar_one()
        engine.dispose()
        if tables:
            raise SystemExit(f"{url} is not empty: give an empty database, or --reuse one this "
                             "script seeded")
        return url, False
    server = subprocess.run(["bash", "scripts/postgres.sh", "start", str(args.pg_port)], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.strip()
    url = server.rsplit("/", 1)[0] + "/" + args.database_name
    seeded = is_seeded(url)
    if seeded and args.reuse:
        return url, True
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{args.database_name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{args.database_name}"'))
    admin.dispose()
    return url, False


def is_seeded(url: str) -> bool | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if not connection.execute(text("SELECT to_regclass('public.users')")).scalar():
                return False
            return bool(connection.execute(text("SELECT 1 FROM users WHERE handle = :h"),
                                           {"h": SEED_MARK}).scalar())
    except Exception as error:  # noqa: BLE001  (a missing database reads as not seeded)
        return False if "does not exist" in str(error) else None
    finally:
        engine.dispose()


# Report ----------------------------------------------------------------------------------------

def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def print_table(results: dict, statements: dict, raw: dict, counters_ok: bool | None,
                soak: dict | None, settings: Settings, args) -> None:
    say("")
    loads = [r.load for r in (*results.values(), *raw.values())]
    say(f"gunicorn {settings} for both apps, wrk {args.connections} connections "
        f"({args.wrk_threads} threads), {args.duration:g} s per run, best of {args.rounds} "
        f"rounds (highest requests/s), collab and raw back to back; {os.cpu_count()} cores, "
        f"1-minute load average {min(loads, default=0):.1f}-{max(loads, default=0):.1f} "
        "during the reported runs")
    header = ("| endpoint | collab rps | p50 / p95 ms | raw rps | collab / raw | SQL statements "
              "| CPU ms/request (app + db) | rps on 2 idle cores (est.) | errors |")
    say(header)
    say("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    targets = []
    for name in (*READS, *WRITES):
        if name not in results:
            continue
        run = results[name]
        anchor = raw.get(RAW_OF.get(name, ""))
        ratio = run.rps / anchor.rps if anchor else None
        selects, writes = statements.get(name, (None, None))
        sql = ("" if selects is None else str(selects) if not writes
               else f"{selects} SELECT + {writes} writes")
        raw_text = fmt(anchor.rps) if anchor else ""
        if anchor and name in ("communities", "me"):
            raw_text += " (PK read)"
        say(f"| {LABELS[name]} | {fmt(run.rps)} | {fmt(run.p50, 1)} / {fmt(run.p95, 1)} | "
            f"{raw_text} | {'' if ratio is None else fmt(ratio, 3)} | {sql} | "
            f"{fmt(run.app_cpu_ms, 2)} + {fmt(run.db_cpu_ms, 2)} | {fmt(run.idle_rps)}"
            + (f" (raw {fmt(anchor.idle_rps)})" if anchor else "") + f" | {run.errors} |")
        if name == "thread":
            targets.append((f"{LABELS[name]}: >= 0.30 of raw and p95 <= 50 ms",
                            ratio is not None and ratio >= 0.30 and run.p95 <= 50,
                            f"{fmt(ratio or 0, 3)}, p95 {fmt(run.p95, 1)} ms"))
        elif name in ("top", "new", "trending"):
            targets.append((f"list sort={name}: >= 0.30 of raw (same order) and p95 <= 60 ms",
                            ratio is not None and ratio >= 0.30 and run.p95 <= 60,
                            f"{fmt(ratio or 0, 3)}, p95 {fmt(run.p95, 1)} ms"))
        elif name in ("communities", "me"):
            floor = 0.30 if name == "communities" else 0.60
            targets.append((f"{LABELS[name]}: >= {floor:.2f} of the raw PK read",
                            ratio is not None and ratio >= floor, f"{fmt(ratio or 0, 3)}"))
        else:
            targets.append((f"{LABELS[name]}: >= 150 writes/s, p95 <= 100 ms, 0 errors",
                            run.rps >= 150 and run.p95 <= 100 and run.errors == 0,
                            f"{fmt(run.rps)}/s, p95 {fmt(run.p95, 1)} ms, {run.errors} errors"))
    raw_rows = [(k, v) for k, v in raw.items()]
    if raw_rows:
        say("")
        say("raw anchor runs: " + "; ".join(
            f"{k} {fmt(v.rps)} rps p50/p95 {fmt(v.p50, 1)}/{fmt(v.p95, 1)} ms, "
            f"CPU {fmt(v.app_cpu_ms, 2)} + {fmt(v.db_cpu_ms, 2)} ms, {v.errors} errors"
            for k, v in raw_rows))
    if counters_ok is not None:
        targets.append(("counters exact after the writes", counters_ok, ""))
    if soak is not None:
        targets.append((f"soak {soak['seconds']} s at {fmt(soak['rate'])} rps: p99 steady and "
                        "worker memory flat", soak["steady"] and soak["flat"], soak["summary"]))
    say("(rps on 2 idle cores: 2 cores / (app + db CPU per request), what the runs would give "
        "if nothing else ran; the machine is shared, so compare ratios and CPU, not raw rps)")
    say("")
    say("Done when:")
    for label, met, detail in targets:
        say(f"  [{'met' if met else 'NOT met'}] {label}" + (f" ({detail})" if detail else ""))


# Main ------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="SQLAlchemy URL of an empty PostgreSQL database (or one "
                        "this script seeded, with --reuse); default: start one with "
                        "scripts/postgres.sh on --pg-port")
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("COLLAB_PG_PORT", 54341)))
    parser.add_argument("--database-name", default="collab_api_bench")
    parser.add_argument("--keep-postgres", action="store_true",
                        help="leave the PostgreSQL started here running")
    parser.add_argument("--reuse", action="store_true", help="skip seeding an already seeded "
                        "database (writes of earlier runs stay: counters remain exact)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the data set")
    parser.add_argument("--http-port", type=int, default=8111,
                        help="collab's port; the raw anchor uses the next one")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up per endpoint")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--only", help="comma-separated subset of: " + ",".join(READS + WRITES))
    parser.add_argument("--quick", action="store_true",
                        help="smoke check: 3 s runs, 1 s warm-up, one round")
    parser.add_argument("--soak", type=int, default=0, metavar="SECONDS",
                        help="then load GET /threads/{id} at 80%% of its capacity this long")
    parser.add_argument("--sweep", action="store_true",
                        help="also measure other gunicorn settings (workers, gthread threads)")
    parser.add_argument("--sweep-settings", default=SWEEP, metavar="W:CLASS[:THREADS],...",
                        help=f"the settings --sweep measures (default {SWEEP})")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    if args.quick:
        args.duration, args.warmup, args.rounds = 3.0, 1.0, 1
    names = list(READS + WRITES)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = set(names) - set(READS + WRITES)
        if unknown:
            raise SystemExit(f"unknown endpoint(s) {', '.join(sorted(unknown))}; "
                             f"choose from {', '.join(READS + WRITES)}")
    settings = Settings(args.workers, args.worker_class, args.threads)
    rng = random.Random(args.seed)
    started_postgres = not args.database

    url, seeded = prepare_database(args)
    say(f"database: {url} ({'seeded before, reused' if seeded else 'fresh'})")
    os.environ.update(production_environment(url))
    from collab import create_app

    began = time.perf_counter()
    seeding_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUTO_MIGRATE": not seeded,
                              "SEARCH_OUTBOX": False})
    if not seeded:
        say("seeding (COPY):")
        seed(url, Scale().scaled(args.scale), rng)
        recompute_reputation(seeding_app)
        say(f"seeded in {time.perf_counter() - began:.1f} s")
    people = issue_tokens(seeding_app, rng)
    with seeding_app.app_context():
        from collab.db import db
        db.engine.dispose()
    workdir = Path(tempfile.mkdtemp(prefix="collab-api-bench-"))
    plan = build_plan(url, people, workdir, rng)
    say(f"{len(people)} tokens; request files in {workdir}")

    say("counting SQL statements per request (in process, Flask test client)")
    statements = count_statements(url, plan, names)
    for name, (selects, writes) in statements.items():
        say(f"  {LABELS[name]}: {selects} SELECT + {writes} writes")

    postmaster = postmaster_pid(url)
    load = Load(args, postmaster)
    token = people[0]["token"]
    servers: list[Server] = []
    results: dict[str, Run] = {}
    raw_results: dict[str, Run] = {}
    counters_ok = None
    soak = None
    try:
        collab = Server("collab", "wsgi:app", args.http_port, settings,
                        production_environment(url), workdir, "/api/v1/me", token)
        servers.append(collab)
        reads = [n for n in names if n in READS]
        raw_server = None
        if reads:
            raw_server = Server("raw", "benchmarks.raw_anchor:app", args.http_port + 1, settings,
                                {"DATABASE_URL": url,
                                 "RAW_POOL_SIZE": str(max(settings.threads, 1))},
                                workdir, f"/raw/users/{people[0]['user_id']}")
            servers.append(raw_server)
        say(f"collab on {collab.url} and raw anchor on {args.http_port + 1}, gunicorn {settings}")
        if reads or args.soak:
            mark_threads_read(url)
        for name in reads:
            raw_name = RAW_OF[name]
            collab_runs, raw_runs = [], []
            for round_number in range(args.rounds):
                for server, file_name, runs in ((collab, name, collab_runs),
                                                (raw_server, raw_name, raw_runs)):
                    if round_number == 0 and args.warmup > 0:
                        load.run(server, plan.files[file_name], args.warmup)
                    run = load.run(server, plan.files[file_name], args.duration)
                    runs.append(run)
                    say(f"  {LABELS[name] if server is collab else raw_name:<45} round "
                        f"{round_number + 1}: {fmt(run.rps):>7} rps  p50 {fmt(run.p50, 1)} ms  "
                        f"p95 {fmt(run.p95, 1)} ms  errors {run.errors}  "
                        f"CPU {fmt(run.app_cpu_ms, 2)}+{fmt(run.db_cpu_ms, 2)} ms/req  "
                        f"load {run.load:.1f}")
            results[name] = best(collab_runs)
            if raw_name not in raw_results or best(raw_runs).rps > raw_results[raw_name].rps:
                raw_results[raw_name] = best(raw_runs)
        writes = [n for n in names if n in WRITES]
        for name in writes:
            runs = []
            for round_number in range(args.rounds):
                if round_number == 0 and args.warmup > 0:
                    path = (write_vote_file(url, plan, args.wrk_threads, round_number)
                            if name == "vote" else write_post_file(url, plan, round_number))
                    load.run(collab, path, args.warmup)
                path = (write_vote_file(url, plan, args.wrk_threads, 100 + round_number)
                        if name == "vote" else write_post_file(url, plan, 100 + round_number))
                outbox_before = outbox_rows(url)
                run = load.run(collab, path, args.duration)
                outbox_per_write = (outbox_rows(url) - outbox_before) / max(run.requests, 1)
                runs.append(run)
                say(f"  {LABELS[name]:<45} round {round_number + 1}: {fmt(run.rps):>7} writes/s  "
                    f"p50 {fmt(run.p50, 1)} ms  p95 {fmt(run.p95, 1)} ms  errors {run.errors}  "
                    f"CPU {fmt(run.app_cpu_ms, 2)}+{fmt(run.db_cpu_ms, 2)} ms/req  "
                    f"outbox rows/write {outbox_per_write:.2f}  load {run.load:.1f}")
            results[name] = best(runs)
            results[name].errors = sum(r.errors for r in runs)  # every error counts
        if writes:
            counters_ok, lines = check_counters(url)
            say("counters after the writes: " + ("exact" if counters_ok else "NOT exact"))
            for line in lines:
                say("  " + line)
        if args.soak:
            soak = run_soak(args, load, collab, plan, results)
        if args.sweep:
            for server in servers:
                server.stop()
            servers.clear()
            run_sweep(args, load, url, plan, workdir, token, people[0]["user_id"])
            sweep_ok, lines = check_counters(url)
            counters_ok = sweep_ok if counters_ok is None else counters_ok and sweep_ok
            say("counters after the sweep's votes: " + ("exact" if sweep_ok else "NOT exact"))
            for line in lines:
                say("  " + line)
    finally:
        for server in servers:
            server.stop()
        if started_postgres and not args.keep_postgres:
            subprocess.run(["bash", "scripts/postgres.sh", "stop", str(args.pg_port)], cwd=ROOT)
    print_table(results, statements, raw_results, counters_ok, soak, settings, args)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "settings": str(settings), "connections": args.connections,
            "duration": args.duration, "rounds": args.rounds,
            "collab": {n: {**vars(r), "rps": r.rps} for n, r in results.items()},
            "raw": {n: {**vars(r), "rps": r.rps} for n, r in raw_results.items()},
            "statements": {n: {"select": a, "write": b} for n, (a, b) in statements.items()},
            "counters_exact": counters_ok, "soak": soak}, indent=2))
        say(f"figures written to {args.json}")


def run_soak(args, load: Load, collab: Server, plan: Plan, results: dict) -> dict:
    """GET /threads/{id} at 80% of its measured capacity, minute by minute."""
    if "thread" in results:
        capacity = results["thread"].rps
    else:
        say("soak: measuring GET /threads/{id} capacity first")
        capacity = load.run(collab, plan.files["thread"], args.duration).rps
    rate = 0.8 * capacity
    minutes = max(1, math.ceil(args.soak / 60))
    say(f"soak: {args.soak} s of GET /threads/{{id}} at {fmt(rate)} rps (80% of {fmt(capacity)})")
    say("| minute | rps | p50 ms | p99 ms | errors | worker RSS MB |")
    say("| --- | --- | --- | --- | --- | --- |")
    rows = []
    for minute in range(1, minutes + 1):
        seconds = min(60, args.soak - 60 * (minute - 1))
        run = load.run(collab, plan.files["thread"], seconds, rate=rate)
        rss = [rss_mb(pid) for pid in sorted(collab.worker_pids())]
        rows.append((run, rss))
        say(f"| {minute} | {fmt(run.rps)} | {fmt(run.p50, 1)} | {fmt(run.p99, 1)} | {run.errors} | "
            f"{', '.join(fmt(r, 1) for r in rss)} |")
    p99s = [run.p99 for run, _ in rows]
    median = statistics.median(p99s)
    steady = all(p <= 2 * median for p in p99s)
    first, last = rows[0][1], rows[-1][1]
    growth = [b - a for a, b in zip(first, last)] if len(first) == len(last) else []
    flat = bool(growth) and all(g <= max(0.05 * a, 5.0) for a, g in zip(first, growth))
    summary = (f"p99 per minute {min(p99s):.1f}-{max(p99s):.1f} ms (median {median:.1f}); RSS "
               f"growth from minute 1 to {len(rows)}: "
               + ", ".join(f"{g:+.1f} MB" for g in growth))
    say(f"soak: {summary}; p99 {'steady' if steady else 'NOT steady'} (every minute within 2x "
        f"the median), memory {'flat' if flat else 'NOT flat'} (growth <= max(5%, 5 MB))")
    return {"seconds": args.soak, "rate": rate, "steady": steady, "flat": flat,
            "summary": summary}


def run_sweep(args, load: Load, url: str, plan: Plan, workdir: Path, token: str,
              user_id: int) -> None:
    """Collab under other gunicorn settings (thread reads, a list, votes), each beside the raw
    thread read under the same settings, since the machine's load drifts between settings."""
    candidates = []
    for item in args.sweep_settings.split(","):
        workers, worker_class, *threads = item.strip().split(":")
        candidates.append(Settings(int(workers), worker_class, int(threads[0]) if threads else 1))
    say("sweep of gunicorn settings (best of the rounds):")
    say("| settings | raw thread rps | GET /threads/{id} rps (p95 ms; CPU ms/req) | collab / raw "
        "| sort=top rps (p95 ms; CPU ms/req) | votes/s (p95 ms; CPU ms/req; errors) |")
    say("| --- | --- | --- | --- | --- | --- |")
    for settings in candidates:
        server = Server("collab-sweep", "wsgi:app", args.http_port + 2, settings,
                        production_environment(url), workdir, "/api/v1/me", token)
        raw = Server("raw-sweep", "benchmarks.raw_anchor:app", args.http_port + 3, settings,
                     {"DATABASE_URL": url, "RAW_POOL_SIZE": str(max(settings.threads, 1))},
                     workdir, f"/raw/users/{user_id}")
        try:
            raw_runs = []
            for round_number in range(args.rounds):
                if round_number == 0 and args.warmup > 0:
                    load.run(raw, plan.files["raw-thread"], args.warmup)
                raw_runs.append(load.run(raw, plan.files["raw-thread"], args.duration))
            raw_thread = best(raw_runs)
            cells = [fmt(raw_thread.rps)]
            for name in ("thread", "top", "vote"):
                runs = []
                for round_number in range(args.rounds):
                    if round_number == 0 and args.warmup > 0:
                        load.run(server, write_vote_file(url, plan, args.wrk_threads, 300)
                                 if name == "vote" else plan.files[name], args.warmup)
                    path = (write_vote_file(url, plan, args.wrk_threads, 200 + round_number)
                            if name == "vote" else plan.files[name])
                    runs.append(load.run(server, path, args.duration))
                run = best(runs)
                errors = sum(r.errors for r in runs)
                cells.append(f"{fmt(run.rps)} ({fmt(run.p95, 1)}; "
                             f"{fmt(run.app_cpu_ms + run.db_cpu_ms, 1)}"
                             + (f"; {errors})" if name == "vote" else ")"))
                if name == "thread":
                    cells.append(fmt(run.rps / raw_thread.rps if raw_thread.rps else 0, 3))
            say(f"| {settings} | " + " | ".join(cells) + " |")
        finally:
            server.stop()
            raw.stop()


if __name__ == "__main__":
    main()
