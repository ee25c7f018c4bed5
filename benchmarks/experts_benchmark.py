"""Expert ranking quality on a generated ground truth: known people answer known topics amid noise.

    python benchmarks/experts_benchmark.py [--topics 12] [--experts 5] [--noise-people 80]
        [--questions 30] [--seed 7] [--es http://127.0.0.1:9200] [--database URL]

The corpus (generated, no real texts): `--topics` topics, each with its own vocabulary and
`--experts` designated experts. Every question of a topic (asked by anyone) gets replies from
1-2 of its experts (accepted 60% of the time) and from 1-3 noise people, who write generic
advice that mentions the topic's words a third of the time and are accepted 10% of the time;
experts also chat in other topics. Plus off-topic discussions mentioning topic words in passing,
and a private community where decoy people answer every topic (invisible to the benchmark's
caller: they must never appear). Timestamps spread over two years.

For each topic the benchmark asks `GET /api/v1/experts?q=<topic word>` as an ordinary employee
and prints precision@5 (share of the top five who are the topic's designated experts) and MRR
(1 / rank of the first designated expert), averaged over topics, per engine (the database
always; Elasticsearch too with --es, after a reindex). Target: precision@5 >= 0.8.
"""
import argparse
import random
import sys
import tempfile
import time as wallclock
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import click  # noqa: E402

from collab import create_app  # noqa: E402
from collab.communities.models import Community, CommunityAudience, Membership  # noqa: E402
from collab.db import db  # noqa: E402
from collab.people import service as people  # noqa: E402
from collab.threads.models import Post, Thread, ThreadTag  # noqa: E402

TOPICS = {
    "kubernetes": "kubernetes pod helm ingress kubelet node",
    "terraform": "terraform module state provider plan apply",
    "kafka": "kafka consumer partition offset broker rebalance",
    "postgres": "postgres vacuum replica index wal query",
    "okta": "okta saml sso login federation idp",
    "billing": "billing invoice refund tax currency ledger",
    "react": "react component hook render props state",
    "gdpr": "gdpr consent retention erasure processor controller",
    "payroll": "payroll salary payslip overtime bonus deduction",
    "tableau": "tableau dashboard workbook extract visualization filter",
    "android": "android apk gradle emulator activity intent",
    "vpn": "vpn tunnel certificate gateway split client",
}
GENERIC = ("have you tried restarting it thanks for asking I think the team knows maybe check "
           "the docs again same here we had this last year please share more details good "
           "question following this one let me ask around").split()
CHATTER = ("lunch offsite team meeting friday coffee plans weekend schedule office parking "
           "holiday party welcome newcomers kudos update reminder").split()


def words(rng, vocabulary, n):
    return " ".join(rng.choice(vocabulary) for _ in range(n))


def build(app, args, rng) -> tuple[str, dict[str, set[int]], set[int]]:
    """Writes the corpus; returns (the caller's token, experts by topic, decoy ids)."""
    now = datetime.now(UTC)
    topics = list(TOPICS)[:args.topics]
    with app.app_context():
        owner = people.create_user(None, handle="bench-owner", email="owner@bench.test",
                                   audience="employee")
        caller = people.create_user(None, handle="bench-caller", email="caller@bench.test",
                                    audience="employee")
        _, token = people.issue_token(None, caller.id, "bench")

        def person(handle):
            return people.create_user(None, handle=handle, email=f"{handle}@bench.test",
                                      audience="employee").id
        experts = {t: {person(f"{t}-expert-{i}") for i in range(args.experts)} for t in topics}
        noise = [person(f"noise-{i}") for i in range(args.noise_people)]
        decoys = {person(f"decoy-{i}") for i in range(args.experts)}
        everyone = [i for group in experts.values() for i in group] + noise

        def community(slug, visibility):
            row = Community(slug=slug, name=slug, purpose="benchmark", visibility=visibility,
                            created_by_id=owner.id)
            db.session.add(row)
            db.session.flush()
            db.session.add(CommunityAudience(community_id=row.id, audience="employee"))
            db.session.add(Membership(community_id=row.id, user_id=owner.id, role="owner",
                                      status="active"))
            return row.id
        public = [community(f"bench-{i}", "open") for i in range(3)]
        private = community("bench-private", "private")
        db.session.commit()

        def when():
            return now - timedelta(days=rng.uniform(0, 730))

        def thread(community_id, author, kind, title, body, tag, created):
            row = Thread(community_id=community_id, author_id=author, kind=kind, title=title,
                         body=body, status="open", created_at=created, updated_at=created,
                         last_activity_at=created)
            db.session.add(row)
            db.session.flush()
            if tag:
                db.session.add(ThreadTag(thread_id=row.id, tag=tag))
            return row

        def reply(row, author, body, accept, created):
            post = Post(thread_id=row.id, author_id=author, body=body, created_at=created,
                        updated_at=created)
            db.session.add(post)
            db.session.flush()
            row.reply_count += 1
            if accept and row.accepted_post_id is None:
                row.accepted_post_id, row.status = post.id, "answered"

        total = len(topics) * args.questions + args.questions * 2
        with click.progressbar(length=total, label="building corpus", show_pos=True) as bar:
            for topic in topics:
                vocabulary = TOPICS[topic].split()
                for _ in range(args.questions):
                    created = when()
                    row = thread(rng.choice(public), rng.choice(everyone), "question",
                                 f"{topic} {words(rng, vocabulary, 3)}?",
                                 f"How do we handle {words(rng, vocabulary, 5)} here?",
                                 topic if rng.random() < 0.5 else None, created)
                    replies = [(e, True) for e in rng.sample(sorted(experts[topic]),
                                                             rng.randint(1, 2))]
                    replies += [(n, False) for n in rng.sample(noise, rng.randint(1, 3))]
                    rng.shuffle(replies)
                    for author, expert in replies:
                        later = created + timedelta(hours=rng.uniform(1, 72))
                        if expert:
                            body = f"Use the {words(rng, vocabulary, 6)} approach, it works."
                        elif rng.random() < 0.33:
                            body = f"{words(rng, GENERIC, 6)} {rng.choice(vocabulary)}"
                        else:
                            body = words(rng, GENERIC, 8)
                        reply(row, author, body, rng.random() < (0.6 if expert else 0.1), later)
                    # Experts of other topics chat here too.
                    other = rng.choice([t for t in topics if t != topic])
                    reply(row, rng.choice(sorted(experts[other])), words(rng, GENERIC, 6), False,
                          created + timedelta(hours=80))
                    # Decoys answer every topic, in the private community only.
                    secret = thread(private, owner.id, "question", f"{topic} private question",
                                    f"{words(rng, vocabulary, 5)}", topic, created)
                    for decoy in decoys:
                        reply(secret, decoy, f"{words(rng, vocabulary, 6)}", True, created)
                    bar.update(1)
                db.session.commit()
            for _ in range(args.questions * 2):
                created = when()
                row = thread(rng.choice(public), rng.choice(noise), "discussion",
                             words(rng, CHATTER, 4),
                             f"{words(rng, CHATTER, 8)} {rng.choice(rng.choice(list(TOPICS.values())).split())}",
                             None, created)
                for author in rng.sample(noise, 4):
                    reply(row, author, f"{words(rng, CHATTER, 5)} {rng.choice(topics)}", False,
                          created + timedelta(hours=2))
                bar.update(1)
            db.session.commit()
        return token, experts, decoys


def measure(client, token, experts, decoys, label) -> None:
    precisions, reciprocal_ranks, latencies = [], [], []
    decoy_seen = 0
    for topic, truth in experts.items():
        started = wallclock.perf_counter()
        response = client.get("/api/v1/experts", query_string={"q": topic, "limit": 10},
                              headers={"Authorization": f"Bearer {token}"})
        latencies.append((wallclock.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        ranked = [item["user"]["id"] for item in body["items"]]
        decoy_seen += len(decoys & set(ranked))
        precisions.append(len(truth & set(ranked[:5])) / 5)
        first = next((rank for rank, user in enumerate(ranked, 1) if user in truth), None)
        reciprocal_ranks.append(1 / first if first else 0.0)
        print(f"  {label:13} {topic:11} P@5 {precisions[-1]:.2f}  first expert at "
              f"{first}  ({latencies[-1]:.0f} ms, engine {body['engine']})")
    latencies.sort()
    print(f"{label}: precision@5 {sum(precisions) / len(precisions):.3f}  "
          f"MRR {sum(reciprocal_ranks) / len(reciprocal_ranks):.3f}  over {len(precisions)} topics; "
          f"hidden decoys shown: {decoy_seen}; median latency {latencies[len(latencies) // 2]:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topics", type=int, default=12)
    parser.add_argument("--experts", type=int, default=5)
    parser.add_argument("--noise-people", type=int, default=80)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--es", help="Elasticsearch URL: also measure the Elasticsearch engine")
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    directory = tempfile.mkdtemp(prefix="experts-bench-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database or f"sqlite:///{directory}/b.db",
                      "AUTO_MIGRATE": True, "ELASTICSEARCH_URL": None,
                      "SEARCH_SYNC_IN_PROCESS": False,
                      "SEARCH_INDEX_PREFIX": f"experts-bench-{args.seed}"})
    token, experts, decoys = build(app, args, rng)
    client = app.test_client()
    measure(client, token, experts, decoys, "database")
    if args.es:
        from search import reindex
        app.config["ELASTICSEARCH_URL"] = args.es
        from search import client as search_client
        with app.app_context():
            reindex.reindex(app)
            for _ in range(3):  # warm the cold node's caches (a first timeout opens the breaker)
                client.get("/api/v1/experts", query_string={"q": "warm up"},
                           headers={"Authorization": f"Bearer {token}"})
                search_client.breaker(app).reset()
        measure(client, token, experts, decoys, "elasticsearch")


if __name__ == "__main__":
    main()
