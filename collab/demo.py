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


def _existing_demo_state() -> tuple[dict[str, User], list[str]]:
    """The demo's users that already exist and the demo's communities that already exist.

    A person may have created `ada` first (as the README says), or run the seed before; the seed
    adopts users whose audience and organization fit their role and skips what is loaded."""
    from collab.communities.models import Community

    handles = [person[0] for person in PEOPLE]
    users = {user.handle: user for user in db.session.scalars(select(User).where(User.handle.in_(handles)))}
    slugs = [payload["slug"] for _, payload in COMMUNITIES]
    loaded = list(db.session.scalars(select(Community.slug).where(Community.slug.in_(slugs))))
    return users, sorted(loaded, key=slugs.index)


def _check_adoptable(users: dict[str, User], loaded: list[str]) -> None:
    """Refuses, before writing anything, what the demo cannot build on."""
    misfits = [f"'{handle}' is {users[handle].audience}"
               f"{' (' + users[handle].organization + ')' if users[handle].organization else ''}, "
               f"the demo needs {audience}{' (' + organization + ')' if organization else ''}"
               for handle, _, audience, organization, _ in PEOPLE
               if handle in users and (str(users[handle].audience) != audience
                                       or (users[handle].organization or None) != organization)]
    wanted = {f"{handle}@example.com": handle for handle, *_ in PEOPLE if handle not in users}
    misfits += [f"the email {email} (wanted for '{wanted[email]}') belongs to '{handle}'"
                for handle, email in db.session.execute(select(User.handle, User.email)
                                                        .where(User.email.in_(wanted)))]
    if misfits:
        raise click.ClickException("Existing users do not fit their demo roles: " + "; ".join(misfits)
                                   + ". Rename or remove them, or use another database.")
    if loaded and len(loaded) != len(COMMUNITIES):
        raise click.ClickException(f"Communities {', '.join(loaded)} exist but the rest of the demo does "
                                   "not: they were not made by `seed demo`. Rename them or use another database.")


def _concern(caller, slug, thread_id):
    """The id of the concern opened on a thread (the queue is the moderators' view)."""
    items = caller.call("GET", f"/communities/{slug}/concerns?limit=100")["items"]
    return next(item["id"] for item in items if item["thread"]["id"] == thread_id)


@seed_cli.command("demo")
def demo():
    """Employees' innovation lab, a partner space for two companies, a customer advisory board.

    Safe to run in any order and more than once: existing demo users (e.g. `ada` created with
    `users create`) are used as they are, and a second run skips what is loaded and says so."""
    existing, loaded = _existing_demo_state()
    _check_adoptable(existing, loaded)
    client = current_app.test_client()
    tokens, ids = {}, {}
    with click.progressbar(PEOPLE, label="people") as bar:
        for handle, name, audience, organization, admin in bar:
            user = existing.get(handle) or people.create_user(
                None, handle=handle, email=f"{handle}@example.com", display_name=name,
                audience=audience, organization=organization, is_admin=admin)
            ids[handle] = user.id
            tokens[handle] = people.issue_token(None, user.id, "demo")[1]
    if existing:
        adopted = [handle for handle, *_ in PEOPLE if handle in existing]
        click.echo(f"Skipped creating users that exist (used as they are): {', '.join(adopted)}.")
    if loaded:
        click.echo(f"Skipped: the demo communities are already loaded ({', '.join(loaded)}).")
        _print_tokens(tokens)
        return
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

    _challenges(as_, ids, webhooks)

    click.echo("Demo data loaded.")
    _print_tokens(tokens)


def _print_tokens(tokens: dict[str, str]) -> None:
    click.echo("Tokens (shown once):")
    for handle, token in tokens.items():
        click.echo(f"  {handle:6} {token}")


def _challenges(as_, ids, origin_question):
    """A challenge in its voting phase, and a decided one whose accepted idea has outcomes.

    Phases follow the clock, so the schedules are set around now and moved with recorded
    `advance` steps, as a sponsor would.
    """
    from datetime import timedelta

    from collab import time

    now = time.now()

    def at(**delta):
        return (now + timedelta(**delta)).isoformat()

    def advance(caller, challenge, reason):
        caller.call("POST", f"/challenges/{challenge}/phase", {"action": "advance", "reason": reason})

    partners = "partner-integrations"
    onboarding = as_["chloe"].call("POST", f"/communities/{partners}/challenges", {
        "title": "Halve partner onboarding time",
        "brief": "How could we cut the time a partner engineer needs to ship a first "
                 "integration from ten days to five?",
        "audiences": ["employee", "partner"], "tags": ["onboarding"],
        "audience_weights": {"employee": 1, "partner": 2}, "vote_budget": 10,
        "max_points_per_idea": 5, "submission_starts_at": at(days=-30),
        "voting_starts_at": at(days=1), "evaluation_starts_at": at(days=2),
        "decided_starts_at": at(days=3), "closes_at": at(days=60)})["id"]
    as_["chloe"].call("PUT", f"/challenges/{onboarding}/criteria", {"criteria": [
        {"name": "Impact", "description": "Days saved per partner engineer", "weight": 2,
         "scale": 5},
        {"name": "Effort", "description": "Cheap to build scores high", "weight": 1, "scale": 5}]})
    as_["chloe"].call("PUT", f"/challenges/{onboarding}/evaluators",
                      {"user_ids": [ids["ben"], ids["chloe"]]})
    sandbox = as_["pat"].call("POST", f"/communities/{partners}/threads", {
        "kind": "idea", "title": "A ready-made sandbox tenant per partner",
        "body": "Provision a sandbox with sample data on signup.", "tags": ["onboarding"],
        "challenge_id": onboarding})["id"]
    as_["pat"].call("PUT", f"/threads/{sandbox}/origin", {"origin_thread_id": origin_question})
    videos = as_["ben"].call("POST", f"/communities/{partners}/threads", {
        "kind": "idea", "title": "Short videos for each API area",
        "body": "Five-minute walkthroughs instead of long documents.", "tags": ["onboarding"],
        "challenge_id": onboarding})["id"]
    advance(as_["chloe"], onboarding, "Submission closed early: enough ideas.")
    for handle, thread, points in (("pat", sandbox, 5), ("pia", sandbox, 4), ("ben", videos, 3),
                                   ("pia", videos, 2)):
        as_[handle].call("PUT", f"/challenges/{onboarding}/votes/{thread}", {"points": points})
    as_["chloe"].call("PUT", f"/challenges/{onboarding}/shortlist",
                      {"thread_ids": [sandbox, videos]})
    advance(as_["chloe"], onboarding, "Voting closed: the shortlist goes to the panel.")
    criteria = [c["id"] for c in as_["chloe"].call("GET", f"/challenges/{onboarding}/criteria")]
    for handle, thread, values in (("ben", sandbox, (5, 3)), ("chloe", sandbox, (4, 3)),
                                   ("ben", videos, (3, 4)), ("chloe", videos, (2, 5))):
        as_[handle].call("PUT", f"/challenges/{onboarding}/ideas/{thread}/scores", {"scores": [
            {"criterion_id": c, "value": v, "comment": "Scored against the brief."}
            for c, v in zip(criteria, values)]})
    advance(as_["chloe"], onboarding, "The panel has scored the shortlist.")
    as_["chloe"].call("PUT", f"/challenges/{onboarding}/ideas/{sandbox}/decision", {
        "decision": "accepted",
        "rationale": "Highest impact for partners, and the panel agreed; staffed next quarter."})
    as_["chloe"].call("PUT", f"/challenges/{onboarding}/ideas/{videos}/decision", {
        "decision": "parked", "rationale": "Useful, but after the sandbox ships."})
    as_["chloe"].call("POST", f"/challenges/{onboarding}/ideas/{sandbox}/outcomes", {
        "metric": "Median days to a partner's first integration", "baseline": 10, "target": 5,
        "measured": 6, "measured_on": now.date().isoformat(),
        "note": "First two partner cohorts on the sandbox."})

    lab = "innovation-lab"
    meetings = as_["ben"].call("POST", f"/communities/{lab}/challenges", {
        "title": "Fewer, better meetings",
        "brief": "How could we give every engineer back four hours of meetings a week?",
        "tags": ["process"], "vote_budget": 10, "max_points_per_idea": 4,
        "submission_starts_at": at(days=-14), "voting_starts_at": at(days=1),
        "evaluation_starts_at": at(days=8), "decided_starts_at": at(days=15),
        "closes_at": at(days=45)})["id"]
    no_meetings = as_["dev"].call("POST", f"/communities/{lab}/threads", {
        "kind": "idea", "title": "Meeting-free Wednesdays", "body": "No recurring meetings "
        "on Wednesdays.", "tags": ["process"], "challenge_id": meetings})["id"]
    notes = as_["ada"].call("POST", f"/communities/{lab}/threads", {
        "kind": "idea", "title": "Written updates instead of status meetings",
        "body": "A short written update replaces the weekly status call.", "tags": ["process"],
        "challenge_id": meetings})["id"]
    advance(as_["ben"], meetings, "Submission closed: voting opens a day early.")
    for handle, thread, points in (("chloe", no_meetings, 4), ("chloe", notes, 3),
                                   ("dev", notes, 2)):
        as_[handle].call("PUT", f"/challenges/{meetings}/votes/{thread}", {"points": points})
