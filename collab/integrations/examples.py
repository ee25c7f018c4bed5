"""Recorded example requests and responses, merged into each operation of the OpenAPI document.

docs/api-examples.json is written by scripts/api_examples.py from a real session, so every
example is a request the API accepted and the response it gave.
"""
import json
import re
from functools import lru_cache

from config import BASE_DIR

EXAMPLES_FILE = BASE_DIR / "docs" / "api-examples.json"


def operation_key(method: str, rule: str) -> str:
    """`GET /api/v1/threads/{thread_id}` from a Flask rule."""
    path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)
    return f"{method.upper()} {path}"


@lru_cache(maxsize=1)
def recorded() -> dict:
    try:
        return json.loads(EXAMPLES_FILE.read_text())
    except FileNotFoundError:
        return {}


def attach(path: str, method: str, operation: dict) -> None:
    example = recorded().get(f"{method.upper()} {path}")
    if example is None:
        return
    query, body = example["request"]["query"], example["request"]["body"]
    if body is not None and "requestBody" in operation:
        for media in operation["requestBody"].get("content", {}).values():
            media["example"] = body
    if query:
        operation["x-example-query"] = query
    status = str(example["response"]["status"])
    response = operation.setdefault("responses", {}).setdefault(
        status, {"description": "Example response"})
    if example["response"]["body"] is not None:
        for media in response.setdefault("content", {"application/json": {}}).values():
            media["example"] = example["response"]["body"]
