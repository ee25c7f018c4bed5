"""The crowd-insight endpoints are in the OpenAPI document, which stays valid."""
from openapi_spec_validator import validate

PATHS = ("/api/v1/experts", "/api/v1/users/{user_id}/expertise",
         "/api/v1/threads/{thread_id}/concern-flags", "/api/v1/communities/{slug}/concerns",
         "/api/v1/concerns/{concern_id}", "/api/v1/me/concerns",
         "/api/v1/communities/{slug}/insights", "/api/v1/insights",
         "/api/v1/communities/{slug}/leaderboard", "/api/v1/users/{user_id}/reputation",
         "/api/v1/communities/{slug}/digest")


def test_paths_documented(anonymous):
    spec = anonymous.get("/api/v1/openapi.json").get_json()
    validate(spec)
    for path in PATHS:
        assert path in spec["paths"], path
    insights = spec["paths"]["/api/v1/communities/{slug}/insights"]["get"]
    assert {p["name"] for p in insights["parameters"]} >= {"from", "to", "interval"}
    assert "fewer than 5 people" in insights["summary"] + insights.get("description", "")
