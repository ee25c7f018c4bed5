"""Instructions per read (service + payload + JSON), counted by callgrind: a figure the load of a
shared machine does not move, to compare two trees of the read paths.

    python3 benchmarks/read_paths_instructions.py --database postgresql+psycopg://postgres@127.0.0.1:54411/collab_api_bench \\
        --thread-ids 3257,14384,1084 top new trending thread

Run it from each tree (it imports `collab` from the tree that holds it). It needs valgrind and a
database `benchmarks/api_benchmark.py` seeded. Per kind, it runs itself twice under callgrind
with instrumentation switched on only around the measured loop (3 and 13 rounds after a warm-up),
and prints the difference per read: the warm-up, imports and start-up cancel out. A round reads
three list pages (communities bench-02, bench-11, bench-35, as a plain employee who sees them)
or the three given threads (each as its author, the session removed after each as a request's
end does). Only the app's instructions: not the pipeline (auth, rate limits), not the database.

The kinds `request-top`, `request-new`, `request-trending`, `request-thread`, `request-me` and
`request-communities` count whole requests instead, pipeline included (WSGI in, hooks,
authentication, rate limits, view, JSON, headers, teardown): a round sends the first three
requests of that file of `--requests`, the work directory of `benchmarks/api_benchmark.py`
(its request files, with tokens valid on the database it seeded).

    python3 benchmarks/read_paths_instructions.py --database ... --requests /tmp/collab-api-bench-XXXX \
        request-top request-thread request-me
"""
import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = (3, 13)


REQUEST_KINDS = ("top", "new", "trending", "thread", "me", "communities")


def measured(database: str, kind: str, rounds: int, thread_ids: list[int],
             requests: str | None = None) -> None:
    """The child: warm up, then run `rounds` rounds with callgrind's instrumentation on."""
    sys.path.insert(0, str(ROOT))
    os.environ.update({"COLLAB_ENV": "production", "SECRET_KEY": "read-paths-instructions",
                       "DATABASE_URL": database, "AUTO_MIGRATE": "0", "SEARCH_OUTBOX": "on",
                       "SEARCH_SYNC_IN_PROCESS": "0", "WEBHOOKS_DELIVER_IN_PROCESS": "0"})
    if kind.startswith("request-"):
        measure(whole_requests(database, Path(requests) / f"{kind.removeprefix('request-')}.tsv"),
                rounds)
        return
    import orjson
    from sqlalchemy import select

    from collab import create_app
    from collab.db import db
    from collab.people.models import User
    from collab.threads import api, service
    from collab.threads.models import Thread
    from collab.threads.schemas import ThreadDetailOut

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "AUTO_MIGRATE": False})
    with app.test_request_context():
        viewer = db.session.scalar(select(User).where(
            User.is_admin.is_(False), User.organization.is_(None)).order_by(User.id).limit(1))
        authors = [db.session.get(Thread, thread_id).author_id for thread_id in thread_ids]
        readers = [(thread_id, db.session.get(User, author))
                   for thread_id, author in zip(thread_ids, authors)]
        page_schema, detail = api.ThreadPage(), ThreadDetailOut()

        def one_round() -> None:
            if kind == "thread":
                for thread_id, reader in readers:
                    orjson.dumps(detail.dump(service.get_thread(reader, thread_id)))
                    db.session.remove()
                return
            for slug in ("bench-02", "bench-11", "bench-35"):
                page = service.list_threads(viewer, slug, {"sort": kind, "limit": 20, "cursor": None})
                orjson.dumps(page_schema.dump(page))

        measure(one_round, rounds)


def whole_requests(database: str, path: Path):
    """A round of whole requests: the first three of a request file, through the WSGI app."""
    from werkzeug.test import EnvironBuilder

    from collab import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "AUTO_MIGRATE": False})
    environs = []
    for line in path.read_text().splitlines()[:3]:
        method, target, token, *_ = line.split("\t")
        target_path, _, query = target.partition("?")
        environs.append(EnvironBuilder(path=target_path, query_string=query, method=method,
                                       headers={"Authorization": f"Bearer {token}"}).get_environ())

    def one_round() -> None:
        for environ in environs:
            status = []
            b"".join(app.wsgi_app(dict(environ), lambda s, h, e=None: status.append(s)))
            if not status[0].startswith("200"):
                raise SystemExit(f"{path.name}: {status[0]}")
    return one_round


def measure(one_round, rounds: int) -> None:
    """Warm up, then `rounds` rounds with callgrind's instrumentation on."""
    for _ in range(5):
        one_round()
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=True)
    for _ in range(rounds):
        one_round()
    subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=True)


def count(database: str, kind: str, rounds: int, thread_ids: list[int], workdir: str,
          requests: str | None) -> int:
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no",
         f"--callgrind-out-file={workdir}/callgrind.{kind}.{rounds}", sys.executable,
         __file__, "--database", database, "--thread-ids", ",".join(map(str, thread_ids)),
         *(["--requests", requests] if requests else []),
         "--child", str(rounds), kind], capture_output=True, text=True)
    collected = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode or not collected:
        raise SystemExit(f"{kind}: callgrind failed\n{run.stderr[-2000:]}")
    return int(collected.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--thread-ids", default="3257,14384,1084")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--requests", help="the work directory of benchmarks/api_benchmark.py "
                        "(its request files), for the request-* kinds")
    parser.add_argument("kinds", nargs="+", choices=(
        "top", "new", "trending", "active", "thread",
        *(f"request-{name}" for name in REQUEST_KINDS)))
    args = parser.parse_args()
    if any(kind.startswith("request-") for kind in args.kinds) and not args.requests:
        parser.error("the request-* kinds need --requests")
    thread_ids = [int(value) for value in args.thread_ids.split(",")]
    if args.child is not None:
        measured(args.database, args.kinds[0], args.child, thread_ids, args.requests)
        return
    import tempfile

    workdir = tempfile.mkdtemp(prefix="read-paths-instructions-")
    print(f"tree {ROOT}; callgrind output in {workdir}")
    for kind in args.kinds:
        print(f"  {kind}: counting ({ROUNDS[0]} and {ROUNDS[1]} rounds, about a minute each)...",
              file=sys.stderr, flush=True)
        low, high = (count(args.database, kind, rounds, thread_ids, workdir, args.requests)
                     for rounds in ROUNDS)
        per_read = (high - low) / ((ROUNDS[1] - ROUNDS[0]) * 3)
        print(f"  {kind:9s} {per_read / 1e6:6.2f} M instructions per read", flush=True)


if __name__ == "__main__":
    main()
