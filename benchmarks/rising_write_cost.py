"""What the tag roll-up (collab/insights/tag_days.py) adds to writes: a new thread with tags and a
reply, each written through the service (add_thread / add_post's flush) and rolled back, with the
roll-up's session event on and off, alternating, against an already seeded database.

    python benchmarks/rising_write_cost.py --database postgresql+psycopg://... [--repeat 60]

Prints the median and p90 wall time (ms) of each write up to its flush, event on and off; nothing is
committed.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from collab import create_app  # noqa: E402
from collab.communities.models import Community, Membership  # noqa: E402
from collab.db import db  # noqa: E402
from collab.insights import tag_days  # noqa: E402
from collab.people.models import User  # noqa: E402
from collab.threads import service as threads  # noqa: E402
from collab.threads.models import Post, Thread  # noqa: E402


def _write(kind: str, actor: User, community: Community, thread_id: int) -> float:
    started = time.perf_counter()
    if kind == "thread":  # add_thread flushes
        threads.add_thread(actor, community, {"kind": "discussion", "title": "Write cost probe",
                                              "body": "Probe.", "tags": ["infra", "outage"]})
    else:
        db.session.add(Post(thread_id=thread_id, author_id=actor.id, body="Probe."))
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
    with app.app_context():
        actor_id, community_id = db.session.execute(
            select(Membership.user_id, Membership.community_id)
            .where(Membership.status == "active").limit(1)).one()
        thread_id = db.session.scalar(select(Thread.id).where(
            Thread.community_id == community_id, Thread.deleted_at.is_(None)).limit(1))
        times = {(kind, on): [] for kind in ("thread", "reply") for on in (True, False)}
        own = {"thread": [], "reply": []}  # the roll-up event's own time in each write
        spent = []

        def timed(session, flush_context):
            started = time.perf_counter()
            tag_days._touched(session, flush_context)
            spent.append((time.perf_counter() - started) * 1000)
        event.remove(Session, "after_flush", tag_days._touched)
        event.listen(Session, "after_flush", timed)
        for i in range(args.repeat * 2 + 2):
            on = i % 2 == 0
            if not on:
                event.remove(Session, "after_flush", timed)
            try:
                for kind in ("thread", "reply"):
                    actor = db.session.get(User, actor_id)
                    community = db.session.get(Community, community_id)
                    spent.clear()
                    elapsed = _write(kind, actor, community, thread_id)
                    if i >= 2:  # warm-up: statement caches
                        times[(kind, on)].append(elapsed)
                        if on:
                            own[kind].append(sum(spent))
            finally:
                if not on:
                    event.listen(Session, "after_flush", timed)
        for (kind, on), values in times.items():
            values.sort()
            print(f"{kind:6} roll-up event {'on ' if on else 'off'}: write median "
                  f"{statistics.median(values):6.2f} ms, p90 {values[int(0.9 * len(values))]:6.2f}"
                  f" ms ({len(values)} writes)")

        for kind, values in own.items():
            values.sort()
            print(f"{kind:6} the roll-up event itself: median {statistics.median(values):6.2f} ms, "
                  f"p90 {values[int(0.9 * len(values))]:6.2f} ms")
        event.remove(Session, "after_flush", timed)
        event.listen(Session, "after_flush", tag_days._touched)


if __name__ == "__main__":
    main()
