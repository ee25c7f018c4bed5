"""The two stored rankings of threads: `top` (confidence-aware) and `trending` (decayed activity).

Both are stored on the thread (threads.top_score, threads.trending_score) whenever their inputs
change, so list queries sort by an indexed column instead of computing per request.
See docs/ranking.md for the reasoning.
"""
import math
from datetime import UTC, datetime

Z = 1.96  # 95% confidence
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
HALF_LIFE_SECONDS = 2 * 24 * 3600.0

THREAD_CREATED_WEIGHT = 1.0
UPVOTE_WEIGHT = 1.0
REPLY_WEIGHT = 1.0


def wilson_lower_bound(upvotes: int, downvotes: int, z: float = Z) -> float:
    """Lower bound of the up-vote share's confidence interval: few votes rank below many."""
    n = upvotes + downvotes
    if n == 0:
        return 0.0
    share = upvotes / n
    centre = share + z * z / (2 * n)
    margin = z * math.sqrt((share * (1 - share) + z * z / (4 * n)) / n)
    return (centre - margin) / (1 + z * z / n)


def activity_exponent(weight: float, at: datetime) -> float:
    """log2 of an event's weight grown by 2 per half-life since EPOCH (the same for all threads)."""
    return math.log2(weight) + (at - EPOCH).total_seconds() / HALF_LIFE_SECONDS


def logaddexp2(a: float, b: float) -> float:
    """log2(2**a + 2**b) without overflow."""
    return max(a, b) + math.log2(1 + 2 ** -abs(a - b))


def add_activity(trending_score: float, weight: float, at: datetime) -> float:
    """The trending score after an event of `weight` at `at`."""
    return logaddexp2(trending_score, activity_exponent(weight, at))


def initial_trending_score(created_at: datetime) -> float:
    """A new thread starts with one event: its creation."""
    return activity_exponent(THREAD_CREATED_WEIGHT, created_at)
