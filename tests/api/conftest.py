"""Every response dumped by a compiled dump (collab.blueprints.compiled_dump) in these tests is
compared with marshmallow's own dump of the same object: a difference fails the test."""
import pytest

from collab import blueprints


@pytest.fixture(autouse=True)
def _compare_compiled_dumps(monkeypatch):
    monkeypatch.setattr(blueprints, "CHECK_DUMPS", True)
