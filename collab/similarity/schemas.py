"""Related threads, similar drafts and duplicate pairs, in and out."""
from marshmallow import Schema, fields, validate

from collab.schemas import StrictSchema
from collab.threads.models import ThreadKind
from collab.threads.schemas import ThreadOut

MAX_SIMILAR = 20
KINDS = validate.OneOf([k.value for k in ThreadKind])


class RelatedArgs(StrictSchema):
    limit = fields.Integer(load_default=5, validate=validate.Range(1, MAX_SIMILAR))
    scope = fields.String(load_default="community", validate=validate.OneOf(["community", "visible"]),
                          metadata={"description": "the thread's community, or every community "
                                                   "the caller sees"})


class SimilarIdeaArgs(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(1, 200))
    body = fields.String(load_default="", validate=validate.Length(max=20000))
    limit = fields.Integer(load_default=5, validate=validate.Range(1, MAX_SIMILAR))


class SimilarThreadArgs(SimilarIdeaArgs):
    kind = fields.String(load_default=None, validate=KINDS,
                         metadata={"description": "only threads of this kind (default: all)"})


class DuplicateArgs(StrictSchema):
    threshold = fields.Float(load_default=None, validate=validate.Range(0.0, 1.0),
                             metadata={"description": "minimum similarity (0-1); the default is "
                                                      "calibrated on labelled duplicates"})
    kind = fields.String(load_default=None, validate=KINDS)
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class DuplicatePair(Schema):
    thread = fields.Nested(ThreadOut, metadata={"description": "the newer thread"})
    duplicate_of = fields.Nested(ThreadOut, metadata={"description": "the older thread: merge "
                                                                     "`thread` into it"})
    score = fields.Float()


class DuplicatePairs(Schema):
    threshold = fields.Float()
    scanned = fields.Integer(metadata={"description": "threads compared (the newest ones)"})
    items = fields.List(fields.Nested(DuplicatePair))
