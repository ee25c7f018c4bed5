"""The freshness state of an accepted answer, computed from the clock (no scheduler).

An accepted answer is checked when it is accepted (from its own creation date) and again whenever
its author or a moderator verifies it. It `needs_review` when it was last checked more than
FRESHNESS_REVIEW_AFTER_DAYS ago and its thread was read within FRESHNESS_READ_WINDOW_DAYS (what
counts as "still in use" is a read: GET /threads/{id}, recorded at most hourly). `obsolete` when
marked so; `fresh` otherwise; no state (null) without an accepted answer. The same two cutoffs
drive the database filter and the Elasticsearch range filter (search/queries.py), so both engines
and the thread payloads agree.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app

from collab import time


class Freshness(StrEnum):
    FRESH = "fresh"
    NEEDS_REVIEW = "needs_review"
    OBSOLETE = "obsolete"


@dataclass(frozen=True)
class Cutoffs:
    checked_before: datetime  # last checked before this: old
    read_since: datetime      # read at or after this: still in use


def cutoffs(now: datetime | None = None) -> Cutoffs:
    now = now or time.now()
    return Cutoffs(now - timedelta(days=current_app.config["FRESHNESS_REVIEW_AFTER_DAYS"]),
                   now - timedelta(days=current_app.config["FRESHNESS_READ_WINDOW_DAYS"]))


def state(thread, limits: Cutoffs | None = None) -> str | None:
    if thread.accepted_post_id is None or thread.answer_checked_at is None:
        return None
    if thread.answer_obsolete_at is not None:
        return Freshness.OBSOLETE.value
    limits = limits or cutoffs()
    if (thread.answer_checked_at < limits.checked_before and thread.last_read_at is not None
            and thread.last_read_at >= limits.read_since):
        return Freshness.NEEDS_REVIEW.value
    return Freshness.FRESH.value


def describe(thread) -> dict | None:
    """What thread payloads carry as `answer_freshness` (null without an accepted answer)."""
    current = state(thread)
    if current is None:
        return None
    verifier = thread.answer_verified_by
    return {"state": current, "checked_at": thread.answer_checked_at,
            "verified_at": thread.answer_verified_at,
            "verified_by": verifier, "obsolete_at": thread.answer_obsolete_at}
