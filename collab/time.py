"""The one clock of the application, so tests can control time."""
from datetime import UTC, datetime


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)
