"""Search requests and answers."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from collab.challenges.models import Phase
from collab.freshness.rules import Freshness
from collab.people.schemas import AUDIENCE
from collab.schemas import MAX_ID, AwareDateTime, StrictSchema
from collab.threads.models import ThreadKind, ThreadStatus
from collab.threads.schemas import AuthorRef, ThreadOut
from search.queries import SORTS

MAX_Q = 500
MAX_LIMIT = 50


class SearchArgs(StrictSchema):
    q = fields.String(load_default="", validate=validate.Length(max=MAX_Q),
                      metadata={"description": 'Words, "exact phrases" and -excluded words.'})
    community = fields.String(validate=validate.Length(1, 64), metadata={"description": "slug"})
    kind = fields.String(validate=validate.OneOf([k.value for k in ThreadKind]))
    status = fields.String(validate=validate.OneOf([s.value for s in ThreadStatus]))
    tag = fields.String(validate=validate.Length(1, 40))
    author = AuthorRef(metadata={"description": "The author's handle, or their user id (all "
                                                "digits: an id), as in thread lists."})
    audience = fields.String(validate=AUDIENCE, metadata={"description": "the author's audience"})
    since = AwareDateTime(metadata={"description": "threads created at or after (ISO 8601)"})
    until = AwareDateTime(metadata={"description": "threads created before (ISO 8601)"})
    challenge = fields.Integer(validate=validate.Range(1, MAX_ID),
                               metadata={"description": "ideas of this challenge (id)"})
    phase = fields.String(validate=validate.OneOf([p.value for p in Phase]),
                          metadata={"description": "ideas of challenges in this phase now"})
    freshness = fields.String(
        validate=validate.OneOf([f.value for f in Freshness]),
        metadata={"description": "questions whose accepted answer is fresh, needs_review (old "
                                 "and still read) or obsolete"})
    sort = fields.String(load_default="relevance", validate=validate.OneOf(SORTS))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=1000))

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("`since` must be before `until`.", "until")


class SuggestArgs(StrictSchema):
    q = fields.String(required=True, validate=validate.Length(1, 100))
    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))


class Highlight(Schema):
    title = fields.List(fields.String())
    body = fields.List(fields.String())


class BestPost(Schema):
    id = fields.Integer()
    highlight = fields.List(fields.String())


class SearchItem(Schema):
    thread = fields.Nested(ThreadOut)
    score = fields.Float(allow_none=True, metadata={"description": (
        "Relevance, higher first; each engine has its own scale (docs/search.md). Database "
        "engine: 1 + rank when the thread's own title, body or tags match, below 1 when only "
        "its replies do.")})
    highlight = fields.Nested(Highlight)
    best_post = fields.Nested(BestPost, allow_none=True)


class FacetBucket(Schema):
    value = fields.String()
    count = fields.Integer()


class SearchResult(Schema):
    engine = fields.String(metadata={"description": "elasticsearch or database"})
    total = fields.Integer(metadata={"description": "matching threads"})
    items = fields.List(fields.Nested(SearchItem))
    facets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FacetBucket)))
    next_cursor = fields.String(allow_none=True)


class TitleSuggestion(Schema):
    thread_id = fields.Integer()
    title = fields.String()
    community = fields.String()


class TagSuggestion(Schema):
    tag = fields.String()
    count = fields.Integer()


class CommunitySuggestion(Schema):
    slug = fields.String()
    name = fields.String()


class SuggestResult(Schema):
    engine = fields.String()
    titles = fields.List(fields.Nested(TitleSuggestion))
    tags = fields.List(fields.Nested(TagSuggestion))
    communities = fields.List(fields.Nested(CommunitySuggestion))


class ScoredThread(Schema):
    thread = fields.Nested(ThreadOut)
    score = fields.Float(allow_none=True)


class ScoredThreads(Schema):
    engine = fields.String()
    items = fields.List(fields.Nested(ScoredThread))


class OutboxStatus(Schema):
    enabled = fields.Boolean()
    backlog = fields.Integer()
    oldest_age_seconds = fields.Float(allow_none=True)


class SearchStatus(Schema):
    engine = fields.String()
    configured = fields.Boolean()
    alias = fields.String(allow_none=True)
    index = fields.String(allow_none=True)
    documents = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    outbox = fields.Nested(OutboxStatus)
