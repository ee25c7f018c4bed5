"""The one JSON body parser: size, depth, number and text limits before any schema sees the body.

Every request body reaches the schemas through here (collab.blueprints' parser), so a limit set
once holds for every endpoint. The size limit is Flask's MAX_CONTENT_LENGTH (413, also for
streamed bodies); too deep a document or too long a number is unreadable (400); NUL characters
and lone surrogates anywhere, keys and nested lists included, are invalid text (422, by field).
"""
import json
import re
from typing import Any

from flask import current_app

from collab.errors import DomainError, InvalidInput

BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class MalformedBody(DomainError):
    status = 400
    slug = "malformed-request"
    title = "Malformed request"


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > current_app.config["JSON_MAX_INT_DIGITS"]:
        raise MalformedBody("A number in the body is too long.",
                            {"json": [f"Numbers have at most "
                                      f"{current_app.config['JSON_MAX_INT_DIGITS']} digits."]})
    return int(digits)


def _refuse_constant(name: str) -> None:
    raise MalformedBody(f"{name} is not JSON.", {"json": [f"{name} is not a JSON value."]})


def _check(document: Any, max_depth: int) -> dict:
    """Depth-first without recursion: the depth limit, and bad text by top-level field."""
    errors: dict = {}
    stack = [(document, 1, None)]
    while stack:
        value, depth, field = stack.pop()
        if depth > max_depth:
            raise MalformedBody("The body is nested too deeply.",
                                {"json": [f"At most {max_depth} levels of nesting."]})
        if isinstance(value, dict):
            for key, item in value.items():
                name = key if field is None else field
                if BAD_TEXT.search(key):
                    errors[name if field is not None else "_schema"] = [
                        "Must not contain NUL characters or lone surrogates."]
                stack.append((item, depth + 1, name))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, field) for item in value)
        elif isinstance(value, str) and BAD_TEXT.search(value):
            errors[field or "_schema"] = ["Must not contain NUL characters or lone surrogates."]
    return errors


def parse(raw: bytes) -> Any:
    """The body as JSON, or a problem: 400 unreadable, 422 invalid text."""
    try:
        text = raw.decode("utf-8")
        document = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
        raise MalformedBody("The request body could not be read.",
                            {"json": ["Invalid JSON body."]}) from None
    errors = _check(document, current_app.config["JSON_MAX_DEPTH"])
    if errors:
        raise InvalidInput(errors)
    return document
