"""EXPLAIN (ANALYZE, BUFFERS) of every statement of one database-engine search (the fallback when
Elasticsearch is not configured): the page with the total and facets (one statement), the highlights and the best posts,
as `collab.search.service` runs them for a caller, with each statement's execution time.

    python3 benchmarks/search_database_explain.py --database postgresql+psycopg://...:54394/search_fts \
        --q latency --freshness needs_review [--plans]

Read-only (EXPLAIN ANALYZE of SELECTs); the caller is the insights benchmark's reader (employee-0).
"""
import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from collab import create_app  # noqa: E402
from collab.db import db  # noqa: E402
from collab.people.models import User  # noqa: E402
from collab.permissions import visible_community_ids  # noqa: E402
from collab.search import service  # noqa: E402
from search import queries  # noqa: E402


def explain(statement, plans: bool) -> float:
    """Runs EXPLAIN (ANALYZE, BUFFERS) of `statement`; returns its execution time in ms."""
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled),
                                      compiled.params).all()
    lines = [row[0] for row in rows]
    if plans:
        print("\n".join("    " + line for line in lines))
    return float(re.search(r"Execution Time: ([0-9.]+)", lines[-1]).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--q", default="latency")
    parser.add_argument("--freshness", choices=["needs_review", "fresh", "obsolete"])
    parser.add_argument("--community", help="a community slug")
    parser.add_argument("--handle", default="employee-0", help="the caller")
    parser.add_argument("--plans", action="store_true", help="print the plans too")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a planner setting for the search's transaction (SET LOCAL), "
                             "after the search's own (collab.search.service.plan_database_search)")
    args = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "AUTO_MIGRATE": False,
                      "ELASTICSEARCH_URL": None, "SEARCH_OUTBOX": False})
    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.handle == args.handle))
        service.plan_database_search()  # as the search's transaction plans
        for setting in args.set:
            name, value = setting.split("=", 1)
            db.session.execute(select(func.set_config(name, value, True)))
        request = {"q": args.q, "freshness": args.freshness, "community": args.community,
                   "sort": "relevance"}
        text_query = queries.parse(args.q)
        filters = service._filters(viewer, request)
        search = queries.database_search(db.session.get_bind().dialect.name, text_query, filters,
                                         visible_community_ids(viewer))
        print(f"q={args.q!r} freshness={args.freshness} community={args.community} "
              f"caller={args.handle}")
        began = time.perf_counter()
        page = queries.database_results(search, "relevance", queries.Page(limit=20),
                                        filters.visible_challenge_ids)
        ids = [row.thread_id for row in db.session.execute(page).all()
               if row.facet == "page"][:20]
        timings = [("page, total and facets", explain(page, args.plans))]
        for name, statement in [("highlights", queries.database_highlights(search, ids)),
                                ("best posts", queries.database_best_posts(search, ids))]:
            if statement is not None:
                timings.append((name, explain(statement, args.plans)))
        for name, ms in timings:
            print(f"  {name:24} {ms:10.1f} ms")
        print(f"  {'sum':24} {sum(ms for _, ms in timings):10.1f} ms "
              f"(wall {time.perf_counter() - began:.1f}s, {len(ids)} threads on the page)")
        db.session.remove()


if __name__ == "__main__":
    main()
