"""The OpenAPI document declares what every operation may answer: problem+json errors included."""
import http

from apispec import BasePlugin
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import INCLUDE, Schema, fields

from collab.errors import PROBLEM_MIMETYPE

# Every operation may answer these (authentication, visibility, validation, limits).
COMMON_ERRORS = (400, 401, 403, 404, 409, 422, 429)
BODY_ERRORS = (413,)  # operations that read a request body
BODY_METHODS = ("post", "put", "patch")


class Problem(Schema):
    """RFC 9457 problem details, with `errors` by field for validation; extension members allowed."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())


class ProblemResponses(BasePlugin):
    """Adds the common problem+json error responses to every operation."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            statuses = COMMON_ERRORS + (BODY_ERRORS if method in BODY_METHODS else ())
            for status in statuses:
                if status not in responses and str(status) not in responses:  # keys may be ints
                    responses[str(status)] = http.HTTPStatus(status).name


class CollabApi(Api):
    """flask-smorest's Api, documenting errors as application/problem+json with our schema."""

    ERROR_SCHEMA = Problem

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)
