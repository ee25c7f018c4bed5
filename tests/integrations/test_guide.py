"""The integration guide's signature snippet works on a real delivery, as copied."""
import re
from pathlib import Path

from collab.db import db
from collab.webhooks import delivery
from tests.integrations.helpers import API
from tests.integrations.receiver import Receiver

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"


def guide_snippet() -> dict:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], str(GUIDE), "exec"), namespace)
    return namespace


def test_guide_snippet_verifies_a_real_delivery(make_user, make_community, app):
    verify_webhook = guide_snippet()["verify_webhook"]
    receiver = Receiver()
    try:
        alice = make_user("alice")
        make_community(alice, "lab")
        subscription = alice.post(f"{API}/webhooks", json={
            "url": receiver.url, "events": ["thread.created"]}).get_json()
        alice.post(f"{API}/communities/lab/threads",
                   json={"kind": "discussion", "title": "T", "body": "B"})
        with app.app_context():
            delivery.drain()
            db.session.remove()
        [request] = receiver.requests
    finally:
        receiver.stop()
    body = request["body"].encode()
    assert verify_webhook(subscription["secret"], request["headers"], body)
    assert not verify_webhook(subscription["secret"], request["headers"], body + b" ")
    other = "whsec_" + "A" * 44
    assert not verify_webhook(other, request["headers"], body)
    stale = dict(request["headers"], **{"webhook-timestamp": "1000000000"})
    assert not verify_webhook(subscription["secret"], stale, body)
