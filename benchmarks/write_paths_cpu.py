"""App CPU per write (PUT /threads/{id}/vote, POST /threads/{id}/posts), in process: a figure
the load of a shared machine moves far less than wrk's, to compare two trees of the write paths.

    python3 benchmarks/write_paths_cpu.py --database postgresql+psycopg://postgres@127.0.0.1:54420/collab_api_bench \\
        --writes 400 [--profile vote] [--rounds 3]
    python3 benchmarks/write_paths_cpu.py --database ... --instructions 30   # callgrind, per write
    python3 benchmarks/write_paths_cpu.py --database ... --statements        # one write's SQL

Run it from each tree (it imports `collab` from the tree that holds it) on a database
`benchmarks/api_benchmark.py` seeded. Every request goes through the whole WSGI app (auth, rate
limits, JSON) with the Flask test client, as API tokens of people who may write; each vote flips
the person's vote on an open idea (so every request writes), each reply goes to a thread the person
may reply in. It prints the process's CPU time per write (the app's only: the database's CPU is
another process's) per round, and the best round; `--profile vote|posts` prints cProfile's top
functions (CPU time) of one more round instead. On a shared machine CPU time per write drifts
with the load; `--instructions N` counts the app's instructions per write under callgrind
(instrumented only around N writes of each kind, after a warm-up), which it does not move.
Counters stay exact: these are ordinary writes.
"""
import argparse
import cProfile
import json
import os
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("login sso token expiry mobile offline sync conflict search index relevance release "
         "notes roadmap pricing export import report dashboard audit").split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--writes", type=int, default=400, help="writes per kind per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--profile", choices=("vote", "posts"))
    parser.add_argument("--kinds", default="vote,posts")
    parser.add_argument("--instructions", type=int, metavar="N",
                        help="count the app's instructions per write over N writes of each kind "
                             "under callgrind (a figure the machine's load does not move)")
    parser.add_argument("--callgrind-child", help=argparse.SUPPRESS)
    parser.add_argument("--statements", action="store_true",
                        help="print the SQL statements of one write of each kind, and stop")
    args = parser.parse_args()
    if args.instructions and not args.callgrind_child:
        count_instructions(args)
        return
    sys.path.insert(0, str(ROOT))
    os.environ.update({"COLLAB_ENV": "production", "SECRET_KEY": "write-paths-cpu",
                       "DATABASE_URL": args.database, "AUTO_MIGRATE": "0", "SEARCH_OUTBOX": "on",
                       "SEARCH_SYNC_IN_PROCESS": "0", "WEBHOOKS_DELIVER_IN_PROCESS": "0"})
    from sqlalchemy import text

    from collab import create_app
    from collab.db import db
    from collab.people import service as people

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "AUTO_MIGRATE": False})
    rng = random.Random(7)
    with app.app_context():
        writable = db.session.execute(text(
            "SELECT m.user_id, t.id, t.kind, t.status FROM memberships m "
            "JOIN communities c ON c.id = m.community_id "
            "JOIN threads t ON t.community_id = c.id JOIN users u ON u.id = m.user_id "
            "WHERE m.status = 'active' AND NOT c.archived AND u.handle LIKE 'bench-u%' "
            "AND NOT t.locked AND t.merged_into_id IS NULL AND t.deleted_at IS NULL "
            "AND m.user_id IN (SELECT user_id FROM memberships WHERE status = 'active' "
            "                  ORDER BY user_id LIMIT :people * 40)"),
            {"people": args.people}).all()
        users = sorted({u for u, *_ in writable})
        users = rng.sample(users, min(args.people, len(users)))
        chosen = set(users)
        writable = [row for row in writable if row[0] in chosen]
        tokens = {u: people.issue_token(None, u, "write-paths-cpu")[1] for u in users}
        db.session.commit()
        ideas = [(u, t) for u, t, kind, status in writable
                 if kind == "idea" and status not in ("done", "declined", "duplicate")]
        current = {(u, t): v for u, t, v in db.session.execute(text(
            "SELECT user_id, thread_id, value FROM votes WHERE user_id = ANY(:users)"),
            {"users": users})}
        db.session.remove()
    rng.shuffle(ideas)
    pairs = ideas[:max(args.writes, 50)]
    replies = [(u, t) for u, t, *_ in writable]
    client = app.test_client()

    def vote_requests(count: int):
        for i in range(count):
            user_id, thread_id = pairs[i % len(pairs)]
            value = -current.get((user_id, thread_id), -1)
            current[(user_id, thread_id)] = value
            yield ("PUT", f"/api/v1/threads/{thread_id}/vote", tokens[user_id], {"value": value})

    def post_requests(count: int):
        for _ in range(count):
            user_id, thread_id = rng.choice(replies)
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 30))) + "."
            yield ("POST", f"/api/v1/threads/{thread_id}/posts", tokens[user_id], {"body": body})

    def run(kind: str, count: int) -> float:
        requests = list(vote_requests(count) if kind == "vote" else post_requests(count))
        began = time.process_time()
        for method, path, token, body in requests:
            response = client.open(path, method=method, data=json.dumps(body),
                                   headers={"Authorization": f"Bearer {token}",
                                            "Content-Type": "application/json"})
            if response.status_code not in (200, 201):
                raise SystemExit(f"{method} {path}: {response.status_code} {response.data[:300]}")
        return (time.process_time() - began) * 1000 / count

    kinds = args.kinds.split(",")
    if args.statements:
        from sqlalchemy import event

        sent: list[str] = []
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: sent.append(statement))
        for kind in kinds:
            sent.clear()
            run(kind, 1)
            print(f"{kind}: {len(sent)} statements")
            for statement in sent:
                print("   ", " ".join(statement.split())[:400])
        return
    for kind in kinds:
        run(kind, 30)  # warm-up: statement caches, prepared statements
    if args.callgrind_child:
        pid = str(os.getpid())
        subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=True)
        run(args.callgrind_child, args.instructions)
        subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=True)
        return
    if args.profile:
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        run(args.profile, args.writes)
        profile.disable()
        profile.dump_stats(os.path.join(tempfile.gettempdir(), f"write-paths-{args.profile}.prof"))
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        return
    print(f"tree {ROOT}: app CPU per write, {args.writes} writes per round")
    best = {}
    for round_number in range(args.rounds):
        for kind in kinds:
            per_write = run(kind, args.writes)
            best[kind] = min(best.get(kind, per_write), per_write)
            print(f"  round {round_number + 1} {kind:5s} {per_write:6.2f} ms", flush=True)
    for kind in kinds:
        print(f"  best  {kind:5s} {best[kind]:6.2f} ms CPU per write")


def count_instructions(args) -> None:
    """Each kind in a child under callgrind, instrumented only around its N measured writes."""
    print(f"tree {ROOT}: app instructions per write (callgrind, {args.instructions} writes)")
    workdir = tempfile.mkdtemp(prefix="write-paths-callgrind-")
    for kind in args.kinds.split(","):
        print(f"  {kind}: under callgrind (a few minutes)...", file=sys.stderr, flush=True)
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={workdir}/callgrind.{kind}", sys.executable, __file__,
             "--database", args.database, "--people", str(args.people), "--kinds", kind,
             "--instructions", str(args.instructions), "--callgrind-child", kind],
            capture_output=True, text=True)
        collected = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode or not collected:
            raise SystemExit(f"{kind}: callgrind failed\n{run.stderr[-2000:]}")
        per_write = int(collected.group(1)) / args.instructions
        print(f"  {kind:5s} {per_write / 1e6:6.2f} M instructions per write", flush=True)


if __name__ == "__main__":
    main()
