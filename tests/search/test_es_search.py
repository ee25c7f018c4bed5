"""Search answered by the real Elasticsearch node (every test takes `es_app`: these are the ES ones)."""
import pytest

from tests.search.helpers import (
    API,
    all_pages,
    facet,
    ids,
    join,
    make_post,
    make_thread,
    search,
    sync,
    titles,
    vote,
)

pytestmark = pytest.mark.usefixtures("es_app")


def test_relevance_stemming_typos_title_boost_and_phrases(app, make_user, make_community):
    owner = make_user()
    make_community(owner, "eng")
    make_thread(owner, "eng", title="Configuring single sign-on", body="Okta setup notes.")
    make_thread(owner, "eng", title="Quarterly notes", body="We talked about configuring sign-on.")
    make_thread(owner, "eng", title="Café opening hours", body="The canteen opens at nine.")
    make_thread(owner, "eng", title="Sign in problems", body="single user can not sign on")
    sync(app)
    result = search(owner, q="configure")
    assert result["engine"] == "elasticsearch"
    assert titles(result)[:2] == ["Configuring single sign-on", "Quarterly notes"]  # title boost
    assert titles(search(owner, q="configurng")) [:1] == ["Configuring single sign-on"]  # typo
    assert titles(search(owner, q="cafe")) == ["Café opening hours"]  # ASCII folding
    phrase = search(owner, q="single sign")
    assert titles(phrase)[0] == "Configuring single sign-on"  # adjacent beats scattered
    assert titles(search(owner, q='"single sign"')) == ["Configuring single sign-on"]
    assert "Quarterly notes" not in titles(search(owner, q="configuring -quarterly"))
    highlight = search(owner, q="okta")["items"][0]["highlight"]
    assert highlight["body"] == ["<mark>Okta</mark> setup notes."]


def test_crowd_signals_lift_equal_text(app, make_user, make_community):
    owner = make_user()
    make_community(owner, "ideas")
    quiet = make_thread(owner, "ideas", kind="idea", title="Offline mode", body="Work offline.")
    loved = make_thread(owner, "ideas", kind="idea", title="Offline mode", body="Work offline.")
    for _ in range(6):
        voter = make_user()
        join(voter, "ideas")
        vote(voter, loved["id"], 1)
    sync(app)
    result = search(owner, q="offline")
    assert [i["thread"]["id"] for i in result["items"]] == [loved["id"], quiet["id"]]
    assert result["items"][0]["thread"]["upvotes"] == 6
    assert [i["thread"]["id"] for i in search(owner, q="offline", sort="top")["items"]][0] == loved["id"]


def test_one_item_per_thread_with_best_post_and_exact_facets(app, make_user, make_community):
    owner = make_user()
    make_community(owner, "eng", audiences=["employee", "partner"])
    made = []
    for i in range(7):
        thread = make_thread(owner, "eng", kind="idea" if i < 3 else "question",
                             title=f"Kafka topic {i}", body="About kafka.", tags=["kafka"])
        made.append(thread)
        for j in range(i):  # many matching posts still count one thread
            make_post(owner, thread["id"], body=f"kafka reply {i}.{j}")
    reply = make_post(owner, made[0]["id"], body="A rebalancing storm in the consumers.")
    make_thread(owner, "eng", title="Unrelated", body="nothing here")
    replier = make_user("replier", audience="partner")
    join(replier, "eng")
    make_post(replier, made[3]["id"], body="kafka from a partner")
    sync(app)
    result = search(owner, q="kafka", limit=3)
    assert result["total"] == 7  # threads, not posts
    assert len(result["items"]) == 3 and len(set(ids(result))) == 3
    assert facet(result, "kind") == {"idea": 3, "question": 4}
    assert facet(result, "tags") == {"kafka": 7}
    assert facet(result, "community") == {"eng": 7}
    assert facet(result, "audience") == {"employee": 7}
    storm = search(owner, q="rebalancing storm")
    assert ids(storm) == [made[0]["id"]] and storm["total"] == 1
    assert storm["items"][0]["best_post"]["id"] == reply["id"]
    assert "<mark>rebalancing</mark>" in storm["items"][0]["best_post"]["highlight"][0]
    assert search(owner, q="topic")["items"][0]["best_post"] is None  # only the title matched
    assert ids(search(owner, q='"rebalancing storm"')) == [made[0]["id"]]  # phrases in posts
    assert made[0]["id"] not in ids(search(owner, q="kafka -rebalancing"))  # exclusions too
    assert ids(search(owner, q="about consumers")) == [made[0]["id"]]  # words across thread+posts
    by_replier = search(owner, q="kafka", author="replier")  # a post's author finds its thread
    assert ids(by_replier) == [made[3]["id"]] and facet(by_replier, "audience") == {"employee": 1}
    assert ids(search(owner, q="kafka", audience="partner")) == [made[3]["id"]]
    filtered = search(owner, q="kafka", kind="idea")
    assert filtered["total"] == 3 and facet(filtered, "kind") == {"idea": 3}


@pytest.mark.parametrize("sort", ["relevance", "new", "top"])
def test_cursors_walk_every_sort_without_gaps_or_duplicates(app, make_user, make_community, sort):
    owner = make_user()
    make_community(owner, "eng")
    voters = []
    for _ in range(3):
        voters.append(make_user())
        join(voters[-1], "eng")
    made = []
    for i in range(23):
        thread = make_thread(owner, "eng", kind="idea", title=f"Widget report {i % 4}",
                             body="widget numbers " + "widget " * (i % 5))
        made.append(thread["id"])
        for voter in voters[:i % 4]:
            vote(voter, thread["id"], 1)
        if i % 3 == 0:
            make_post(owner, thread["id"], body="more widget detail")
    sync(app)
    first = search(owner, q="widget", sort=sort, limit=4)
    assert first["total"] == 23
    seen = all_pages(owner, q="widget", sort=sort, limit=4)
    assert sorted(seen) == sorted(made) and len(seen) == 23
    if sort == "new":
        assert seen == sorted(made, reverse=True)
    if sort == "top":
        votes = {thread_id: n % 4 for n, thread_id in enumerate(made)}
        assert [votes[i] for i in seen] == sorted(votes.values(), reverse=True)
    whole = search(owner, q="widget", sort=sort, limit=50)
    assert ids(whole) == seen  # pages are slices of one ranking
    response = owner.get(f"{API}/search", query_string={"q": "other", "sort": sort,
                                                        "cursor": first["next_cursor"]})
    assert response.status_code == 422  # a cursor belongs to its search
    for bad in ("eyJmIjoiMCJ9", first["next_cursor"][:-3], "bm9wZQ"):
        response = owner.get(f"{API}/search", query_string={"q": "widget", "sort": sort,
                                                            "cursor": bad})
        assert response.status_code == 422


def test_suggest_related_and_similar_ideas(app, make_user, make_community):
    owner = make_user()
    make_community(owner, "product", name="Product feedback")
    dark = make_thread(owner, "product", kind="idea", title="Dark mode for the dashboard",
                       body="A dark theme would help at night.", tags=["design"])
    make_thread(owner, "product", kind="idea", title="Dark theme on mobile",
                body="Night mode on phones, dark colours.", tags=["design"])
    make_thread(owner, "product", kind="question", title="Is there a dark mode?",
                body="Looking for a dark theme.")
    make_thread(owner, "product", kind="idea", title="Export to CSV", body="Spreadsheets.",
                tags=["data"])
    sync(app)
    suggestions = owner.get(f"{API}/search/suggest", query_string={"q": "da"}).get_json()
    assert suggestions["engine"] == "elasticsearch"
    assert {s["title"] for s in suggestions["titles"]} >= {"Dark mode for the dashboard",
                                                           "Dark theme on mobile"}
    assert [s["tag"] for s in suggestions["tags"]] == ["data"]
    assert owner.get(f"{API}/search/suggest", query_string={"q": "prod"}).get_json()[
        "communities"] == [{"slug": "product", "name": "Product feedback"}]
    related = owner.get(f"{API}/threads/{dark['id']}/related").get_json()
    related_titles = [i["thread"]["title"] for i in related["items"]]
    assert related["engine"] == "elasticsearch"
    assert related_titles[0] in ("Dark theme on mobile", "Is there a dark mode?")
    assert "Dark mode for the dashboard" not in related_titles
    assert related_titles[-1] == "Export to CSV"  # the complete list: the unrelated idea last
    similar = owner.post(f"{API}/communities/product/ideas/similar",
                         json={"title": "Dark mode please", "body": "dark theme at night"}).get_json()
    similar_titles = [i["thread"]["title"] for i in similar["items"]]
    # Both ideas share every word of the draft; BM25 ranks them first, the question not at all.
    assert set(similar_titles[:2]) == {"Dark mode for the dashboard", "Dark theme on mobile"}
    assert "Is there a dark mode?" not in similar_titles  # ideas only


def test_permission_matrix_on_every_search_path(app, make_user, make_community):
    owner = make_user()
    member = make_user()
    partner = make_user(audience="partner", organization="acme")
    other_partner = make_user(audience="partner", organization="globex")
    customer = make_user(audience="customer", organization="acme")
    make_community(owner, "open-eng")
    make_community(owner, "secret", visibility="private")
    make_community(owner, "partners", audiences=["employee", "partner"], organizations=["acme"])
    join(member, "open-eng")
    made = {
        "open-eng": make_thread(owner, "open-eng", kind="idea", title="Roadmap open",
                                body="roadmap", tags=["roadmap"]),
        "secret": make_thread(owner, "secret", kind="idea", title="Roadmap secret",
                              body="roadmap hidden", tags=["roadmap-secret"]),
        "partners": make_thread(owner, "partners", kind="idea", title="Roadmap partners",
                                body="roadmap", tags=["roadmap"]),
    }
    make_post(owner, made["secret"]["id"], body="roadmap secret reply")
    sync(app)
    expected = {owner: {"open-eng", "secret", "partners"}, member: {"open-eng", "partners"},
                partner: {"partners"}, other_partner: set(), customer: set()}
    for caller, visible in expected.items():
        result = search(caller, q="roadmap")
        assert result["engine"] == "elasticsearch"
        assert {i["thread"]["community"] for i in result["items"]} == visible
        assert result["total"] == len(visible)
        assert set(facet(result, "community")) == visible
        for name in ("kind", "status", "audience", "tags"):
            assert sum(facet(result, name).values()) == (len(visible) if name != "tags" else
                                                          sum(facet(result, "tags").values()))
        assert ("roadmap-secret" in facet(result, "tags")) == ("secret" in visible)
        browse = search(caller)  # no words: every visible thread, still filtered
        assert browse["total"] == len(visible)
        secret_only = search(caller, q="hidden")
        assert secret_only["total"] == (1 if "secret" in visible else 0)
        assert not secret_only["items"] or "secret" in visible
        suggestions = caller.get(f"{API}/search/suggest", query_string={"q": "roa"}).get_json()
        assert {s["title"] for s in suggestions["titles"]} == {made[c]["title"] for c in visible}
        assert ("roadmap-secret" in {s["tag"] for s in suggestions["tags"]}) == ("secret" in visible)
        communities = caller.get(f"{API}/search/suggest", query_string={"q": "s"}).get_json()
        assert ("secret" in {c["slug"] for c in communities["communities"]}) == ("secret" in visible)
        for slug, thread in made.items():
            related = caller.get(f"{API}/threads/{thread['id']}/related")
            assert related.status_code == (200 if slug in visible else 404)
            if related.status_code == 200:
                assert {i["thread"]["community"] for i in related.get_json()["items"]} <= visible
            similar = caller.post(f"{API}/communities/{slug}/ideas/similar",
                                  json={"title": "Roadmap", "body": "roadmap"})
            assert similar.status_code == (200 if slug in visible else 404)
        hidden = search(caller, q="roadmap", community="secret")
        assert hidden["total"] == (1 if "secret" in visible else 0)


def test_visibility_changes_apply_on_the_next_request(app, make_user, make_community):
    owner = make_user()
    reader = make_user()
    make_community(owner, "eng")
    make_thread(owner, "eng", title="Incident review", body="What happened.")
    sync(app)
    assert search(reader, q="incident")["total"] == 1
    response = owner.patch(f"{API}/communities/eng", json={"visibility": "private"})
    assert response.status_code == 200
    assert search(reader, q="incident")["total"] == 0  # before any sync: the filter is live
    assert search(reader)["facets"]["community"] == []
    owner.patch(f"{API}/communities/eng", json={"visibility": "open"})
    assert search(reader, q="incident")["total"] == 1


def test_deleted_content_leaves_the_index(app, make_user, make_community):
    owner = make_user()
    make_community(owner, "eng")
    thread = make_thread(owner, "eng", title="Temporary thread", body="ephemeral words")
    post = make_post(owner, thread["id"], body="ephemeral reply")
    sync(app)
    assert search(owner, q="ephemeral")["total"] == 1
    assert owner.delete(f"{API}/posts/{post['id']}").status_code == 204
    sync(app)
    assert search(owner, q="ephemeral")["items"][0]["best_post"] is None
    assert owner.delete(f"{API}/threads/{thread['id']}").status_code == 204
    sync(app)
    assert search(owner, q="ephemeral")["total"] == 0


def test_status_reports_the_index_and_the_backlog(app, make_user, make_community):
    admin = make_user(is_admin=True)
    make_community(admin, "eng")
    make_thread(admin, "eng", title="One", body="one")
    before = admin.get(f"{API}/search/status").get_json()
    assert before["outbox"]["backlog"] >= 1 and before["outbox"]["oldest_age_seconds"] >= 0
    sync(app)
    status = admin.get(f"{API}/search/status").get_json()
    assert status["engine"] == "elasticsearch"
    assert status["index"].startswith(status["alias"] + "-v3-")
    assert status["documents"] == 1 and status["outbox"]["backlog"] == 0
