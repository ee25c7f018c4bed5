"""Command-line bootstrap: `users create` and `seed demo`."""


def test_users_create_prints_a_working_token_last(app, client):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--handle", "ada", "--email", "ada@example.com",
        "--audience", "employee", "--admin"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["handle"] == "ada" and me["is_admin"] is True


def test_users_create_rejects_bad_input_and_duplicates(app):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["users", "create", "--handle", "Bad Handle", "--email", "x@example.com",
                              "--audience", "employee"])
    assert bad.exit_code != 0 and "handle" in bad.output
    ok = runner.invoke(args=["users", "create", "--handle", "ada", "--email", "ada@example.com",
                             "--audience", "partner", "--organization", "acme"])
    assert ok.exit_code == 0
    again = runner.invoke(args=["users", "create", "--handle", "ada", "--email", "other@example.com",
                                "--audience", "employee"])
    assert again.exit_code != 0 and "taken" in again.output


def test_seed_demo_loads_three_communities_with_content(app, client):
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    tokens = dict(line.split() for line in result.output.splitlines()
                  if line.startswith("  ") and len(line.split()) == 2)

    def get(handle, url):
        return client.get(url, headers={"Authorization": f"Bearer {tokens[handle]}"})

    slugs = {c["slug"] for c in get("ada", "/api/v1/communities").get_json()["items"]}
    assert slugs == {"innovation-lab", "partner-integrations", "customer-advisory"}
    # The partner space is shared with two partner companies only.
    assert get("pat", "/api/v1/communities/partner-integrations").status_code == 200
    assert get("gus", "/api/v1/communities/partner-integrations").status_code == 404
    assert get("pat", "/api/v1/communities/innovation-lab").status_code == 404
    ideas = get("ben", "/api/v1/communities/innovation-lab/threads?kind=idea&sort=top")
    top = ideas.get_json()["items"][0]
    assert top["title"] == "Single sign-on for partner portals" and top["upvotes"] == 3
    assert get("ada", "/api/v1/communities/customer-advisory/threads").get_json()["items"]
    # A challenge in its voting phase, and a decided one whose accepted idea has an outcome.
    phases = {c["title"]: c["phase"] for c in get("pat", "/api/v1/challenges").get_json()["items"]}
    assert phases == {"Halve partner onboarding time": "decided"}
    by_phase = {c["phase"]: c for c in get("ada", "/api/v1/challenges").get_json()["items"]}
    assert set(by_phase) == {"voting", "decided"}
    report = get("pat", f"/api/v1/challenges/{by_phase['decided']['id']}/report").get_json()
    assert [d["decision"] for d in report["decisions"]] == ["accepted", "parked"]
    assert report["outcomes"][0]["measured"] == 6
    assert by_phase["voting"]["counts"]["points"] == 9

    again = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert again.exit_code == 0 and "Skipped" in again.output
