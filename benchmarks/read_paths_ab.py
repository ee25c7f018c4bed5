"""A/B of the read-path changes of issue 13, in process: app and database CPU per request.

Sends one request file of `benchmarks/api_benchmark.py` (its work directory holds them, e.g.
thread.tsv, top.tsv, me.tsv; the tokens are valid on the database it seeded) straight through the
WSGI app, once per variant, the variants alternated round after round in one process:

    python3 benchmarks/read_paths_ab.py --database postgresql+psycopg://postgres@127.0.0.1:54364/collab_api_bench \\
        --requests /tmp/collab-api-bench-XXXX/thread.tsv --count 600 \\
        all nogeneric noauto nofast nogeneric-noauto-nofast

A variant's name switches off: `nogeneric` the generic plans (POSTGRES_PLAN_CACHE_MODE empty),
`noauto` the reads without a transaction (collab.auth.READS_WITHOUT_TRANSACTION), `nofast` the
direct dumps (collab.threads.schemas._DIRECT_DUMPS). App CPU is this process's
`time.process_time`; database CPU is the session's backend's utime+stime from /proc (one
connection: a single thread reuses it). Prints CPU ms per request per variant.

With `--profile N` it profiles the first variant instead (cProfile, CPU time, after a warm-up)
and prints the N functions with the most own and cumulative time: where a request's CPU goes.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def backend_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--requests", required=True, type=Path)
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", metavar="N", type=int, default=0,
                        help="instead: profile the first variant (cProfile), print the top N "
                        "functions by own time and by cumulative time")
    parser.add_argument("variants", nargs="+")
    args = parser.parse_args()
    os.environ.update({"COLLAB_ENV": "production", "SECRET_KEY": "read-paths-ab",
                       "DATABASE_URL": args.database, "AUTO_MIGRATE": "0", "SEARCH_OUTBOX": "on",
                       "SEARCH_SYNC_IN_PROCESS": "0", "WEBHOOKS_DELIVER_IN_PROCESS": "0"})
    from sqlalchemy import text
    from werkzeug.test import EnvironBuilder

    import collab.threads.schemas as thread_schemas
    from collab import auth, create_app
    from collab.db import db

    environs = []
    for line in args.requests.read_text().splitlines()[:args.count]:
        method, target, token, *_ = line.split("\t")
        path, _, query = target.partition("?")
        environs.append(EnvironBuilder(path=path, query_string=query, method=method, headers={
            "Authorization": f"Bearer {token}"}).get_environ())
    fast_dumps = dict(thread_schemas._DIRECT_DUMPS)
    reads = auth.READS_WITHOUT_TRANSACTION
    apps = {}
    for variant in args.variants:
        overrides = {"SQLALCHEMY_DATABASE_URI": args.database, "AUTO_MIGRATE": False}
        if "nogeneric" in variant:
            overrides["POSTGRES_PLAN_CACHE_MODE"] = ""
        apps[variant] = create_app(overrides)

    def run(variant: str, batch: list) -> None:
        auth.READS_WITHOUT_TRANSACTION = frozenset() if "noauto" in variant else reads
        thread_schemas._DIRECT_DUMPS.clear()
        if "nofast" not in variant:
            thread_schemas._DIRECT_DUMPS.update(fast_dumps)
        app = apps[variant]
        for environ in batch:
            status = []
            b"".join(app.wsgi_app(dict(environ), lambda s, h, e=None: status.append(s)))
            if not status[0].startswith("200"):
                raise SystemExit(f"{variant}: {status[0]}")

    if args.profile:
        import cProfile
        import pstats

        variant = args.variants[0]
        run(variant, environs[:300])
        profiler = cProfile.Profile(time.process_time)  # CPU: not the waits on the database
        profiler.runcall(run, variant, environs)
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
        return
    backends = {}
    for variant in args.variants:
        run(variant, environs[:300])  # warm: prepared statements, caches
        with apps[variant].app_context():
            backends[variant] = db.session.scalar(text("SELECT pg_backend_pid()"))
            db.session.remove()
    totals = {variant: [0.0, 0, 0] for variant in args.variants}
    for round_number in range(args.rounds):
        print(f"round {round_number + 1}/{args.rounds}", file=sys.stderr)
        for variant in args.variants:
            began, ticks = time.process_time(), backend_ticks(backends[variant])
            run(variant, environs)
            totals[variant][0] += time.process_time() - began
            totals[variant][1] += backend_ticks(backends[variant]) - ticks
            totals[variant][2] += len(environs)
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    print(f"{args.requests.stem}: CPU ms per request (load average {os.getloadavg()[0]:.1f})")
    for variant, (app_seconds, ticks, count) in totals.items():
        app_ms, db_ms = app_seconds * 1000 / count, ticks * tick_ms / count
        print(f"  {variant:28s} app {app_ms:6.2f}  database {db_ms:5.2f}  total {app_ms + db_ms:6.2f}")


if __name__ == "__main__":
    main()
