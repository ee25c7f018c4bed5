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
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import request  # noqa: E402

from collab import create_app  # noqa: E402
from collab import time as clock  # noqa: E402
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


SLUG = "product-ideas"


class Session:
    """Calls the API as one of the session's people; stops at the first refused call."""

    def __init__(self, client, token: str | None):
        self.client, self.token = client, token

    def __call__(self, method, url, expect=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self.client.open(f"/api/v1{url}", method=method, headers=headers, **kwargs)
        if response.status_code >= 400 or (expect and response.status_code != expect):
            raise SystemExit(f"{method} {url}: {response.status_code} "
                             f"{response.get_data(as_text=True)}")
        return response.get_json(silent=True)


# People, tokens, communities and memberships ---------------------------------------------

def people_and_tokens(ada: Session) -> tuple[dict, dict, Session]:
    """Ada (admin) creates Bob, a partner, and gives him a token; returns (ada, bob, as Bob)."""
    me = ada("GET", "/me")
    ada("GET", "/me/tokens")
    bob = ada("POST", "/users", json={"handle": "bob", "email": "bob@example.com",
                                      "audience": "partner", "organization": "acme",
                                      "display_name": "Bob Partner"})
    ada("GET", f"/users/{bob['id']}")
    token = ada("POST", f"/users/{me['id']}/tokens",
                json={"name": "dashboard", "scopes": ["read"], "expires_at": "2030-01-01T00:00:00Z"})
    ada("DELETE", f"/tokens/{token['id']}")
    bobs = ada("POST", f"/users/{bob['id']}/tokens", json={"name": "bob's laptop",
                                                           "scopes": ["read", "write", "moderate"]})
    return me, bob, Session(ada.client, bobs["token"])


def communities(ada: Session, bob: dict, as_bob: Session) -> None:
    """Ada opens a community and invites Bob, who finds the invitation and accepts it."""
    ada("POST", "/communities", json={
        "slug": SLUG, "name": "Product ideas", "purpose": "Ideas for the product.",
        "visibility": "open", "audiences": ["employee", "partner"]})
    ada("GET", "/communities")
    ada("GET", f"/communities/{SLUG}")
    ada("PATCH", f"/communities/{SLUG}", json={"description": "Vote for what we build next."})
    ada("POST", f"/communities/{SLUG}/members", json={"user_id": bob["id"], "role": "member"})
    as_bob("GET", "/me/invitations")
    as_bob("POST", f"/communities/{SLUG}/members", json={})
    ada("GET", f"/communities/{SLUG}/members")
    ada("PATCH", f"/communities/{SLUG}/members/{bob['id']}", json={"role": "moderator"})


# Threads, posts, votes, ideas, search, similarity ------------------------------------------

def content(ada: Session, as_bob: Session) -> dict:
    """Ideas, a question with an accepted answer, votes, status, search and duplicates."""
    idea = ada("POST", f"/communities/{SLUG}/threads", json={
        "kind": "idea", "title": "Export to CSV", "body": "Let us export results.", "tags": ["export"]})
    other = ada("POST", f"/communities/{SLUG}/threads", json={
        "kind": "idea", "title": "CSV export please", "body": "Same idea.", "tags": []})
    question = ada("POST", f"/communities/{SLUG}/threads", json={
        "kind": "question", "title": "How do I export?", "body": "Is there a way?"})
    ada("GET", f"/communities/{SLUG}/threads", query_string={"sort": "top"})
    ada("GET", f"/threads/{idea['id']}")
    ada("PATCH", f"/threads/{idea['id']}", json={"title": "Export results to CSV"})
    post = ada("POST", f"/threads/{question['id']}/posts", json={"body": "Use the export button."})
    ada("GET", f"/threads/{question['id']}/posts")
    ada("GET", f"/posts/{post['id']}")
    ada("PATCH", f"/posts/{post['id']}", json={"body": "Use the Export button (top right)."})
    ada("POST", f"/posts/{post['id']}/accept")
    ada("POST", f"/posts/{post['id']}/obsolete")
    ada("POST", f"/posts/{post['id']}/verify")
    as_bob("PUT", f"/posts/{post['id']}/vote", json={"value": 1})
    as_bob("DELETE", f"/posts/{post['id']}/vote")
    as_bob("PUT", f"/posts/{post['id']}/vote", json={"value": 1})
    ada("PUT", f"/threads/{idea['id']}/vote", json={"value": 1})
    ada("POST", f"/threads/{idea['id']}/status", json={"status": "planned", "note": "Next quarter."})
    ada("GET", f"/threads/{idea['id']}/status")
    ada("GET", "/search", query_string={"q": "export"})
    ada("GET", "/search/suggest", query_string={"q": "exp"})
    ada("GET", "/search/status")
    ada("GET", f"/threads/{idea['id']}/related")
    ada("POST", f"/communities/{SLUG}/ideas/similar", json={"title": "CSV export"})
    ada("POST", f"/communities/{SLUG}/threads/similar",
        json={"title": "Exporting to CSV", "kind": "question"})
    ada("GET", f"/communities/{SLUG}/duplicates", query_string={"threshold": 0.1})
    ada("POST", f"/threads/{other['id']}/merge", json={"into": idea["id"]})
    ada("DELETE", f"/threads/{idea['id']}/vote")
    return {"idea": idea, "question": question, "post": post}


# Challenges: one challenge through every phase, advanced by hand ----------------------------

def challenge(ada: Session, me: dict, as_bob: Session, question: dict) -> None:
    start = clock.now()
    day = timedelta(days=1)
    created = ada("POST", f"/communities/{SLUG}/challenges", json={
        "title": "Halve partner onboarding",
        "brief": "How could we cut onboarding time for partner engineers by half?",
        "audiences": ["employee", "partner"], "tags": ["onboarding"],
        "audience_weights": {"employee": 1, "partner": 2},
        "vote_budget": 10, "max_points_per_idea": 4,
        **{f"{phase}_starts_at": (start + n * day).isoformat() for n, phase in
           enumerate(["submission", "voting", "evaluation", "decided"], start=1)},
        "closes_at": (start + 60 * day).isoformat()})
    url = f"/challenges/{created['id']}"

    def advance(reason: str) -> None:
        ada("POST", f"{url}/phase", json={"action": "advance", "reason": reason})

    ada("GET", f"/communities/{SLUG}/challenges")
    ada("GET", "/challenges", query_string={"community": SLUG})
    ada("GET", url)
    ada("PATCH", url, json={"brief": "How could we cut partner onboarding time by half, "
                                     "without lowering the bar?"})
    criteria = ada("PUT", f"{url}/criteria", json={"criteria": [
        {"name": "Impact", "description": "Hours saved per partner engineer", "weight": 2, "scale": 5},
        {"name": "Effort", "description": "Cheap to build scores high", "weight": 1, "scale": 5}]})
    ada("GET", f"{url}/criteria")
    ada("PUT", f"{url}/evaluators", json={"user_ids": [me["id"]]})
    ada("GET", f"{url}/evaluators")

    advance("The brief is ready.")
    sandbox = ada("POST", f"/communities/{SLUG}/threads", json={
        "kind": "idea", "title": "A ready-made partner sandbox", "body": "One click, all set up.",
        "challenge_id": created["id"]})
    buddy = ada("POST", f"/communities/{SLUG}/threads", json={
        "kind": "idea", "title": "An onboarding buddy", "body": "Pair each partner with us."})
    ada("POST", f"{url}/ideas", json={"thread_id": buddy["id"]})
    ada("PUT", f"/threads/{sandbox['id']}/origin", json={"origin_thread_id": question["id"]})

    advance("Enough ideas.")
    as_bob("PUT", f"{url}/votes/{sandbox['id']}", json={"points": 3})
    ada("PUT", f"{url}/votes/{buddy['id']}", json={"points": 2})
    as_bob("GET", f"{url}/budget")
    ada("GET", f"{url}/ideas")
    ada("GET", f"{url}/results")
    ada("PUT", f"{url}/shortlist", json={"thread_ids": [sandbox["id"], buddy["id"]]})

    advance("Voting is over.")
    ada("PUT", f"{url}/ideas/{sandbox['id']}/scores", json={"scores": [
        {"criterion_id": criteria[0]["id"], "value": 4, "comment": "Saves a day per engineer."},
        {"criterion_id": criteria[1]["id"], "value": 2, "comment": "Needs a new sandbox."}]})
    ada("GET", f"{url}/evaluation")

    advance("The panel has scored.")
    ada("PUT", f"{url}/ideas/{sandbox['id']}/decision", json={
        "decision": "accepted", "rationale": "Highest impact for partners; we staff it in Q3."})
    ada("GET", f"{url}/decisions")
    ada("POST", f"{url}/ideas/{sandbox['id']}/outcomes", json={
        "metric": "Median onboarding days", "baseline": 10, "target": 5, "measured": 6,
        "measured_on": start.date().isoformat(), "note": "After the first two cohorts."})
    ada("GET", f"{url}/outcomes")
    ada("GET", f"{url}/phase-changes")
    ada("GET", f"{url}/report")
    ada("GET", f"/threads/{sandbox['id']}/lineage")


# Safety: moderation flags, concerns, audit --------------------------------------------------

def moderation(ada: Session, as_bob: Session, thread: dict, post: dict) -> None:
    as_bob("POST", f"/threads/{thread['id']}/flags", json={"reason": "Off topic here."})
    as_bob("POST", f"/posts/{post['id']}/flags", json={"reason": "Contains a customer's name."})
    ada("GET", f"/communities/{SLUG}/flags")
    for kind, target in (("threads", thread), ("posts", post)):
        ada("POST", f"/{kind}/{target['id']}/moderation",
            json={"action": "hide", "reason": "Hidden while we check."})
        ada("POST", f"/{kind}/{target['id']}/moderation",
            json={"action": "restore", "reason": "Checked: fine."})


def concerns(ada: Session, me: dict, as_bob: Session, thread: dict) -> None:
    flagged = as_bob("POST", f"/threads/{thread['id']}/concern-flags",
                     json={"reason": "Customers keep asking; nobody answers."})
    as_bob("GET", "/me/concerns")
    ada("GET", f"/communities/{SLUG}/concerns", query_string={"state": "open"})
    concern = flagged["concern"]["id"]
    ada("GET", f"/concerns/{concern}")
    ada("PATCH", f"/concerns/{concern}", json={
        "state": "acknowledged", "assignee_id": me["id"],
        "response_note": "We are on it; an answer follows this week."})


def audit(ada: Session) -> None:
    ada("GET", "/audit", query_string={"limit": 5})
    ada("GET", f"/communities/{SLUG}/audit", query_string={"limit": 5})


# Crowd insight: experts, insights, reputation, digest ---------------------------------------

def insight(ada: Session, me: dict) -> None:
    ada("GET", "/experts", query_string={"q": "export"})
    ada("GET", f"/users/{me['id']}/expertise")
    ada("GET", f"/communities/{SLUG}/insights", query_string={"interval": "week"})
    ada("GET", "/insights", query_string={"interval": "day"})
    ada("GET", f"/communities/{SLUG}/leaderboard", query_string={"period": "month"})
    ada("GET", f"/users/{me['id']}/reputation")
    ada("GET", f"/communities/{SLUG}/digest")


# Integrations: API clients, OAuth, webhooks ------------------------------------------------

def integrations(ada: Session, app) -> dict:
    registered = ada("POST", "/clients", json={
        "name": "CRM sync", "scopes": ["read", "write", "webhooks"],
        "communities": [SLUG], "audience": "employee"})
    ada("GET", "/clients")
    ada("GET", f"/clients/{registered['id']}")
    basic = base64.b64encode(f"{registered['client_id']}:{registered['client_secret']}".encode()).decode()
    Session(ada.client, None)("POST", "/oauth/token", headers={"Authorization": f"Basic {basic}"},
                              data={"grant_type": "client_credentials", "scope": "read write"})
    hook = ada("POST", "/webhooks", json={"url": "http://127.0.0.1:9/collab",
                                          "events": ["thread.created", "post.created"],
                                          "community": SLUG})
    ada("GET", "/webhooks")
    ada("GET", f"/webhooks/{hook['id']}")
    ada("PATCH", f"/webhooks/{hook['id']}", json={"events": ["thread.created"]})
    ping = ada("POST", f"/webhooks/{hook['id']}/ping")
    with app.app_context():
        delivery.drain()  # nothing listens on port 9: the log shows a failed attempt
        db.session.remove()
    ada("GET", f"/webhooks/{hook['id']}/deliveries")
    ada("POST", f"/webhooks/{hook['id']}/deliveries/{ping['id']}/redeliver")
    return {"client": registered, "hook": hook}


# Directory, privacy, and tidying up --------------------------------------------------------

def directory_and_privacy(ada: Session, bob: dict) -> None:
    ada("GET", "/users", query_string={"q": "bo"})
    ada("GET", "/users/by-handle/bob")
    ada("PATCH", f"/users/{bob['id']}", json={"organization": "acme-europe"})
    ada("POST", f"/users/{bob['id']}/deactivate")
    ada("POST", f"/users/{bob['id']}/reactivate")
    ada("GET", "/me/export")
    leaver = ada("POST", "/users", json={"handle": "carl", "email": "carl@example.com",
                                         "audience": "employee", "display_name": "Carl Leaver"})
    ada("DELETE", f"/users/{leaver['id']}")


def tidy_up(ada: Session, bob: dict, made: dict) -> None:
    ada("DELETE", f"/webhooks/{made['hook']['id']}")
    ada("DELETE", f"/posts/{made['post']['id']}")
    ada("DELETE", f"/threads/{made['question']['id']}")
    ada("DELETE", f"/communities/{SLUG}/members/{bob['id']}")
    ada("DELETE", f"/clients/{made['client']['id']}")


def session(app, ada: Session) -> None:
    """The scripted session: each operation's first successful exchange becomes its example."""
    me, bob, as_bob = people_and_tokens(ada)
    communities(ada, bob, as_bob)
    made = content(ada, as_bob)
    challenge(ada, me, as_bob, made["question"])
    moderation(ada, as_bob, made["question"], made["post"])
    concerns(ada, me, as_bob, made["question"])
    audit(ada)
    insight(ada, me)
    made.update(integrations(ada, app))
    directory_and_privacy(ada, bob)
    tidy_up(ada, bob, made)


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
    session(app, Session(app.test_client(), admin_token))

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
