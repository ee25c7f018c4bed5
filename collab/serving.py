"""The Flask application class, trimmed of per-request work an API never needs (issue 13)."""
from flask import Flask
from flask.sessions import SessionInterface


class NoCookieSessions(SessionInterface):
    """Callers authenticate with bearer tokens; nothing reads or writes Flask's cookie session.

    Flask's default opens a signed-cookie session on every request (building its signing
    serializer each time); this one hands Flask its read-only null session instead.
    """

    def open_session(self, app, request):
        return None  # Flask then uses make_null_session(): empty, and never saved

    def save_session(self, app, session, response) -> None:
        return None


class CollabFlask(Flask):
    """Flask, remembering which hooks and views are coroutines.

    Flask asks `inspect.iscoroutinefunction` of every hook and view on every request (a dozen
    times per request here); the answer never changes, so it is kept per function (up to a
    bound: `after_this_request` callbacks are new functions every time).
    """

    KEPT = 4096

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._synchronous: dict = {}
        self.session_interface = NoCookieSessions()

    def ensure_sync(self, func):
        try:
            return self._synchronous[func]
        except KeyError:
            made = super().ensure_sync(func)
            if len(self._synchronous) < self.KEPT:
                self._synchronous[func] = made
            return made
        except TypeError:  # an unhashable callable: ask every time
            return super().ensure_sync(func)
