"""Rising topics, in process: the wall and CPU time of `_rising` (collab/insights/service.py) and
of its parts, organisation-wide and for one community, on Elasticsearch and on the database
fallback, against an already seeded database (benchmarks/insights_benchmark.py). Run it from a
tree to time that tree's code (e.g. main's, extracted with `git archive`, back to back).

    python benchmarks/rising_topics_parts.py --database postgresql+psycopg://... \
        --es http://127.0.0.1:9294 --prefix insbench-1795987021 [--days 90] [--repeat 10]

CPU is this process's (Python and the driver), not the database's or Elasticsearch's; wall
includes their work. Prints the median and the max over --repeat calls after one warm-up.
"""
import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from collab import create_app  # noqa: E402
from collab import time as clock  # noqa: E402
from collab.communities.models import Community  # noqa: E402
from collab.db import db  # noqa: E402
from collab.insights import service  # noqa: E402
from collab.threads.models import Thread  # noqa: E402


def _timed(function, repeat: int) -> tuple[list[float], list[float]]:
    function()  # warm-up: statement caches, memoised samples
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        db.session.rollback()
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--es", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    config = {"SQLALCHEMY_DATABASE_URI": args.database, "AUTO_MIGRATE": False,
              "ELASTICSEARCH_URL": args.es, "SEARCH_INDEX_PREFIX": args.prefix,
              "SEARCH_SYNC_IN_PROCESS": False, "SEARCH_OUTBOX": False}
    print(f"tree {ROOT}; database {args.database.split('@')[-1]}; {args.days} days; "
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
                for name, function in parts.items():
                    walls, cpus = _timed(function, args.repeat)
                    print(f"{engine} {scope:12} {name:18} wall {statistics.median(walls):7.1f} / "
                          f"{max(walls):7.1f}   cpu {statistics.median(cpus):7.1f} / "
                          f"{max(cpus):7.1f}", flush=True)
            result = service._rising(
                [Thread.deleted_at.is_(None), Thread.merged_into_id.is_(None)], None, start, end)
            print(f"{engine} organisation engine={result['engine']} tags="
                  f"{[t['tag'] for t in result['tags']]} terms={[t['term'] for t in result['terms']]}")


if __name__ == "__main__":
    main()
