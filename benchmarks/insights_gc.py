"""Full garbage collections during organisation-wide insights requests, in process.

Calls `collab.insights.service.organization_insights` (90 days, week buckets, rising topics
included, Elasticsearch off) as an admin of an existing database --requests times and prints each
full (generation 2) collection's duration, the request it fell in, and the requests' p50/p95.
`--freeze create` calls gc.freeze() after the app is created, `--freeze warm` after the first
request (what a gunicorn worker could do once warm): the objects that live as long as the process
are then no longer scanned by full collections. `--tree` runs another checkout's code.

    python3 benchmarks/insights_gc.py --database postgresql+psycopg://postgres@127.0.0.1:54394/DB \
        [--requests 41] [--freeze none|create|warm] [--tree DIR]
"""
import argparse
import gc
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of a seeded database")
    parser.add_argument("--tree", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--requests", type=int, default=41)
    parser.add_argument("--freeze", choices=("none", "create", "warm"), default="none")
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    from collab import create_app
    from collab.db import db
    from collab.insights import service
    from collab.people.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "ELASTICSEARCH_URL": None,
                      "SEARCH_OUTBOX": False, "SEARCH_SYNC_IN_PROCESS": False,
                      "AUTO_MIGRATE": False})
    if args.freeze == "create":
        gc.freeze()
    collections = []

    def timed(phase, info):
        if phase == "start":
            collections.append([info["generation"], time.perf_counter()])
        else:
            collections[-1][1] = (time.perf_counter() - collections[-1][1]) * 1000
    gc.callbacks.append(timed)
    walls, full = [], []
    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.is_admin.is_(True)).limit(1))
        for number in range(args.requests):
            collections.clear()
            wall = time.perf_counter()
            service.organization_insights(admin, {
                "interval": "week", "from_": datetime.now(UTC) - timedelta(days=90)})
            db.session.rollback()
            walls.append((time.perf_counter() - wall) * 1000)
            if number == 0 and args.freeze == "warm":
                gc.freeze()
            for generation, ms in collections:
                if generation == 2 and number:
                    full.append(ms)
                    print(f"request {number}: {walls[-1]:.0f} ms, a full collection of "
                          f"{ms:.0f} ms", flush=True)
    gc.callbacks.remove(timed)
    measured = sorted(walls[1:])
    print(f"code {args.tree}, freeze {args.freeze}: {len(measured)} requests after the first, "
          f"p50 {measured[len(measured) // 2]:.0f} ms, p95 "
          f"{measured[min(len(measured) - 1, int(len(measured) * 0.95))]:.0f} ms; "
          f"{len(full)} full collections, {sum(full):.0f} ms in all; objects tracked "
          f"{len(gc.get_objects())}, frozen {gc.get_freeze_count()}")


if __name__ == "__main__":
    main()
