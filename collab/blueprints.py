"""The Blueprint every feature's api.py uses: flask-smorest's, with strict query strings."""
from collections import OrderedDict
from datetime import date, datetime
from enum import Enum
from functools import lru_cache

import flask_smorest
from flask import current_app, request
import marshmallow as ma
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import RequestEntityTooLarge

from collab import json_body


# Values a query's loaded arguments may hold for the load to be kept: nothing a view could change.
IMMUTABLE = (str, int, float, bool, type(None), datetime, date, Enum)
SMALL_BODY = 64  # bytes: a body kept by its text (votes, statuses) is one of a few short texts

# Field types whose load is a function of the value alone (marshmallow's own, not subclasses).
PURE_FIELDS = frozenset({ma.fields.Integer, ma.fields.String, ma.fields.Boolean, ma.fields.Float})


@lru_cache(maxsize=None)
def pure_load(schema: type) -> bool:
    """Whether loading `schema` depends on the body's text alone: only PURE_FIELDS, each with
    marshmallow.validate's validators and no callable default, and no hook but StrictSchema's
    NUL check. A schema that reads the clock, the database or the caller is never kept."""
    from collab.schemas import StrictSchema

    if not (isinstance(schema, type) and issubclass(schema, ma.Schema)):
        return False
    for tag, hooks in schema._hooks.items():
        for name, *_ in hooks:
            if getattr(schema, name, None) is not StrictSchema._reject_nul_characters:
                return False
    for field in schema._declared_fields.values():
        if type(field) not in PURE_FIELDS or callable(field.load_default):
            return False
        if any(type(validator).__module__ != "marshmallow.validate"
               for validator in field.validators):
            return False
    return True


class BodyParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies through the one body parser (collab.json_body)."""

    KEPT_QUERIES = 1024

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._schemas: dict[type, ma.Schema] = {}
        self._queries: OrderedDict[tuple, dict] = OrderedDict()  # least recently used first

    def parse(self, argmap, req=None, *, location=None, validate=None, **kwargs):
        """Query strings and small bodies of pure schemas loaded once per text (both kept in one
        LRU of KEPT_QUERIES); anything else as webargs loads it."""
        if (location == "json" and validate is None and isinstance(argmap, type)
                and pure_load(argmap)):
            return self._parse_small_body(argmap, req, location, kwargs)
        return self._parse(argmap, req, location=location, validate=validate, **kwargs)

    def _parse_small_body(self, argmap, req, location, kwargs):
        """A small JSON body loaded once per schema and text, like a query string: a vote's
        body is one of two texts, and loading it was a twenty-fifth of a vote's CPU. Only for
        schemas whose load is a function of the text alone (pure_load) and bodies of at most
        SMALL_BODY bytes with a Content-Length; anything else is loaded as webargs does."""
        req = request if req is None else req
        length = req.content_length
        if length is None or length > SMALL_BODY or not is_json_request(req):
            return self._parse(argmap, req, location=location, **kwargs)
        config = current_app.config  # the body parser's limits are each app's own
        key = ("json", argmap, req.get_data(cache=True), kwargs.get("unknown"),
               config.get("JSON_MAX_INT_DIGITS"), config.get("JSON_MAX_DEPTH"))
        return self._kept(key, lambda: self._parse(argmap, req, location=location, **kwargs))

    def _kept(self, key, load):
        queries = self._queries
        kept = queries.get(key)
        if kept is not None:
            try:
                queries.move_to_end(key)
            except KeyError:  # another thread (gthread workers) dropped it meanwhile
                pass
            return dict(kept)
        loaded = load()
        if isinstance(loaded, dict) and all(isinstance(value, IMMUTABLE)
                                            for value in loaded.values()):
            queries[key] = dict(loaded)
            while len(queries) > self.KEPT_QUERIES:
                try:
                    queries.popitem(last=False)
                except KeyError:
                    break
        return loaded

    def _parse(self, argmap, req=None, *, location=None, validate=None, **kwargs):
        """A query string's arguments, loaded once per schema and query string: the same text
        loads to the same values (loading validated it), and the hot lists are asked with the
        same few (a fifth of a GET /communities' CPU went to loading `limit` and `cursor`).
        Only flat loads of immutable values are kept (a copy of the dict each time), the
        KEPT_QUERIES used last (an LRU: new query strings keep being kept when it is full);
        anything else, and every body, is loaded as webargs does."""
        if location != "query" or validate is not None or not isinstance(argmap, type):
            return super().parse(argmap, req, location=location, validate=validate, **kwargs)
        key = (argmap, (request if req is None else req).query_string, kwargs.get("unknown"))
        return self._kept(key, lambda: super(BodyParser, self).parse(
            argmap, req, location=location, validate=validate, **kwargs))

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
