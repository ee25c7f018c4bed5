"""Domain errors and the one mapping that turns every error into problem+json."""
import logging
from datetime import datetime
from math import ceil

from flask import Flask, Response, json
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

from collab import time
from collab.db import db

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"


class DomainError(Exception):
    """Raised by services; the API layer never builds error responses itself."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str | None = None, errors: dict | None = None,
                 extensions: dict | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.extensions = extensions  # extra problem members, e.g. `retry_at`


class InvalidInput(DomainError):
    status = 422
    slug = "validation-error"
    title = "Invalid input"

    def __init__(self, errors: dict, detail: str | None = None):
        super().__init__(detail or "Some fields are invalid.", errors)


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class TooManyRequests(DomainError):
    """Asked too often or too soon: the answer's `Retry-After` says in how many seconds to ask again."""

    status = 429
    slug = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int, extensions: dict | None = None):
        super().__init__(detail, extensions=extensions)
        self.retry_after = max(1, int(retry_after))


class TooSoon(TooManyRequests):
    """Asked again before a cool-down ended; `retry_at` says when asking is possible again."""

    slug = "too-soon"
    title = "Too soon"

    def __init__(self, detail: str, retry_at: datetime):
        super().__init__(detail, ceil((retry_at - time.now()).total_seconds()),
                         extensions={"retry_at": retry_at.isoformat()})


def problem(status: int, title: str, detail: str, slug: str, errors: dict | None = None,
            extensions: dict | None = None) -> Response:
    body = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    body.update(extensions or {})
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _field_errors(messages: dict) -> dict:
    """webargs nests messages by location (json, query); callers want them by field."""
    merged: dict = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            merged.update(location_messages)
        else:
            merged.setdefault("_schema", []).extend(location_messages)
    return merged


def http_exception_problem(error: HTTPException) -> Response:
    """Werkzeug/webargs aborts (404 route, 405, bad JSON, validation) as problem+json."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    status = error.code or 500
    if messages:
        errors = _field_errors(messages)
        if status == 400:
            return problem(status, "Malformed request", "The request body could not be read.",
                           "malformed-request", errors)
        return problem(status, InvalidInput.title, "Some fields are invalid.",
                       InvalidInput.slug, errors)
    slug = (error.name or "error").lower().replace(" ", "-")
    return problem(status, error.name or "Error", error.description or "", slug)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response:
        db.session.rollback()
        response = problem(error.status, error.title, error.detail, error.slug, error.errors,
                           error.extensions)
        if isinstance(error, TooManyRequests):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError) -> Response:
        db.session.rollback()
        log.info("integrity error: %s", error.orig)
        return problem(409, Conflict.title, "The change conflicts with existing data.", Conflict.slug)

    @app.errorhandler(DataError)
    def _data(error: DataError) -> Response:
        """A value the database refuses (out of range, bad encoding) is the caller's error."""
        db.session.rollback()
        log.info("data error: %s", error.orig)
        return problem(422, InvalidInput.title, "A value is out of range or malformed.",
                       InvalidInput.slug)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        db.session.rollback()
        return http_exception_problem(error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        db.session.rollback()
        log.exception("unhandled error")
        return problem(500, "Internal server error", "An unexpected error occurred.", "internal-error")
