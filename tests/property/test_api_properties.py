"""Property-based API tests: schemathesis generates requests for every operation of the OpenAPI
document, sent as an admin and as a customer; no answer may be a 5xx or break the document.

Budget: PROPERTY_EXAMPLES examples per operation, role and backend (default 10), so the suite
stays within a couple of minutes in CI; raise it for a deeper run
(`PROPERTY_EXAMPLES=500 python3 -m pytest tests/property`). The number of requests sent per role
is printed in the terminal summary.
"""
import os
from collections import Counter

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tests.api.content import join, make_post, make_thread

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", 10))
# Valid requests by default (in CI); PROPERTY_NEGATIVE=1 mixes in schema-violating ones (slower).
MODES = [GenerationMode.POSITIVE] + (
    [GenerationMode.NEGATIVE] if os.environ.get("PROPERTY_NEGATIVE") == "1" else [])
REQUESTS: Counter = Counter()  # role -> requests sent (read by the terminal summary)


@pytest.fixture
def callers(make_user, make_community):
    """A small world so generated ids sometimes hit rows: two communities, threads, posts."""
    admin = make_user("root", is_admin=True)
    owner = make_user("olga")
    customer = make_user("cora", audience="customer", organization="contoso")
    make_community(owner, "space", audiences=["employee", "customer"])
    make_community(owner, "hidden", visibility="private")
    join(customer, "space")
    idea = make_thread(owner, "space", "idea", tags=["roadmap"])
    question = make_thread(customer, "space", "question")
    make_post(owner, question["id"])
    make_post(customer, idea["id"])
    make_thread(owner, "hidden", "discussion")
    return {"admin": admin, "customer": customer}


def _operations(app) -> list:
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in loaded.get_all_operations()]


def _run(app, role: str, callers: dict) -> None:
    """Every operation, EXAMPLES generated cases each; failures are collected, then reported."""
    headers = {"Authorization": f"Bearer {callers[role].token}"}
    failures = []
    operations = _operations(app)
    assert len(operations) >= 30

    for operation in operations:
        @given(case=st.one_of(*[operation.as_strategy(mode) for mode in MODES]))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            REQUESTS[role] += 1
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                     content_type_conformance,
                                                     response_schema_conformance])

        try:
            check()
        except Exception as error:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {type(error).__name__}: {str(error)[:2000]}")
    assert not failures, "\n\n".join(failures)


def test_as_admin_no_server_errors_and_schema_conformance(app, callers):
    _run(app, "admin", callers)


def test_as_customer_no_server_errors_and_schema_conformance(app, callers):
    _run(app, "customer", callers)
