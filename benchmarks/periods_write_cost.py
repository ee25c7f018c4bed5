"""What the stored periods' triggers (migration 0030: insight_weeks, insight_day_totals, kept from
insight_days) add to writes: a reply, a new thread and a post's deletion, each flushed through
the ORM (the roll-up's session events write the day rows, the triggers the periods) and rolled
back, with the triggers acting and skipped (`SET LOCAL collab.insights_bulk = 'on'`: the trigger
functions return at once), alternating, against an already seeded PostgreSQL database.

    python benchmarks/periods_write_cost.py --database postgresql+psycopg://... [--repeat 60]

Prints the median and p90 wall time (ms) of each write up to its flush; nothing is committed. The
number of statements the application sends does not change (the triggers run inside them).
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from collab import create_app  # noqa: E402
from collab import time as clock  # noqa: E402
from collab.communities.models import Community, Membership  # noqa: E402
from collab.db import db  # noqa: E402
from collab.people.models import User  # noqa: E402
from collab.threads import service as threads  # noqa: E402
from collab.threads.models import Post, Thread  # noqa: E402


def _write(kind: str, actor: User, community: Community, thread_id: int, post_id: int) -> float:
    started = time.perf_counter()
    if kind == "thread":  # add_thread flushes
        threads.add_thread(actor, community, {"kind": "discussion", "title": "Write cost probe",
                                              "body": "Probe.", "tags": []})
    elif kind == "reply":
        db.session.add(Post(thread_id=thread_id, author_id=actor.id, body="Probe."))
    else:
        db.session.get(Post, post_id).deleted_at = clock.now()
    db.session.flush()
    elapsed = (time.perf_counter() - started) * 1000
    db.session.rollback()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "AUTO_MIGRATE": False,
                      "ELASTICSEARCH_URL": None, "SEARCH_OUTBOX": False})
    kinds = ("reply", "thread", "delete")
    with app.app_context():
        actor_id, community_id = db.session.execute(
            select(Membership.user_id, Membership.community_id)
            .where(Membership.status == "active").limit(1)).one()
        thread_id = db.session.scalar(select(Thread.id).where(
            Thread.community_id == community_id, Thread.deleted_at.is_(None))
            .order_by(Thread.id.desc()).limit(1))
        post_id = db.session.scalar(select(Post.id).where(Post.deleted_at.is_(None))
                                    .order_by(Post.id.desc()).limit(1))
        times = {(kind, on): [] for kind in kinds for on in (True, False)}
        for i in range(args.repeat * 2 + 2):
            on = i % 2 == 0
            for kind in kinds:
                actor = db.session.get(User, actor_id)
                community = db.session.get(Community, community_id)
                if not on:
                    db.session.execute(text("SET LOCAL collab.insights_bulk = 'on'"))
                elapsed = _write(kind, actor, community, thread_id, post_id)
                if i >= 2:  # warm-up: statement caches
                    times[(kind, on)].append(elapsed)
            if i % 20 == 0:
                print(f"  {i + 1}/{args.repeat * 2 + 2}", file=sys.stderr)
        for kind in kinds:
            line = [kind]
            for on in (True, False):
                values = sorted(times[(kind, on)])
                line.append(f"triggers {'on ' if on else 'off'} median "
                            f"{statistics.median(values):.2f} p90 "
                            f"{values[int(0.9 * (len(values) - 1))]:.2f} ms")
            print(", ".join(line))


if __name__ == "__main__":
    main()
