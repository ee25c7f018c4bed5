"""Where one organisation-wide (or community) insights request spends its time, per part.

Calls `collab.insights.service.organization_insights` (90 days, week then day buckets) as an
admin of an existing database (e.g. the 1M-post copy of benchmarks/insights_benchmark.py) with
Elasticsearch off and rising topics left out (measured by the benchmark), and prints per part the
median and minimum wall time and this process's CPU time (ms). `--tree` runs another checkout's
code (e.g. main's, `git archive HEAD | tar -x -C DIR`) on the same database, for back-to-back
comparisons under the same load. No writes; the database is not migrated.

    python3 benchmarks/insights_parts.py --database postgresql+psycopg://postgres@127.0.0.1:54394/DB
"""
import argparse
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

PARTS = ["_split", "_day_complete_at", "_partial_days", "_activity", "_questions", "_unanswered",
         "_idea_funnel", "_concerns", "_audience_flow"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of a seeded database")
    parser.add_argument("--tree", default=str(Path(__file__).resolve().parents[1]),
                        help="checkout whose code to run (default: this one)")
    parser.add_argument("--rounds", type=int, default=9, help="requests per interval")
    parser.add_argument("--community", help="a community's slug: its view instead of the "
                        "organisation's")
    parser.add_argument("--rising", action="store_true",
                        help="with rising topics (timed as the part `_rising`)")
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    from collab import create_app
    from collab.db import db
    from collab.insights import service
    from collab.people.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "ELASTICSEARCH_URL": None,
                      "SEARCH_OUTBOX": False, "SEARCH_SYNC_IN_PROCESS": False,
                      "AUTO_MIGRATE": False})
    walls, cpus = defaultdict(list), defaultdict(list)
    if args.rising:
        PARTS.append("_rising")
    for name in PARTS:
        if not hasattr(service, name):
            continue
        original = getattr(service, name)

        def timed(*a, _original=original, _name=name, **k):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return _original(*a, **k)
            finally:
                walls[_name].append((time.perf_counter() - wall) * 1000)
                cpus[_name].append((time.process_time() - cpu) * 1000)
        setattr(service, name, timed)
    if not args.rising:
        service._rising = lambda *a, **k: {}
    print(f"code {args.tree}, database {args.database.split('@')[-1]}")
    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.is_admin.is_(True)).limit(1))
        for interval in ("week", "day"):
            walls.clear()
            cpus.clear()
            totals, total_cpus = [], []
            for _ in range(args.rounds):
                now = datetime.now(UTC)
                wall, cpu = time.perf_counter(), time.process_time()
                query = {"interval": interval, "from_": now - timedelta(days=90)}
                if args.community:
                    service.community_insights(admin, args.community, query)
                else:
                    service.organization_insights(admin, query)
                totals.append((time.perf_counter() - wall) * 1000)
                total_cpus.append((time.process_time() - cpu) * 1000)
                db.session.rollback()
            print(f"{args.community or 'organisation'}, {interval} 90 days, "
                  f"{'with' if args.rising else 'without'} rising topics: wall median "
                  f"{statistics.median(totals):.1f} min {min(totals):.1f} ms, process CPU median "
                  f"{statistics.median(total_cpus):.1f} ms")
            for name in PARTS:
                if walls[name]:
                    print(f"  {name:18s} wall median {statistics.median(walls[name]):6.1f} "
                          f"min {min(walls[name]):6.1f}  CPU median "
                          f"{statistics.median(cpus[name]):5.1f}")


if __name__ == "__main__":
    main()
