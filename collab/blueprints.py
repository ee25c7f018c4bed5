"""The Blueprint every feature's api.py uses: flask-smorest's, with strict query strings."""
import flask_smorest
import marshmallow as ma
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import RequestEntityTooLarge

from collab import json_body


class BodyParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies through the one body parser (collab.json_body)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._schemas: dict[type, ma.Schema] = {}

    def _get_schema(self, argmap, req) -> ma.Schema:
        """One instance per schema class: webargs builds one per request otherwise (a deep copy
        of its fields, about a tenth of a list request's CPU); loading leaves a schema as it was."""
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        raw = req.get_data(cache=True)
        limit = req.max_content_length
        if limit is not None and len(raw) >= limit:
            # A streamed (chunked) body is cut at the limit rather than refused: refuse it here.
            raise RequestEntityTooLarge()
        return json_body.parse(raw)


class Blueprint(flask_smorest.Blueprint):
    """Unknown query parameters are refused (422) like unknown body fields, so typos never pass."""

    # unknown=None: defer to each schema's Meta.unknown (RAISE in collab.schemas.StrictSchema).
    ARGUMENTS_PARSER = BodyParser(unknown=None)
