"""Expertise at scale on Elasticsearch: the same thread-level match and newest-threads sample
as the database (tests/insights/test_experts_scale.py), so both engines agree."""
import pytest

from search import queries, reindex
from tests.api.content import join, make_post, make_thread
from tests.insights.test_experts import accept, experts, handles
from tests.insights.test_experts_scale import answers_aged_1_100_400_days
from tests.insights.test_experts_scale import eng  # noqa: F401  (fixture)
from tests.search.helpers import sync

pytestmark = pytest.mark.usefixtures("es_app")


def test_threads_match_on_their_own_text_and_tags(app, eng, make_user):  # noqa: F811
    talker, expert, tagged = make_user("talker"), make_user("expert"), make_user("tagged")
    for person in (talker, expert, tagged):
        join(person, "eng")
    lunch = make_thread(eng, "eng", "discussion", "Friday lunch plans", "Pizza or sushi?")
    make_post(talker, lunch["id"], "Sushi, then we talk about kafka offsets.")
    question = make_thread(eng, "eng", "question", "Kafka consumer lag", "Offsets keep growing.")
    accept(eng, make_post(expert, question["id"], "Commit the offsets less often.")["id"])
    labelled = make_thread(eng, "eng", "question", "Consumer lag again", "Help.", tags=["kafka"])
    make_post(tagged, labelled["id"], "Same here.")
    sync(app)
    result = experts(eng, q="kafka")
    assert result["engine"] == "elasticsearch"
    assert handles(result)[0] == "expert"
    assert "talker" not in handles(result) and "tagged" in handles(result)


def test_newest_threads_in_widening_windows_as_on_the_database(app, eng, make_user,  # noqa: F811
                                                               monkeypatch):
    answers_aged_1_100_400_days(app, eng, make_user)
    for size, expected in ((1, ["day"]), (2, ["day", "quarter"]),
                           (3, ["ancient", "day", "quarter"])):
        monkeypatch.setattr(queries, "EXPERT_SAMPLE", size)
        app.config["ELASTICSEARCH_URL"], url = None, app.config["ELASTICSEARCH_URL"]
        on_database = experts(eng, q="grafana")
        app.config["ELASTICSEARCH_URL"] = url
        with app.app_context():
            reindex.reindex(app)
        sync(app)
        on_elasticsearch = experts(eng, q="grafana")
        assert on_database["engine"] == "database"
        assert on_elasticsearch["engine"] == "elasticsearch"
        assert sorted(set(handles(on_elasticsearch)) - {"owner"}) == expected
        assert [(i["user"]["handle"], i["score"], i["why"]["evidence"])
                for i in on_database["items"]] == \
            [(i["user"]["handle"], i["score"], i["why"]["evidence"])
             for i in on_elasticsearch["items"]]
