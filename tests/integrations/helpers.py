"""Helpers for integration tests: tokens with scopes, API clients and their tokens."""
import base64

from tests.factories import Caller

API = "/api/v1"


def token_with(caller: Caller, scopes: list[str], **fields) -> Caller:
    """A second token of the same user, holding only `scopes`."""
    response = caller.post(f"{API}/users/{caller.id}/tokens",
                           json={"name": "scoped", "scopes": scopes, **fields})
    assert response.status_code == 201, response.get_json()
    return Caller(caller.client, response.get_json()["token"], caller.user)


def register_client(admin: Caller, **fields) -> dict:
    payload = {"name": "crm", "scopes": ["read", "write"], "all_communities": True, **fields}
    response = admin.post(f"{API}/clients", json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def client_token_response(client, registered: dict, scope: str | None = None, secret=None):
    basic = base64.b64encode(
        f"{registered['client_id']}:{secret or registered['client_secret']}".encode()).decode()
    form = {"grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    return client.post(f"{API}/oauth/token", data=form,
                       headers={"Authorization": f"Basic {basic}"})


def client_caller(client, registered: dict, scope: str | None = None) -> Caller:
    response = client_token_response(client, registered, scope)
    assert response.status_code == 200, response.get_data(as_text=True)
    return Caller(client, response.get_json()["access_token"],
                  {"id": registered["service_user_id"]})
