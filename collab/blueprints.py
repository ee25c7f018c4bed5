"""The Blueprint every feature's api.py uses: flask-smorest's, with strict query strings."""
from collections import OrderedDict
from datetime import date, datetime
from enum import Enum

import flask_smorest
from flask import request
import marshmallow as ma
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import RequestEntityTooLarge

from collab import json_body


# Values a query's loaded arguments may hold for the load to be kept: nothing a view could change.
IMMUTABLE = (str, int, float, bool, type(None), datetime, date, Enum)


class BodyParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies through the one body parser (collab.json_body)."""

    KEPT_QUERIES = 1024

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._schemas: dict[type, ma.Schema] = {}
        self._queries: OrderedDict[tuple, dict] = OrderedDict()  # least recently used first

    def parse(self, argmap, req=None, *, location=None, validate=None, **kwargs):
        """A query string's arguments, loaded once per schema and query string: the same text
        loads to the same values (loading validated it), and the hot lists are asked with the
        same few (a fifth of a GET /communities' CPU went to loading `limit` and `cursor`).
        Only flat loads of immutable values are kept (a copy of the dict each time), the
        KEPT_QUERIES used last (an LRU: new query strings keep being kept when it is full);
        anything else, and every body, is loaded as webargs does."""
        if location != "query" or validate is not None or not isinstance(argmap, type):
            return super().parse(argmap, req, location=location, validate=validate, **kwargs)
        key = (argmap, (request if req is None else req).query_string, kwargs.get("unknown"))
        queries = self._queries
        kept = queries.get(key)
        if kept is not None:
            try:
                queries.move_to_end(key)
            except KeyError:  # another thread (gthread workers) dropped it meanwhile
                pass
            return dict(kept)
        loaded = super().parse(argmap, req, location=location, validate=validate, **kwargs)
        if isinstance(loaded, dict) and all(isinstance(value, IMMUTABLE)
                                            for value in loaded.values()):
            queries[key] = dict(loaded)
            while len(queries) > self.KEPT_QUERIES:
                try:
                    queries.popitem(last=False)
                except KeyError:
                    break
        return loaded

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
