"""`flask seed demo`: a small realistic data set, created through the public API.

Going through the API (in-process) means the demo data obeys exactly the rules and
validation that real clients meet, and exercises the search outbox like real traffic.
"""
import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from collab.db import db
from collab.people import service as people
from collab.people.models import User

seed_cli = AppGroup("seed", help="Load data sets.")

PEOPLE = [
    # handle, display name, audience, organization, admin
    ("ada", "Ada Lovelace", "employee", None, True),
    ("ben", "Ben Okafor", "employee", None, False),
    ("chloe", "Chloe Martin", "employee", None, False),
    ("dev", "Devi Raman", "employee", None, False),
    ("eli", "Eli Novak", "employee", None, False),
    ("fay", "Fay Osei", "employee", None, False),
    ("pat", "Pat Quinn (Acme)", "partner", "acme", False),
    ("pia", "Pia Novak (Initech)", "partner", "initech", False),
    ("gus", "Gus Hale (Globex)", "partner", "globex", False),
    ("cora", "Cora Diaz (Contoso)", "customer", "contoso", False),
    ("carl", "Carl Berg (Fabrikam)", "customer", "fabrikam", False),
]

COMMUNITIES = [
    ("ben", {"slug": "innovation-lab", "name": "Innovation Lab", "visibility": "open",
             "audiences": ["employee"],
             "purpose": "Turn employees' ideas into products: propose, discuss and vote.",
             "description": "Anyone in the company can propose an idea. The product council "
                            "reviews the top ideas every month."}),
    ("chloe", {"slug": "partner-integrations", "name": "Partner Integrations",
               "visibility": "restricted", "audiences": ["employee", "partner"],
               "organizations": ["acme", "initech"],
               "purpose": "Help integration partners build on our platform and tell us what "
                          "they need from the API."}),
    ("dev", {"slug": "customer-advisory", "name": "Customer Advisory Board",
             "visibility": "private", "audiences": ["employee", "customer"],
             "purpose": "Hear our largest customers early on roadmap and pricing decisions."}),
]


class _Caller:
    def __init__(self, client, token):
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def call(self, method: str, url: str, json=None, expect=(200, 201, 204)):
        response = self.client.open(f"/api/v1{url}", method=method, json=json,
                                    headers=self.headers)
        if response.status_code not in expect:
            raise click.ClickException(f"{method} {url} -> {response.status_code}: "
                                       f"{response.get_data(as_text=True)}")
        return response.get_json(silent=True)


def _thread(caller, slug, kind, title, body, tags=()):
    return caller.call("POST", f"/communities/{slug}/threads",
                       {"kind": kind, "title": title, "body": body, "tags": list(tags)})["id"]


def _reply(caller, thread_id, body, parent_id=None):
    payload = {"body": body} | ({"parent_id": parent_id} if parent_id else {})
    return caller.call("POST", f"/threads/{thread_id}/posts", payload)["id"]


def _concern(caller, slug, thread_id):
    """The id of the concern opened on a thread (the queue is the moderators' view)."""
    items = caller.call("GET", f"/communities/{slug}/concerns?limit=100")["items"]
    return next(item["id"] for item in items if item["thread"]["id"] == thread_id)


@seed_cli.command("demo")
def demo():
    """Employees' innovation lab, a partner space for two companies, a customer advisory board."""
    if db.session.scalar(select(User.id).where(User.handle == "ada")):
        raise click.ClickException("The demo data is already loaded (user 'ada' exists).")
    client = current_app.test_client()
    tokens, ids = {}, {}
    with click.progressbar(PEOPLE, label="people") as bar:
        for handle, name, audience, organization, admin in bar:
            user = people.create_user(None, handle=handle, email=f"{handle}@example.com",
                                      display_name=name, audience=audience,
                                      organization=organization, is_admin=admin)
            ids[handle] = user.id
            tokens[handle] = people.issue_token(None, user.id, "demo")[1]
    as_ = {handle: _Caller(client, token) for handle, token in tokens.items()}

    for owner, payload in COMMUNITIES:
        as_[owner].call("POST", "/communities", payload)
    for handle in ("ada", "chloe", "dev", "eli", "fay"):
        as_[handle].call("POST", "/communities/innovation-lab/members", {})
    for handle in ("pat", "pia", "ben"):
        as_[handle].call("POST", "/communities/partner-integrations/members", {})
        as_["chloe"].call("PATCH", f"/communities/partner-integrations/members/{ids[handle]}",
                          {"status": "active"})
    for handle in ("cora", "carl", "ben"):
        as_["dev"].call("POST", "/communities/customer-advisory/members", {"user_id": ids[handle]})
        as_[handle].call("POST", "/communities/customer-advisory/members", {})
    as_["dev"].call("PATCH", f"/communities/customer-advisory/members/{ids['ben']}",
                    {"role": "moderator"})

    lab = "innovation-lab"
    sso = _thread(as_["chloe"], lab, "idea", "Single sign-on for partner portals",
                  "Partners keep separate passwords for each portal. One identity would cut "
                  "support tickets.", ["identity", "partners"])
    dark = _thread(as_["dev"], lab, "idea", "Dark mode for the mobile app",
                   "Many of us read on the train at night.", ["mobile", "ux"])
    offline = _thread(as_["ada"], lab, "idea", "Offline drafts on mobile",
                      "Write posts without a connection and send them later.", ["mobile"])
    for handle, thread, value in [("ben", sso, 1), ("dev", sso, 1), ("ada", sso, 1),
                                  ("ben", dark, 1), ("chloe", dark, -1), ("ada", offline, 1)]:
        as_[handle].call("PUT", f"/threads/{thread}/vote", {"value": value})
    as_["ben"].call("POST", f"/threads/{sso}/status",
                    {"status": "under_review", "note": "The identity team is sizing it."})
    question = _thread(as_["dev"], lab, "question", "How do we run the design review?",
                       "Is there a template for design reviews?", ["process"])
    answer = _reply(as_["ben"], question, "Yes: copy the template in the handbook, section 4.")
    _reply(as_["chloe"], question, "And book the review room two weeks ahead.", answer)
    as_["dev"].call("POST", f"/posts/{answer}/accept")
    _thread(as_["ben"], lab, "announcement", "Idea council meets on the first Monday",
            "The top five ideas by score are reviewed every month.", ["process"])

    # Crowd insights: a clear expert (ben answers the process questions) and concerns.
    for title, body, text in (
            ("Who approves a design review?", "Do we need a sign-off?",
             "The design review is approved by the area lead; the handbook lists them."),
            ("Design review for small changes?", "Is a design review needed for a bug fix?",
             "No design review for bug fixes; only for new components.")):
        asked = _thread(as_["chloe"], lab, "question", title, body, ["process"])
        as_["chloe"].call("POST", f"/posts/{_reply(as_['ben'], asked, text)}/accept")
    laptops = _thread(as_["dev"], lab, "discussion", "Laptop refresh is late again",
                      "This is unacceptable: the laptop refresh slipped a third time and our "
                      "builds take an hour. Nobody answers the IT tickets.", ["it"])
    as_["ben"].call("PATCH", f"/concerns/{_concern(as_['ben'], lab, laptops)}",
                    {"state": "acknowledged", "assignee_id": ids["ben"],
                     "response_note": "Escalated to IT; new dates by Friday."})
    # A rising topic: five people ask about the mobile app this week (k-anonymity needs five).
    for handle, title in (("ada", "Mobile app login loops"), ("chloe", "Mobile push settings"),
                          ("dev", "Mobile app on tablets"), ("eli", "Mobile offline sync"),
                          ("fay", "Mobile app battery use")):
        asked = _thread(as_[handle], lab, "question", title, "Any advice?", ["mobile"])
        if handle != "fay":
            _reply(as_["ben" if handle != "ada" else "chloe"], asked, "Reply from the mobile team.")
    parking = _thread(as_["ada"], lab, "discussion", "Parking changes next month",
                      "Half the spaces move to the new site.", ["facilities"])
    as_["chloe"].call("POST", f"/threads/{parking}/concern-flags",
                      {"reason": "Colleagues with reduced mobility need the close spaces."})

    partners = "partner-integrations"
    webhooks = _thread(as_["pat"], partners, "question", "Are webhooks retried when we are down?",
                       "Our endpoint was down for an hour; did we lose events?", ["webhooks", "api"])
    retry = _reply(as_["chloe"], webhooks, "Yes: retries with exponential backoff for 24 hours.")
    as_["pat"].call("POST", f"/posts/{retry}/accept")
    bulk = _thread(as_["pia"], partners, "idea", "Bulk export endpoint for community data",
                   "A paginated bulk export would save us thousands of calls a day.", ["api"])
    for handle in ("pat", "pia", "chloe"):
        as_[handle].call("PUT", f"/threads/{bulk}/vote", {"value": 1})
    _thread(as_["chloe"], partners, "discussion", "API rate limits for partners",
            "Tell us which limits hurt your integrations.", ["api"])

    board = "customer-advisory"
    pricing = _thread(as_["cora"], board, "idea", "Usage-based pricing for small teams",
                      "A per-active-user price would let our smaller divisions join.", ["pricing"])
    for handle, value in (("carl", 1), ("cora", 1), ("ben", -1)):
        as_[handle].call("PUT", f"/threads/{pricing}/vote", {"value": value})
    _thread(as_["dev"], board, "discussion", "Roadmap preview: next quarter",
            "What should we prioritise? Your feedback shapes the plan.", ["roadmap"])

    click.echo("Demo data loaded. Tokens (shown once):")
    for handle, token in tokens.items():
        click.echo(f"  {handle:6} {token}")
