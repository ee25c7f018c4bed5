"""Scopes: what a token may ask for, independent of what its user may do.

Each operation requires one scope: reads `read`, changes `write`, unless named below. Scopes
only narrow: a `moderate` token of a plain member moderates nothing; the permission door
still decides. The same table documents every operation's scope in the OpenAPI document.
"""
import copy

from flask import Flask

from collab.integrations import examples

READ, WRITE, MODERATE, ADMIN, WEBHOOKS = "read", "write", "moderate", "admin", "webhooks"
SCOPES = {
    READ: "Read what the caller may see.",
    WRITE: "Create and change content and memberships.",
    MODERATE: "Moderate: idea status, merges, member roles and bans, community settings.",
    ADMIN: "Administer users and API clients.",
    WEBHOOKS: "Manage webhook subscriptions.",
}
ALL_SCOPES = tuple(SCOPES)

# Operations whose scope is not simply read (GET) or write (other methods), by endpoint.
REQUIRED = {
    "ideas.change_status": MODERATE,
    "ideas.merge": MODERATE,
    "communities.update_community": MODERATE,
    "communities.update_member": MODERATE,
    "people.create_user": ADMIN,
    "directory.update_user": ADMIN,
    "directory.deactivate_user": ADMIN,
    "directory.reactivate_user": ADMIN,
    # A similar-ideas lookup is a read sent as POST (the draft is the body).
    "search.similar_ideas": READ,
}
PREFIX_REQUIRED = (("clients.", ADMIN), ("webhooks.", WEBHOOKS))

TOKEN_URL = "/api/v1/oauth/token"
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Replays the first response for 24 h for the same request; another "
                   "request with the same key is a 422.",
}


def required_scope(endpoint: str | None, method: str) -> str:
    if endpoint in REQUIRED:
        return REQUIRED[endpoint]
    for prefix, scope in PREFIX_REQUIRED:
        if endpoint and endpoint.startswith(prefix):
            return scope
    return READ if method in ("GET", "HEAD", "OPTIONS") else WRITE


def parse(scopes: str | None) -> frozenset[str]:
    """A stored scope string; None (a legacy token) holds every scope."""
    return frozenset(ALL_SCOPES) if scopes is None else frozenset(scopes.split())


def document(app: Flask, spec: dict) -> dict:
    """Every operation names its security requirement: a bearer token or OAuth 2, with its scope."""
    spec = copy.deepcopy(spec)  # apispec hands out its own path objects: never change those
    spec.setdefault("components", {}).setdefault("securitySchemes", {})["oauth2"] = {
        "type": "oauth2",
        "description": "Client-credentials grant for registered API clients.",
        "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": SCOPES}},
    }
    spec["components"]["securitySchemes"]["bearerAuth"]["description"] = (
        "A personal token or a client's access token; its scopes are checked per operation.")
    endpoints = {}
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<int:{argument}>", f"{{{argument}}}").replace(
                f"<{argument}>", f"{{{argument}}}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            endpoints[(path, method.lower())] = rule.endpoint
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            endpoint = endpoints.get((path, method))
            if endpoint is None or not isinstance(operation, dict):
                continue
            if path == TOKEN_URL:
                operation["security"] = []
                examples.attach(path, method, operation)
                continue
            scope = required_scope(endpoint, method.upper())
            operation["security"] = [{"bearerAuth": []}, {"oauth2": [scope]}]
            if method == "post":
                operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
            examples.attach(path, method, operation)
            operation["x-required-scope"] = scope
            note = f"Requires scope `{scope}`."
            if note not in operation.get("description", ""):
                operation["description"] = (operation.get("description", "") + "\n\n" + note).strip()
    return spec
