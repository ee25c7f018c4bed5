"""Record a real example request and response for every API operation into docs/api-examples.json.

Runs a scripted session against a throwaway SQLite database (database search engine) and keeps,
for each operation, the first successful exchange. The OpenAPI document merges these examples
(collab/integrations/examples.py). Re-run after adding endpoints:

    python scripts/api_examples.py
"""
import base64
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import request  # noqa: E402

from collab import create_app  # noqa: E402
from collab.db import db  # noqa: E402
from collab.integrations.examples import EXAMPLES_FILE, operation_key  # noqa: E402
from collab.integrations.ratelimits import UNTHROTTLED  # noqa: E402
from collab.people import service as people  # noqa: E402
from collab.webhooks import delivery  # noqa: E402

SECRET = re.compile(r"(collab_secret_|collab_|whsec_)[A-Za-z0-9_\-+/=]{20,}")


def _scrub(value):
    """Secrets in examples are shortened so nobody mistakes them for real ones."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return SECRET.sub(lambda m: m.group(1) + "…", value)
    return value


def main() -> None:
    directory = tempfile.mkdtemp()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/x.db",
                      "AUTO_MIGRATE": True, "ELASTICSEARCH_URL": None,
                      "SEARCH_SYNC_IN_PROCESS": False, "WEBHOOKS_DELIVER_IN_PROCESS": False,
                      **UNTHROTTLED})
    examples: dict = {}

    @app.after_request
    def record(response):
        if request.url_rule is None or not request.path.startswith("/api/v1/"):
            return response
        key = operation_key(request.method, request.url_rule.rule)
        if key in examples or response.status_code >= 400:
            return response
        body = request.get_json(silent=True)
        if body is None and request.form:
            body = dict(request.form)
        examples[key] = _scrub({
            "request": {"query": request.query_string.decode() or None, "body": body},
            "response": {"status": response.status_code,
                         "body": response.get_json(silent=True)},
        })
        return response

    with app.app_context():
        admin = people.create_user(None, handle="ada", email="ada@example.com",
                                   audience="employee", display_name="Ada Admin", is_admin=True)
        _, admin_token = people.issue_token(None, admin.id, "setup")
        db.session.remove()
    client = app.test_client()

    def call(method, url, token=admin_token, expect=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = client.open(f"/api/v1{url}", method=method, headers=headers, **kwargs)
        if response.status_code >= 400 or (expect and response.status_code != expect):
            raise SystemExit(f"{method} {url}: {response.status_code} {response.get_data(as_text=True)}")
        return response.get_json(silent=True)

    me = call("GET", "/me")
    call("GET", "/me/tokens")
    bob = call("POST", "/users", json={"handle": "bob", "email": "bob@example.com",
                                       "audience": "partner", "organization": "acme",
                                       "display_name": "Bob Partner"})
    call("GET", f"/users/{bob['id']}")
    token = call("POST", f"/users/{me['id']}/tokens",
                 json={"name": "dashboard", "scopes": ["read"], "expires_at": "2030-01-01T00:00:00Z"})
    call("DELETE", f"/tokens/{token['id']}")
    call("POST", "/communities", json={
        "slug": "product-ideas", "name": "Product ideas", "purpose": "Ideas for the product.",
        "visibility": "open", "audiences": ["employee", "partner"]})
    call("GET", "/communities")
    call("GET", "/communities/product-ideas")
    call("PATCH", "/communities/product-ideas", json={"description": "Vote for what we build next."})
    call("POST", "/communities/product-ideas/members", json={"user_id": bob["id"], "role": "member"})
    call("GET", "/communities/product-ideas/members")
    call("PATCH", f"/communities/product-ideas/members/{bob['id']}", json={"role": "moderator"})
    idea = call("POST", "/communities/product-ideas/threads", json={
        "kind": "idea", "title": "Export to CSV", "body": "Let us export results.", "tags": ["export"]})
    other = call("POST", "/communities/product-ideas/threads", json={
        "kind": "idea", "title": "CSV export please", "body": "Same idea.", "tags": []})
    question = call("POST", "/communities/product-ideas/threads", json={
        "kind": "question", "title": "How do I export?", "body": "Is there a way?"})
    call("GET", "/communities/product-ideas/threads", query_string={"sort": "top"})
    call("GET", f"/threads/{idea['id']}")
    call("PATCH", f"/threads/{idea['id']}", json={"title": "Export results to CSV"})
    post = call("POST", f"/threads/{question['id']}/posts", json={"body": "Use the export button."})
    call("GET", f"/threads/{question['id']}/posts")
    call("GET", f"/posts/{post['id']}")
    call("PATCH", f"/posts/{post['id']}", json={"body": "Use the Export button (top right)."})
    call("POST", f"/posts/{post['id']}/accept")
    call("PUT", f"/threads/{idea['id']}/vote", json={"value": 1})
    call("POST", f"/threads/{idea['id']}/status", json={"status": "planned", "note": "Next quarter."})
    call("GET", f"/threads/{idea['id']}/status")
    call("GET", "/search", query_string={"q": "export"})
    call("GET", "/search/suggest", query_string={"q": "exp"})
    call("GET", "/search/status")
    call("GET", f"/threads/{idea['id']}/related")
    call("POST", "/communities/product-ideas/ideas/similar", json={"title": "CSV export"})
    call("POST", f"/threads/{other['id']}/merge", json={"into": idea["id"]})
    call("DELETE", f"/threads/{idea['id']}/vote")
    registered = call("POST", "/clients", json={
        "name": "CRM sync", "scopes": ["read", "write", "webhooks"],
        "communities": ["product-ideas"], "audience": "employee"})
    call("GET", "/clients")
    call("GET", f"/clients/{registered['id']}")
    basic = base64.b64encode(f"{registered['client_id']}:{registered['client_secret']}".encode()).decode()
    call("POST", "/oauth/token", token=None, headers={"Authorization": f"Basic {basic}"},
         data={"grant_type": "client_credentials", "scope": "read write"})
    hook = call("POST", "/webhooks", json={"url": "http://127.0.0.1:9/collab",
                                           "events": ["thread.created", "post.created"],
                                           "community": "product-ideas"})
    call("GET", "/webhooks")
    call("GET", f"/webhooks/{hook['id']}")
    call("PATCH", f"/webhooks/{hook['id']}", json={"events": ["thread.created"]})
    ping = call("POST", f"/webhooks/{hook['id']}/ping")
    with app.app_context():
        delivery.drain()  # nothing listens on port 9: the log shows a failed attempt
        db.session.remove()
    call("GET", f"/webhooks/{hook['id']}/deliveries")
    call("POST", f"/webhooks/{hook['id']}/deliveries/{ping['id']}/redeliver")
    call("GET", "/users", query_string={"q": "bo"})
    call("GET", "/users/by-handle/bob")
    call("PATCH", f"/users/{bob['id']}", json={"organization": "acme-europe"})
    call("POST", f"/users/{bob['id']}/deactivate")
    call("POST", f"/users/{bob['id']}/reactivate")
    call("DELETE", f"/webhooks/{hook['id']}")
    call("DELETE", f"/posts/{post['id']}")
    call("DELETE", f"/threads/{question['id']}")
    call("DELETE", f"/communities/product-ideas/members/{bob['id']}")
    call("DELETE", f"/clients/{registered['id']}")

    operations = {operation_key(m, r.rule) for r in app.url_map.iter_rules()
                  if r.rule.startswith("/api/v1/") and "openapi" not in r.rule
                  and not r.rule.startswith("/api/v1/docs")
                  for m in r.methods - {"HEAD", "OPTIONS"}}
    missing = sorted(operations - set(examples))
    EXAMPLES_FILE.write_text(json.dumps(dict(sorted(examples.items())), indent=1) + "\n")
    print(f"recorded {len(examples)} of {len(operations)} operations into {EXAMPLES_FILE}")
    if missing:
        print("no example yet for: " + ", ".join(missing))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
