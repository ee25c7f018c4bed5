"""The README's quick start in any order a person would try: create `ada` then seed, seed then
create `ada`, seed twice."""
from sqlalchemy import func, select

from collab.demo import PEOPLE
from collab.db import db
from collab.people.models import User
from collab.threads.models import Thread

README_USER = ["users", "create", "--handle", "ada", "--email", "ada@example.com",
               "--audience", "employee", "--admin"]


def _tokens(output):
    return dict(line.split() for line in output.splitlines()
                if line.startswith("  ") and len(line.split()) == 2)


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(User)),
                db.session.scalar(select(func.count()).select_from(Thread)))


def test_create_ada_then_seed_adopts_her(app, client):
    runner = app.test_cli_runner()
    created = runner.invoke(args=README_USER)
    assert created.exit_code == 0, created.output
    own_token = created.output.strip().splitlines()[-1]
    seeded = runner.invoke(args=["seed", "demo"])
    assert seeded.exit_code == 0, seeded.output
    assert "Skipped creating users that exist" in seeded.output and "ada" in seeded.output
    assert "Demo data loaded." in seeded.output
    # Her own token still works, and she takes part in the demo (she voted on the SSO idea).
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {own_token}"}).get_json()
    assert me["handle"] == "ada" and me["is_admin"] is True
    lab = client.get("/api/v1/communities/innovation-lab/threads?kind=idea&sort=top",
                     headers={"Authorization": f"Bearer {own_token}"}).get_json()["items"]
    assert lab[0]["title"] == "Single sign-on for partner portals" and lab[0]["my_vote"] == 1
    assert _counts(app)[0] == len(PEOPLE)


def test_seed_then_create_ada_gives_a_token_for_the_demo_user(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    created = runner.invoke(args=README_USER)
    assert created.exit_code == 0, created.output
    assert "already exists" in created.output
    token = created.output.strip().splitlines()[-1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["handle"] == "ada" and me["is_admin"] is True
    assert _counts(app)[0] == len(PEOPLE)


def test_create_refuses_an_existing_handle_with_other_details(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    # Same handle and email but not the same audience: not the same person, refused.
    other = runner.invoke(args=["users", "create", "--handle", "ada", "--email", "ada@example.com",
                                "--audience", "customer", "--organization", "contoso"])
    assert other.exit_code != 0 and "already exists" in other.output and "audience" in other.output
    # The demo's ada is an admin; asking for a non-admin is fine (no change), asking for admin of a
    # non-admin is refused rather than silently granted.
    ben = runner.invoke(args=["users", "create", "--handle", "ben", "--email", "ben@example.com",
                              "--audience", "employee", "--admin"])
    assert ben.exit_code != 0 and "admin" in ben.output


def test_seed_twice_says_what_it_skipped_and_succeeds(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    before = _counts(app)
    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0, second.output
    assert "Skipped: the demo communities are already loaded" in second.output
    assert "innovation-lab" in second.output and "ben" in second.output
    assert _counts(app) == before
    # The second run's tokens work (a person who lost the first ones gets new ones).
    token = _tokens(second.output)["pat"]
    assert client.get("/api/v1/communities/partner-integrations",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_seed_refuses_users_that_do_not_fit_before_writing_anything(app):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["users", "create", "--handle", "pat", "--email", "pat@example.com",
                               "--audience", "customer", "--organization", "contoso"])
    assert made.exit_code == 0
    refused = runner.invoke(args=["seed", "demo"])
    assert refused.exit_code != 0 and "'pat' is customer (contoso)" in refused.output
    assert _counts(app) == (1, 0)
