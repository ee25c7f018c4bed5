"""Placeholder until the Elasticsearch node fixture lands."""
import pytest


@pytest.fixture(scope="session")
def elasticsearch_url():
    pytest.skip("no Elasticsearch node fixture yet")
