"""Related threads, "has this been asked?" and duplicate pairs, on both engines.

Every ranking test runs on the database fallback and on the real Elasticsearch node (`engine`),
on SQLite and PostgreSQL (`app`). The texts are made up here.
"""
import pytest

from tests.api.content import promote
from tests.search.helpers import API, join, make_post, make_thread, sync


pytestmark = pytest.mark.usefixtures("embed_on_write")


@pytest.fixture(params=["database", "elasticsearch"])
def engine(request, app):
    if request.param == "elasticsearch":
        request.getfixturevalue("es_app")
    return request.param


def refresh(app, engine):
    if engine == "elasticsearch":
        sync(app)


def similar(caller, slug, expect=200, **payload):
    response = caller.post(f"{API}/communities/{slug}/threads/similar", json=payload)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def titles(answer) -> list[str]:
    return [item["thread"]["title"] for item in answer["items"]]


def test_every_thread_sharing_a_word_is_ranked_best_first(app, engine, make_user, make_community):
    """No more_like_this cut-off: a thread sharing one word of a long draft is still returned."""
    owner = make_user()
    make_community(owner, "helpdesk")
    make_thread(owner, "helpdesk", kind="question", title="Renewing a residence permit",
                body="How long does the residence permit renewal take at immigration?")
    make_thread(owner, "helpdesk", kind="discussion", title="Permit office hours",
                body="The office opens early.")
    make_thread(owner, "helpdesk", kind="idea", title="Immigration queue app", body="Book a slot.")
    make_thread(owner, "helpdesk", kind="question", title="Where to buy a bicycle", body="Cheap ones.")
    refresh(app, engine)
    answer = similar(owner, "helpdesk", title="Residence permit renewal",
                     body="My residence permit expires soon; what does immigration need for the "
                          "renewal, and how many days does it take?", limit=10)
    assert answer["engine"] == engine
    assert titles(answer)[0] == "Renewing a residence permit"
    # Every thread of the community is ranked; the three sharing a word before the one that does not.
    assert set(titles(answer)[:3]) == {"Renewing a residence permit", "Permit office hours",
                                       "Immigration queue app"}
    assert titles(answer)[3:] == ["Where to buy a bicycle"]
    scores = [item["score"] for item in answer["items"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1] >= 0
    assert len(similar(owner, "helpdesk", title="permit immigration", limit=1)["items"]) == 1


def test_kind_narrows_and_ideas_similar_keeps_ideas_only(app, engine, make_user, make_community):
    owner = make_user()
    make_community(owner, "product")
    make_thread(owner, "product", kind="question", title="Is there a dark mode?", body="Night use.")
    make_thread(owner, "product", kind="idea", title="Dark mode for reports", body="Night use.")
    refresh(app, engine)
    assert set(titles(similar(owner, "product", title="dark mode"))) == {
        "Is there a dark mode?", "Dark mode for reports"}
    assert titles(similar(owner, "product", title="dark mode", kind="question")) == [
        "Is there a dark mode?"]
    ideas = owner.post(f"{API}/communities/product/ideas/similar", json={"title": "dark mode"})
    assert ideas.status_code == 200 and titles(ideas.get_json()) == ["Dark mode for reports"]


def test_related_ranks_the_threads_community_and_replies_count(app, engine, make_user,
                                                                make_community):
    owner = make_user()
    make_community(owner, "cars")
    make_community(owner, "other")
    first = make_thread(owner, "cars", title="Car insurance renewal", body="Which insurer?")
    make_post(owner, first["id"], "Comprehensive cover is worth it.")
    make_thread(owner, "cars", title="Cheapest insurer", body="Comprehensive cover quotes?")
    make_thread(owner, "cars", title="Tyre shops", body="Where to buy tyres?")
    make_thread(owner, "other", title="Car insurance renewal again", body="Which insurer?")
    refresh(app, engine)
    related = owner.get(f"{API}/threads/{first['id']}/related").get_json()
    assert related["engine"] == engine
    assert titles(related) == ["Cheapest insurer", "Tyre shops"]
    everywhere = owner.get(f"{API}/threads/{first['id']}/related",
                           query_string={"scope": "visible", "limit": 10}).get_json()
    assert titles(everywhere)[0] == "Car insurance renewal again"
    assert "Car insurance renewal" not in titles(everywhere)


def test_small_communities_and_empty_drafts(app, engine, make_user, make_community):
    owner = make_user()
    make_community(owner, "tiny")
    only = make_thread(owner, "tiny", title="The only thread", body="Nothing else here.")
    refresh(app, engine)
    assert owner.get(f"{API}/threads/{only['id']}/related").get_json()["items"] == []
    assert similar(owner, "tiny", title="the of and")["items"] == []  # stop words only
    # The complete list, however unrelated: a community of one thread ranks that thread.
    assert titles(similar(owner, "tiny", title="unrelated words")) == ["The only thread"]


def test_nothing_hidden_is_ranked_or_suggested(app, engine, make_user, make_community):
    owner = make_user()
    member = make_user()
    partner = make_user(audience="partner")
    make_community(owner, "open-eng")
    make_community(owner, "secret", visibility="private")
    join(member, "open-eng")
    public = make_thread(owner, "open-eng", title="Roadmap for payroll", body="payroll roadmap")
    hidden = make_thread(owner, "secret", title="Roadmap for payroll (secret)",
                         body="payroll roadmap")
    refresh(app, engine)
    for caller, sees_secret in ((owner, True), (member, False)):
        related = caller.get(f"{API}/threads/{public['id']}/related",
                             query_string={"scope": "visible"}).get_json()
        assert ("Roadmap for payroll (secret)" in titles(related)) == sees_secret
        answer = caller.post(f"{API}/communities/secret/threads/similar",
                             json={"title": "payroll roadmap"})
        assert answer.status_code == (200 if sees_secret else 404)
        assert caller.get(f"{API}/threads/{hidden['id']}/related").status_code == (
            200 if sees_secret else 404)
    # A partner outside the employee audience sees neither community.
    assert partner.post(f"{API}/communities/open-eng/threads/similar",
                        json={"title": "payroll"}).status_code == 404
    assert partner.get(f"{API}/communities/open-eng/duplicates").status_code == 404


def test_bad_input_is_a_422_naming_the_field(app, make_user, make_community):
    owner = make_user()
    make_community(owner, "eng")
    thread = make_thread(owner, "eng")
    assert similar(owner, "eng", expect=422, body="no title")["errors"].keys() == {"title"}
    assert similar(owner, "eng", expect=422, title="x", kind="memo")["errors"].keys() == {"kind"}
    assert similar(owner, "eng", expect=422, title="x", limit=0)["errors"].keys() == {"limit"}
    assert similar(owner, "eng", expect=422, title="x", colour="red")["errors"].keys() == {"colour"}
    bad_scope = owner.get(f"{API}/threads/{thread['id']}/related", query_string={"scope": "all"})
    assert bad_scope.status_code == 422 and bad_scope.get_json()["errors"].keys() == {"scope"}
    bad = owner.get(f"{API}/communities/eng/duplicates", query_string={"threshold": 2})
    assert bad.status_code == 422 and bad.get_json()["errors"].keys() == {"threshold"}
    assert similar(owner, "nowhere", expect=404, title="x")["status"] == 404


def test_duplicates_pairs_for_moderators_ready_to_merge(app, make_user, make_community):
    owner = make_user()
    moderator = make_user()
    member = make_user()
    make_community(owner, "ideas")
    promote(owner, moderator, "ideas")
    join(member, "ideas")
    older = make_thread(owner, "ideas", kind="idea", title="Export the dashboard to CSV",
                        body="Please let us export dashboard tables as CSV files.")
    newer = make_thread(member, "ideas", kind="idea", title="CSV export for dashboard tables",
                        body="We would like to export the dashboard tables to CSV files.")
    make_thread(owner, "ideas", kind="idea", title="Dark mode for the dashboard",
                body="A night theme for the app.")
    make_thread(owner, "ideas", kind="question", title="Export the dashboard to CSV?",
                body="Can I export dashboard tables as CSV files?")  # another kind: no merge
    answer = moderator.get(f"{API}/communities/ideas/duplicates").get_json()
    assert answer["scanned"] == 4
    pairs = [(item["thread"]["id"], item["duplicate_of"]["id"]) for item in answer["items"]]
    assert pairs == [(newer["id"], older["id"])]
    assert 0 < answer["items"][0]["score"] <= 1 and answer["items"][0]["score"] >= answer["threshold"]
    assert member.get(f"{API}/communities/ideas/duplicates").status_code == 403
    everything = moderator.get(f"{API}/communities/ideas/duplicates",
                               query_string={"threshold": 0.0, "limit": 100}).get_json()
    assert len(everything["items"]) > 1
    merged = moderator.post(f"{API}/threads/{newer['id']}/merge", json={"into": older["id"]})
    assert merged.status_code == 200, merged.get_json()
    assert moderator.get(f"{API}/communities/ideas/duplicates").get_json()["items"] == []
