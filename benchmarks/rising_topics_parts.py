"""Rising topics, in process: the wall and CPU time of `_rising` (collab/insights/service.py) and
of its parts, organisation-wide and for one community, on Elasticsearch and on the database
fallback, against an already seeded database (benchmarks/insights_benchmark.py). `--tree DIR`
times another checkout's code (e.g. main's, extracted with `git archive`), back to back.

    python benchmarks/rising_topics_parts.py --database postgresql+psycopg://... \
        --es http://127.0.0.1:9294 --prefix insbench-1795987021 [--days 90] [--repeat 10] [--tree DIR]

CPU is this process's (Python and the driver); wall includes the database's work. Prints the
median and the max over --repeat calls after one warm-up, and the PostgreSQL backend's CPU per
call (averaged; read from /proc, so a local server only).
"""
import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _backend_seconds(pid: int) -> float | None:
    """utime + stime of a local PostgreSQL backend (None when /proc does not show it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(function, repeat: int) -> tuple[list[float], list[float], float | None]:
    """Wall and this process's CPU per call (ms), and the PostgreSQL backend's CPU per call
    averaged over the calls (ms; its clock ticks are 10 ms, hence the average)."""
    from sqlalchemy import text

    from collab.db import db
    function()  # warm-up: statement caches, memoised samples
    db.session.rollback()
    walls, cpus, backend = [], [], 0.0
    for _ in range(repeat):
        connection = db.session.connection()
        pid = (connection.scalar(text("SELECT pg_backend_pid()"))
               if connection.dialect.name == "postgresql" else None)
        before = _backend_seconds(pid) if pid else None
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        after = _backend_seconds(pid) if pid else None
        backend = None if before is None or after is None or backend is None else \
            backend + after - before
        db.session.rollback()
    return walls, cpus, None if backend is None else backend * 1000 / repeat


def _missed(function):
    """`function` after the words' memos of the samples are emptied (as after a write), the
    per-title words kept: what a request costs when a thread was written since the last one."""
    def call():
        from collab.expertise import service as expertise
        from collab.insights import rising
        for memo in (getattr(rising, "_significant", None),
                     getattr(expertise, "_document_frequency", None)):
            if memo is not None:
                memo.cache_clear()
        return function()
    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--es", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--tree", default=str(ROOT),
                        help="checkout whose code to run (default: this one)")
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    from sqlalchemy import select

    from collab import create_app
    from collab import time as clock
    from collab.communities.models import Community
    from collab.db import db
    from collab.insights import service
    from collab.threads.models import Thread
    config = {"SQLALCHEMY_DATABASE_URI": args.database, "AUTO_MIGRATE": False,
              "ELASTICSEARCH_URL": args.es, "SEARCH_INDEX_PREFIX": args.prefix,
              "SEARCH_SYNC_IN_PROCESS": False, "SEARCH_OUTBOX": False}
    print(f"tree {args.tree}; database {args.database.split('@')[-1]}; {args.days} days; "
          f"median / max of {args.repeat} ms")
    for engine, app in (("ES", create_app(config)),
                        ("DB", create_app({**config, "ELASTICSEARCH_URL": None}))):
        with app.app_context():
            end = clock.now()
            start = end - timedelta(days=args.days)
            first = db.session.scalar(select(Community.id).order_by(Community.id).limit(1))
            for scope, community_ids in (("organisation", None), ("community", [first])):
                live = [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)]
                if community_ids is not None:
                    live.append(Thread.community_id.in_(community_ids))
                parts = {"_rising (whole)": lambda: service._rising(live, community_ids, start, end)}
                if engine == "DB":
                    parts["_database_rising"] = lambda: service._database_rising(
                        live, start, end) if "community_ids" not in \
                        service._database_rising.__code__.co_varnames else \
                        service._database_rising(live, community_ids, start, end)
                if hasattr(service, "_rising_words"):
                    code = service._rising_words.__code__
                    names = code.co_varnames[:code.co_argcount]
                    parts["_rising_words"] = (
                        (lambda: service._rising_words(community_ids, start, end))
                        if names[0] == "community_ids"
                        else (lambda: service._rising_words(live, community_ids, start, end))
                        if "community_ids" in names
                        else (lambda: service._rising_words(live, start, end)))
                if hasattr(service, "_rising_words"):
                    parts["_rising_words (miss)"] = _missed(parts["_rising_words"])
                for name, function in parts.items():
                    walls, cpus, backend = _timed(function, args.repeat)
                    print(f"{engine} {scope:12} {name:18} wall {statistics.median(walls):7.1f} / "
                          f"{max(walls):7.1f}   cpu {statistics.median(cpus):7.1f} / "
                          f"{max(cpus):7.1f}   PostgreSQL cpu "
                          f"{'-' if backend is None else f'{backend:.1f}'}", flush=True)
            result = service._rising(
                [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)], None, start, end)
            print(f"{engine} organisation engine={result['engine']} tags="
                  f"{[t['tag'] for t in result['tags']]} terms={[t['term'] for t in result['terms']]}")


if __name__ == "__main__":
    main()
