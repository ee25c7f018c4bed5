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

    def response(self, status_code, schema=None, **kwargs):
        """flask-smorest's response, its schema dumping through compiled_dump where it can (the
        same instance documents the endpoint, so the OpenAPI document is unchanged)."""
        if isinstance(schema, type) and issubclass(schema, ma.Schema):
            schema = schema()
        if isinstance(schema, ma.Schema) and "dump" not in vars(schema):
            dump = compiled_dump(schema)
            if dump is not None:
                schema.dump = _dumping(schema, dump)
        return super().response(status_code, schema, **kwargs)


# Set by tests (tests/conftest.py, every test): every compiled dump is compared with marshmallow's.
CHECK_DUMPS = False


def _dumping(schema: ma.Schema, compiled):
    marshmallow_dump = type(schema).dump

    def dump(obj, *, many=None):
        if many:  # a list where one object was declared: marshmallow's way
            return marshmallow_dump(schema, obj, many=many)
        result = compiled(obj)
        if CHECK_DUMPS:
            expected = marshmallow_dump(schema, obj, many=many)
            if _as_json(result) != _as_json(expected):
                raise AssertionError(f"{type(schema).__name__}: compiled dump {result!r} "
                                     f"differs from marshmallow's {expected!r}")
        return result
    return dump


def _as_json(value) -> str:
    import json
    return json.dumps(value, sort_keys=True, default=repr)


_SERIALIZE = {
    "number": ma.fields.Number._serialize,
    "string": ma.fields.String._serialize,
    "as_is": ma.fields.Field._serialize,
    "temporal": ma.fields.DateTime._serialize,
    "nested": ma.fields.Nested._serialize,
    "list": ma.fields.List._serialize,
    "mapping": ma.fields.Mapping._serialize,
}


def _value_converter(field):
    """What `field._serialize(value, ...)` returns for a value, as a plain function; None when
    the field does anything else (a Method field, a custom serialization, a string number)."""
    serialize = type(field)._serialize
    if serialize is _SERIALIZE["number"]:
        if field.as_string or type(field)._format_num is not ma.fields.Number._format_num:
            return None
        number = field.num_type
        return lambda value: None if value is None else number(value)
    if serialize is _SERIALIZE["string"]:
        text = ma.utils.ensure_text_type
        return lambda value: None if value is None else text(value)
    if serialize is _SERIALIZE["as_is"]:
        return lambda value: value
    if serialize is _SERIALIZE["temporal"]:
        data_format = field.format or field.DEFAULT_FORMAT
        function = field.SERIALIZATION_FUNCS.get(data_format)
        if function is None:
            return lambda value: None if value is None else value.strftime(data_format)
        return lambda value: None if value is None else function(value)
    if serialize is _SERIALIZE["nested"]:
        nested = field.schema
        dump = compiled_dump(nested, allow_many=True)
        if dump is None:
            return None
        if nested.many or field.many:
            return lambda value: None if value is None else [dump(item) for item in value]
        return lambda value: None if value is None else dump(value)
    if serialize is _SERIALIZE["list"]:
        inner = _value_converter(field.inner)
        if inner is None:
            return None
        return lambda value: None if value is None else [inner(item) for item in value]
    if serialize is _SERIALIZE["mapping"]:
        return _mapping_converter(field)
    return None


def _mapping_converter(field):
    mapping_type, key_field, value_field = field.mapping_type, field.key_field, field.value_field
    if key_field is None and value_field is None:
        return lambda value: None if value is None else mapping_type(value)
    convert_key = (lambda key: key) if key_field is None else _value_converter(key_field)
    convert_value = (lambda item: item) if value_field is None else _value_converter(value_field)
    if convert_key is None or convert_value is None:
        return None

    def convert(value):
        if value is None:
            return None
        keys = {key: convert_key(key) for key in value}
        result = mapping_type()
        for key, item in value.items():
            result[keys[key]] = convert_value(item)
        return result
    return convert


def _getter(key: str):
    """marshmallow.utils.get_value(obj, key, missing), for one key."""
    if "." in key:
        return lambda obj: ma.utils.get_value(obj, key, ma.missing)
    missing = ma.missing

    def get(obj):
        if not hasattr(obj, "__getitem__"):
            return getattr(obj, key, missing)
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            return getattr(obj, key, missing)
    return get


def compiled_dump(schema: ma.Schema, *, allow_many: bool = False):
    """`schema.dump(obj)` as one function of plain steps, or None when the schema does anything
    this does not reproduce (dump hooks, `only`/`exclude`, defaults, Method fields, custom
    fields or accessors). The steps are marshmallow's own (the same getter, the same conversion
    per field type), without its per-field calls and accessor chain: a reply's or a vote's
    response was a fiftieth of its CPU in marshmallow. CHECK_DUMPS compares both in the tests.
    """
    from marshmallow.decorators import POST_DUMP, PRE_DUMP

    if (schema.many and not allow_many) or schema.only is not None or schema.exclude:
        return None
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        return None
    if (type(schema).get_attribute is not ma.Schema.get_attribute
            or type(schema).dump is not ma.Schema.dump
            or type(schema)._serialize is not ma.Schema._serialize):
        return None
    steps = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        if type(field).serialize is not ma.fields.Field.serialize:
            return None
        whole = _object_converter(field)  # Function and Method fields: of the whole object
        if whole is not None:
            steps.append((key, None, whole))
            continue
        if (type(field).get_value is not ma.fields.Field.get_value
                or not field._CHECK_ATTRIBUTE or field.dump_default is not ma.missing):
            return None
        convert = _value_converter(field)
        if convert is None:
            return None
        steps.append((key, _getter(name if field.attribute is None else field.attribute),
                      convert))
    steps = tuple(steps)
    dict_class, missing = schema.dict_class, ma.missing

    def dump(obj):
        result = dict_class()
        for key, get, convert in steps:
            if get is None:
                value = convert(obj)
            else:
                value = get(obj)
                if value is missing:
                    continue
                value = convert(value)
            if value is not missing:
                result[key] = value
        return result
    return dump


def _object_converter(field):
    """A Function or Method field's serialization of the whole object (marshmallow asks no
    attribute of them), or None for any other field."""
    serialize = type(field)._serialize
    if serialize is ma.fields.Function._serialize and not field._CHECK_ATTRIBUTE:
        function = field.serialize_func
        return None if function is None else function
    if serialize is ma.fields.Method._serialize and not field._CHECK_ATTRIBUTE:
        method = field._serialize_method
        missing = ma.missing
        return (lambda obj: missing) if method is None else method
    return None
