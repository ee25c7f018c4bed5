"""Fuzz every cursor and every date parameter: any value answers 200 or 422, never a 5xx."""
import base64
import json
import os
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collab.cursors import sign
from tests.api.content import API, make_post, make_thread
from tests.property.test_api_properties import REQUESTS

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", 10)) * 4
CURSOR_URLS = ["/communities", "/communities/space/members", "/communities/space/threads",
               "/threads/{thread}/posts", "/search", "/audit", "/communities/space/audit"]
DATE_URLS = ["/search", "/audit", "/communities/space/audit"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5),
                                                                       children, max_size=4),
    max_leaves=12)
dates = st.datetimes(timezones=st.none() | st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                            max_value=timedelta(hours=23, minutes=59))))
extreme_dates = st.sampled_from([datetime.min, datetime.max]).flatmap(
    lambda d: st.sampled_from([d, d.replace(tzinfo=timezone(timedelta(hours=14))),
                               d.replace(tzinfo=timezone(timedelta(hours=-14)))]))


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _world(make_user, make_community):
    admin = make_user("root", is_admin=True)
    make_community(admin, "space")
    thread = make_thread(admin, "space", "idea", title="Widget plans")
    for i in range(3):
        make_thread(admin, "space", title=f"Widget {i}")
        make_post(admin, thread["id"], body=f"Widget reply {i}")
    return admin, thread["id"]


def _assert_not_5xx(response, what):
    assert response.status_code in (200, 422), (what, response.status_code,
                                                response.get_data(as_text=True)[:500])


def test_fuzz_every_cursor(app, make_user, make_community):
    admin, thread_id = _world(make_user, make_community)

    @given(value=json_values, form=st.sampled_from(["signed-list", "signed-search", "unsigned",
                                                    "text"]),
           text=st.text(max_size=60), url=st.sampled_from(CURSOR_URLS))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(value, form, text, url):
        if form == "text":
            cursor = text or "x"
        elif form == "unsigned":
            cursor = _b64(value)
        else:
            with app.app_context():
                cursor = sign(form.removeprefix("signed-"), value)
        REQUESTS["admin"] += 1
        response = admin.get(API + url.format(thread=thread_id),
                             query_string={"cursor": cursor, **({"q": "widget"}
                                                                if url == "/search" else {})})
        _assert_not_5xx(response, (url, cursor))

    check()


def test_fuzz_every_date_parameter(app, make_user, make_community):
    admin, _ = _world(make_user, make_community)

    @given(value=dates | extreme_dates, text=st.text(max_size=40),
           as_text=st.booleans(), name=st.sampled_from(["since", "until"]),
           url=st.sampled_from(DATE_URLS))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(value, text, as_text, name, url):
        REQUESTS["admin"] += 1
        response = admin.get(API + url, query_string={name: text if as_text else value.isoformat()})
        _assert_not_5xx(response, (url, name, text if as_text else value.isoformat()))

    check()
