"""Rising topics: tags from significant_terms, title words from samples; same privacy rules."""
import pytest

from tests.factories import set_membership
from tests.insights.test_insights import busy, insights  # noqa: F401  (fixture)
from tests.search.helpers import API, make_thread, sync

pytestmark = pytest.mark.usefixtures("es_app")


def test_rising_topics_on_elasticsearch(app, busy, make_user, make_community):
    owner = busy["owner"]
    make_community(owner, "vault", visibility="private")
    for i in range(5):
        insider = make_user(f"ins{i}")
        set_membership(app, "vault", insider.id, "active")
        make_thread(insider, "vault", "discussion", f"Project zephyr {i}", "Secret.",
                    tags=["zephyr"])
    sync(app)
    rising = insights(owner)["rising_topics"]
    # Both engines read the tag roll-up (significant_terms cost ~0.1 s of ES CPU on 1M posts).
    assert rising["engine"] == "database"
    assert [t["tag"] for t in rising["tags"]] == ["kubernetes"]
    assert rising["tags"][0]["people"] == 5
    # Words come from bounded samples of titles on both engines (as on the database).
    assert "kubernetes" in [t["term"] for t in rising["terms"]]
    assert "zephyr" not in str(rising)
    admin = make_user("root", is_admin=True)
    everywhere = admin.get(f"{API}/insights").get_json()["rising_topics"]
    assert "zephyr" in [t["tag"] for t in everywhere["tags"]]
