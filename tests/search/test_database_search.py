"""Search answered by the database (no ELASTICSEARCH_URL): SQLite FTS5 and PostgreSQL full text."""
import pytest

from tests.search.helpers import (
    API,
    all_pages,
    facet,
    ids,
    make_post,
    make_thread,
    search,
    titles,
    vote,
)


def test_database_engine_answers_with_stemming_and_the_same_shape(make_user, make_community):
    owner = make_user()
    make_community(owner, "eng")
    make_thread(owner, "eng", title="Configuring single sign-on", body="We configured Okta.",
                tags=["sso"])
    make_thread(owner, "eng", title="Lunch options", body="Pizza on Fridays.")
    result = search(owner, q="configure")
    assert result["engine"] == "database"
    assert titles(result) == ["Configuring single sign-on"]
    assert result["total"] == 1
    item = result["items"][0]
    assert "<mark>" in item["highlight"]["title"][0]
    assert set(result["facets"]) == {"community", "kind", "status", "tags", "audience", "challenge",
                                     "phase"}
    assert facet(result, "tags") == {"sso": 1}
    assert result["next_cursor"] is None


def test_phrase_exclusion_and_best_post(make_user, make_community):
    owner = make_user()
    make_community(owner, "eng")
    first = make_thread(owner, "eng", title="Deploy pipeline", body="The release train leaves daily.")
    make_thread(owner, "eng", title="Train schedules", body="The train to the office is late.")
    post = make_post(owner, first["id"], body="Our pipeline broke on the <b>release</b> train.")
    assert titles(search(owner, q='"release train"')) == ["Deploy pipeline"]
    assert titles(search(owner, q="train -pipeline")) == ["Train schedules"]
    result = search(owner, q="broke")
    assert titles(result) == ["Deploy pipeline"]
    best = result["items"][0]["best_post"]
    assert best["id"] == post["id"]
    assert "<mark>broke</mark>" in best["highlight"][0]
    assert "<b>" not in best["highlight"][0]  # escaped or stripped, never raw HTML


def test_filters_sort_and_cursor(make_user, make_community):
    owner = make_user()
    make_community(owner, "eng")
    made = [make_thread(owner, "eng", kind="question" if i % 2 else "idea",
                        title=f"Widget report {i}", body="widget numbers") for i in range(5)]
    result = search(owner, q="widget", sort="new", limit=2)
    assert [i["thread"]["id"] for i in result["items"]] == [made[4]["id"], made[3]["id"]]
    seen = [i["thread"]["id"] for i in result["items"]]
    cursor = result["next_cursor"]
    while cursor:
        page = search(owner, q="widget", sort="new", limit=2, cursor=cursor)
        seen += [i["thread"]["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert seen == [t["id"] for t in reversed(made)]
    vote(owner, made[2]["id"], 1)
    assert ids(search(owner, q="widget", sort="top"))[0] == made[2]["id"]
    for sort in ("relevance", "top", "new"):  # keyset pages are slices of one ranking
        whole = ids(search(owner, q="widget", sort=sort, limit=50))
        assert all_pages(owner, q="widget", sort=sort, limit=2) == whole
        assert sorted(whole) == sorted(t["id"] for t in made)
    relevance = search(owner, q="widget", limit=3)
    rest = search(owner, q="widget", limit=3, cursor=relevance["next_cursor"])
    assert rest["next_cursor"] is None and len(rest["items"]) == 2
    assert facet(search(owner, q="widget", kind="idea"), "kind") == {"idea": 3}


def test_malformed_requests_are_problems_not_errors(make_user, make_community):
    owner = make_user()
    make_community(owner, "eng")
    for params in ({"q": '"unbalanced'}, {"q": "x" * 501}, {"q": "a", "since": "yesterday"},
                   {"q": "a", "cursor": "not-a-cursor"}, {"q": "a", "sort": "best"},
                   {"q": "a", "limit": 0}, {"q": "a", "since": "2025-02-01", "until": "2025-01-01"},
                   ):
        response = owner.get(f"{API}/search", query_string=params)
        assert response.status_code in (400, 422), (params, response.get_json())
        assert response.mimetype == "application/problem+json"
    other = search(owner, q="a", sort="new")
    response = owner.get(f"{API}/search", query_string={"q": "b", "cursor": "eyJmIjoiMCJ9"})
    assert response.status_code == 422 and other["engine"] == "database"


def test_permission_matrix_on_every_database_path(make_user, make_community):
    owner = make_user()
    partner = make_user(audience="partner", organization="acme")
    stranger = make_user(audience="customer", organization="other")
    make_community(owner, "open-eng")
    make_community(owner, "secret", visibility="private")
    make_community(owner, "partners", audiences=["employee", "partner"], organizations=["acme"])
    make_thread(owner, "open-eng", title="Roadmap open", body="roadmap", tags=["roadmap"])
    secret = make_thread(owner, "secret", title="Roadmap secret", body="roadmap",
                         tags=["roadmap-secret"], kind="idea")
    make_thread(owner, "partners", title="Roadmap partners", body="roadmap", tags=["roadmap"])
    expected = {owner: {"Roadmap open", "Roadmap secret", "Roadmap partners"},
                partner: {"Roadmap partners"}, stranger: set()}
    for caller, visible in expected.items():
        result = search(caller, q="roadmap")
        assert set(titles(result)) == visible
        assert result["total"] == len(visible)
        assert sum(facet(result, "community").values()) == len(visible)
        assert "roadmap-secret" not in facet(result, "tags") or caller is owner
        assert set(facet(result, "community")) == {
            {"Roadmap open": "open-eng", "Roadmap secret": "secret",
             "Roadmap partners": "partners"}[t] for t in visible}
        suggestions = caller.get(f"{API}/search/suggest", query_string={"q": "road"}).get_json()
        assert {s["title"] for s in suggestions["titles"]} == visible
        assert ({s["tag"] for s in suggestions["tags"]} == {"roadmap", "roadmap-secret"}
                if caller is owner else "roadmap-secret" not in {s["tag"] for s in suggestions["tags"]})
        communities = caller.get(f"{API}/search/suggest", query_string={"q": "se"}).get_json()
        assert ("secret" in {c["slug"] for c in communities["communities"]}) == (caller is owner)
        related = caller.get(f"{API}/threads/{secret['id']}/related")
        assert related.status_code == (200 if caller is owner else 404)
        similar = caller.post(f"{API}/communities/secret/ideas/similar",
                              json={"title": "Roadmap", "body": "roadmap"})
        assert similar.status_code == (200 if caller is owner else 404)
        hidden_filter = search(caller, q="roadmap", community="secret")
        assert hidden_filter["total"] == (1 if caller is owner else 0)


@pytest.mark.usefixtures("embed_on_write")
def test_related_and_similar_ideas_from_the_database(make_user, make_community):
    owner = make_user()
    make_community(owner, "product")
    dark = make_thread(owner, "product", kind="idea", title="Dark mode for the dashboard",
                       body="A dark theme would help at night.")
    make_thread(owner, "product", kind="idea", title="Dark theme for mobile",
                body="Night mode on phones.")
    make_thread(owner, "product", kind="question", title="Dark mode question",
                body="Is there a dark mode?")
    make_thread(owner, "product", kind="idea", title="Export to CSV", body="Spreadsheets please.")
    related = owner.get(f"{API}/threads/{dark['id']}/related").get_json()
    related_titles = [i["thread"]["title"] for i in related["items"]]
    assert "Dark theme for mobile" in related_titles and dark["title"] not in related_titles
    assert related_titles[-1] == "Export to CSV"  # the complete list: the unrelated idea last
    similar = owner.post(f"{API}/communities/product/ideas/similar",
                         json={"title": "Dark mode please", "body": "for the night"}).get_json()
    similar_titles = [i["thread"]["title"] for i in similar["items"]]
    assert similar["engine"] == "database"
    assert "Dark mode for the dashboard" in similar_titles
    assert "Dark mode question" not in similar_titles  # ideas only


def test_status_is_for_admins(make_user):
    admin = make_user(is_admin=True)
    member = make_user()
    assert member.get(f"{API}/search/status").status_code == 403
    status = admin.get(f"{API}/search/status").get_json()
    assert status["engine"] == "database" and status["configured"] is False
    assert status["outbox"]["backlog"] >= 0


def test_unknown_search_parameter_is_422(make_user):
    response = make_user().get("/api/v1/search", query_string={"q": "x", "sortt": "new"})
    assert response.status_code == 422
    assert "sortt" in response.get_json()["errors"]
