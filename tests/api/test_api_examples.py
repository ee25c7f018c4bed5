"""Every operation in the OpenAPI document carries a recorded example and its required scope.

A new endpoint fails here until `python scripts/api_examples.py` records a real exchange for it
(and the script itself exits 1 while any operation has none).
"""
from openapi_spec_validator import validate

from collab.integrations.examples import operation_key, recorded
from collab.integrations.scopes import ALL_SCOPES, TOKEN_URL

METHODS = {"get", "post", "put", "patch", "delete"}
UNDOCUMENTED = ("/api/v1/openapi.json", "/api/v1/docs")  # the document and its page


def operations(spec: dict) -> dict:
    return {f"{method.upper()} {path}": operation for path, item in spec["paths"].items()
            for method, operation in item.items() if method in METHODS}


def test_every_api_route_is_in_the_openapi_document(app, anonymous):
    spec = anonymous.get("/api/v1/openapi.json").get_json()
    routes = {operation_key(method, rule.rule) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and not rule.rule.startswith(UNDOCUMENTED)
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == set(operations(spec))


def test_every_operation_has_an_example_request_response_and_scope(anonymous):
    spec = anonymous.get("/api/v1/openapi.json").get_json()
    validate(spec)
    documented = operations(spec)
    assert len(documented) >= 100
    missing = sorted(set(documented) - set(recorded()))
    assert not missing, f"no recorded example (run scripts/api_examples.py): {missing}"
    for key, operation in documented.items():
        if key == f"POST {TOKEN_URL}":
            assert operation["security"] == [], key  # the client authenticates with its secret
        else:
            assert operation.get("x-required-scope") in ALL_SCOPES, key
            assert f"Requires scope `{operation['x-required-scope']}`." in operation["description"]
            assert {"oauth2": [operation["x-required-scope"]]} in operation["security"], key
        example = recorded()[key]
        status = example["response"]["status"]
        assert 200 <= status < 300, key
        response = operation["responses"][str(status)]
        if example["response"]["body"] is not None:
            assert response["content"]["application/json"]["example"] == \
                example["response"]["body"], key
        else:
            assert status == 204, key
        if "requestBody" in operation:
            assert example["request"]["body"] is not None, f"{key}: the example sends no body"
            for media in operation["requestBody"]["content"].values():
                assert media["example"] == example["request"]["body"], key
        if example["request"]["query"]:
            assert operation["x-example-query"] == example["request"]["query"], key


def test_no_example_is_left_for_an_operation_that_is_gone(anonymous):
    spec = anonymous.get("/api/v1/openapi.json").get_json()
    assert sorted(set(recorded()) - set(operations(spec))) == []


def test_examples_hold_no_secrets():
    import json
    import re

    text = json.dumps(recorded())
    assert not re.search(r"(collab_secret_|collab_|whsec_)[A-Za-z0-9_\-+/=]{20,}", text)
