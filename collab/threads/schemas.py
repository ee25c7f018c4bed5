"""Threads and posts in and out."""
import re

from marshmallow import ValidationError, fields, validate

from collab.freshness.rules import describe as describe_freshness
from collab.freshness.schemas import AnswerFreshnessOut
from collab.people.schemas import DEACTIVATED_NAME, HANDLE_PATTERN, UserRef, shown_name
from collab.schemas import MAX_ID, Id, PageArgs, StrictSchema, plain_name
from collab.threads.models import ThreadKind, ThreadStatus
from collab.threads.service import ListedThread, PostView, ThreadView

MAX_TAGS = 10
TAG_PATTERN = re.compile(r"^[a-z0-9\-_.+#]{1,40}$")
KIND = validate.OneOf([k.value for k in ThreadKind])
STATUS = validate.OneOf([s.value for s in ThreadStatus])
SORTS = ("new", "active", "top", "trending")
BODY = validate.Length(1, 100_000)


class Trimmed(fields.String):
    """A string with surrounding whitespace removed before it is validated."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Tag(fields.String):
    """Lowercase, trimmed, 1-40 of [a-z0-9-_.+#]."""

    def _deserialize(self, value, attr, data, **kwargs):
        tag = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if not TAG_PATTERN.match(tag):
            raise ValidationError("1-40 characters of a-z, 0-9, '-', '_', '.', '+', '#'.")
        return tag


class Tags(fields.List):
    """Normalised tags, duplicates dropped (first one kept), at most MAX_TAGS of them."""

    def __init__(self, **kwargs):
        super().__init__(Tag(), validate=validate.Length(max=MAX_TAGS,
                                                         error=f"At most {MAX_TAGS} tags."),
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return list(dict.fromkeys(super()._deserialize(value, attr, data, **kwargs)))


class AuthorRef(fields.String):
    """A user by handle (any case) or by id: all digits is an id (an int), else a handle (a str)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if text.isdigit():
            number = int(text)
            if not 1 <= number <= MAX_ID:
                raise ValidationError(f"A user id between 1 and {MAX_ID}.")
            return number
        if not HANDLE_PATTERN.fullmatch(text):
            raise ValidationError("A user id or a handle (2-40 lowercase letters, digits, "
                                  "'_', '.', '-').")
        return text


class ThreadCreate(StrictSchema):
    kind = fields.String(required=True, validate=KIND,
                         metadata={"description": "Announcements: owners and moderators only."})
    title = Trimmed(required=True, validate=[validate.Length(1, 200), plain_name])
    body = fields.String(required=True, validate=BODY, metadata={"description": "Markdown."})
    tags = Tags(load_default=list)
    challenge_id = Id(metadata={"description": "Submit the idea to this challenge of the "
                                               "community (its submission phase only)."})


class ThreadUpdate(StrictSchema):
    title = Trimmed(validate=[validate.Length(1, 200), plain_name])
    body = fields.String(validate=BODY)
    tags = Tags()
    pinned = fields.Boolean(metadata={"description": "Moderators only."})
    locked = fields.Boolean(metadata={"description": "Moderators only."})


class ThreadListArgs(PageArgs):
    kind = fields.String(validate=KIND)
    status = fields.String(validate=STATUS)
    tag = Tag()
    author = AuthorRef(metadata={"description": "The author's handle, or their user id (all "
                                                "digits: an id)."})
    sort = fields.String(
        load_default="new", validate=validate.OneOf(SORTS),
        metadata={"description": "new (created, newest first), active (last reply), top "
                                 "(Wilson lower bound of the up-vote share), trending (decayed "
                                 "votes and replies). Pinned threads come first for new and "
                                 "active. Merged duplicates are left out of lists."})


class AudienceVotes(StrictSchema):
    up = fields.Integer()
    down = fields.Integer()


class StatusChangeOut(StrictSchema):
    id = fields.Integer()
    from_status = fields.String()
    to_status = fields.String()
    note = fields.String()
    actor = fields.Nested(UserRef)
    created_at = fields.DateTime()


class DirectDump:
    """A schema whose answer is built directly for its service's view (_DIRECT_DUMPS): a hot
    request spent a twentieth (a vote's, a reply's answer) to 40% (a 20-thread page) of its CPU in
    marshmallow's generic field machinery. Anything else (another object, a subclass not listed,
    `many`, `only`, `exclude`) is dumped marshmallow's way; tests/api/test_thread_payloads.py
    compares both outputs."""

    def dump(self, obj, *, many=None):
        many = self.many if many is None else many
        direct = _DIRECT_DUMPS.get(type(self))
        if many or self.only or self.exclude or direct is None or type(obj) is not direct[0]:
            return super().dump(obj, many=many)
        return direct[1](self, obj)


class VoteTally(StrictSchema):
    """The counts, the caller's vote and the stored ranks, as every thread payload carries them."""

    score = fields.Integer(metadata={"description": "upvotes - downvotes"})
    upvotes = fields.Integer()
    downvotes = fields.Integer()
    my_vote = fields.Integer(allow_none=True, metadata={"description": "1, -1 or null"})
    votes_by_audience = fields.Dict(keys=fields.String(), values=fields.Nested(AudienceVotes))
    top_score = fields.Float()
    trending_score = fields.Float()


class VotesOut(DirectDump, VoteTally):
    """What a vote changes."""

    thread_id = fields.Integer(attribute="id")


class ThreadOut(DirectDump, VoteTally):
    id = fields.Integer()
    community = fields.String(attribute="community.slug")
    community_id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    tags = fields.List(fields.String())
    status = fields.String()
    pinned = fields.Boolean()
    locked = fields.Boolean()
    author = fields.Nested(UserRef)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    last_activity_at = fields.DateTime()
    reply_count = fields.Integer()
    accepted_post_id = fields.Integer(allow_none=True)
    merged_into = fields.Integer(attribute="merged_into_id", allow_none=True)
    answer_freshness = fields.Method(
        "_answer_freshness", allow_none=True,
        metadata={"description": "The accepted answer's freshness (null without one): "
                                 "fresh, needs_review or obsolete (collab/freshness)."})

    def _answer_freshness(self, thread) -> dict | None:
        described = describe_freshness(thread)
        return None if described is None else _ANSWER_FRESHNESS.dump(described)



def _user_ref(user) -> dict | None:
    if user is None:
        return None
    organization = user.organization
    return {"id": user.id, "handle": str(user.handle), "display_name": shown_name(user),
            "audience": str(user.audience),
            "organization": None if organization is None else str(organization)}


def _text(value) -> str | None:
    return None if value is None else str(value)


def _number(kind, value):
    return None if value is None else kind(value)


def _moment(value) -> str | None:
    return None if value is None else value.isoformat()


def _thread_out(schema: "ThreadOut", view) -> dict:
    """ThreadOut's fields as marshmallow serializes them (None stays None; ints, floats, strings
    and booleans coerced as its Integer, Float, String and Boolean fields do)."""
    thread = getattr(view, "thread", view)
    if type(thread) is ListedThread:
        return _listed_thread_out(schema, view, thread)
    return {
        **_tally(view, thread),
        "id": _number(int, thread.id),
        "community": _text(thread.community.slug),
        "community_id": _number(int, thread.community_id),
        "kind": _text(thread.kind),
        "title": _text(thread.title),
        "body": _text(thread.body),
        "tags": None if view.tags is None else [_text(tag) for tag in view.tags],
        "status": _text(thread.status),
        "pinned": None if thread.pinned is None else bool(thread.pinned),
        "locked": None if thread.locked is None else bool(thread.locked),
        "author": _user_ref(thread.author),
        "created_at": _moment(thread.created_at),
        "updated_at": _moment(thread.updated_at),
        "last_activity_at": _moment(thread.last_activity_at),
        "reply_count": _number(int, thread.reply_count),
        "accepted_post_id": _number(int, thread.accepted_post_id),
        "merged_into": _number(int, thread.merged_into_id),
        "answer_freshness": schema._answer_freshness(view),
    }


def _tally(view, thread) -> dict:
    """VoteTally's fields as marshmallow serializes them (the first fields of ThreadOut and
    VotesOut)."""
    return {
        "score": _number(int, view.score),
        "upvotes": _number(int, thread.upvotes),
        "downvotes": _number(int, thread.downvotes),
        "my_vote": _number(int, view.my_vote),
        "votes_by_audience": None if view.votes_by_audience is None else {
            str(audience): {"up": _number(int, counts["up"]), "down": _number(int, counts["down"])}
            for audience, counts in view.votes_by_audience.items()},
        "top_score": _number(float, thread.top_score),
        "trending_score": _number(float, thread.trending_score),
    }


def _votes_out(schema: "VotesOut", view: ThreadView) -> dict:
    """VotesOut's fields as marshmallow serializes them."""
    return {**_tally(view, view.thread), "thread_id": _number(int, view.thread.id)}


def _listed_thread_out(schema: "ThreadOut", view: ThreadView, thread: ListedThread) -> dict:
    """_thread_out for a list page's thread (a page builds 20): its columns come from the database
    typed as the model declares them (ints, floats, strings, booleans, aware datetimes; NOT NULL
    where the model says so), so only the nullable ones are checked and nothing is coerced."""
    upvotes, downvotes, author = thread.upvotes, thread.downvotes, thread.author
    organization = author.organization
    return {
        "score": upvotes - downvotes,
        "upvotes": upvotes,
        "downvotes": downvotes,
        "my_vote": view.my_vote,
        "votes_by_audience": {audience: {"up": counts["up"], "down": counts["down"]}
                              for audience, counts in view.votes_by_audience.items()},
        "top_score": float(thread.top_score),
        "trending_score": float(thread.trending_score),
        "id": thread.id,
        "community": thread.community.slug,
        "community_id": thread.community_id,
        "kind": thread.kind,
        "title": thread.title,
        "body": thread.body,
        "tags": view.read_tags,
        "status": thread.status,
        "pinned": thread.pinned,
        "locked": thread.locked,
        "author": {"id": author.id, "handle": author.handle,
                   "display_name": (DEACTIVATED_NAME if author.deactivated_at
                                    else author.display_name),
                   "audience": author.audience, "organization": organization},
        "created_at": thread.created_at.isoformat(),
        "updated_at": thread.updated_at.isoformat(),
        "last_activity_at": thread.last_activity_at.isoformat(),
        "reply_count": thread.reply_count,
        "accepted_post_id": thread.accepted_post_id,
        "merged_into": thread.merged_into_id,
        "answer_freshness": (None if thread.accepted_post_id is None
                             else schema._answer_freshness(view)),
    }


_ANSWER_FRESHNESS = AnswerFreshnessOut()


class ThreadDetailOut(ThreadOut):
    status_history = fields.List(fields.Nested(StatusChangeOut),
                                 metadata={"description": "Idea status changes, oldest first."})


def _thread_detail_out(schema: ThreadDetailOut, view) -> dict:
    payload = _thread_out(schema, view)
    history = view.status_history
    payload["status_history"] = (None if history is None else
                                 _STATUS_CHANGES.dump(history) if history else [])
    return payload


# Built once (a schema's construction cost more than its dump of a short history).
_STATUS_CHANGES = StatusChangeOut(many=True)




class PostCreate(StrictSchema):
    body = fields.String(required=True, validate=BODY, metadata={"description": "Markdown."})
    parent_id = Id(load_default=None, allow_none=True,
                   metadata={"description": "A post of the same thread."})


class PostUpdate(StrictSchema):
    body = fields.String(required=True, validate=BODY)


class PostOut(DirectDump, StrictSchema):
    id = fields.Integer()
    thread_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    author = fields.Nested(UserRef)
    body = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    accepted = fields.Boolean()
    score = fields.Integer(metadata={"description": "upvotes - downvotes"})
    upvotes = fields.Integer()
    downvotes = fields.Integer()
    my_vote = fields.Integer(allow_none=True, metadata={"description": "1, -1 or null"})



def _post_out(schema: PostOut, view: PostView) -> dict:
    """PostOut's fields as marshmallow serializes them (see _thread_out)."""
    post = view.post
    return {
        "id": _number(int, post.id),
        "thread_id": _number(int, post.thread_id),
        "parent_id": _number(int, post.parent_id),
        "author": _user_ref(post.author),
        "body": _text(post.body),
        "created_at": _moment(post.created_at),
        "updated_at": _moment(post.updated_at),
        "accepted": None if view.accepted is None else bool(view.accepted),
        "score": _number(int, post.score),
        "upvotes": _number(int, post.upvotes),
        "downvotes": _number(int, post.downvotes),
        "my_vote": _number(int, view.my_vote),
    }


# Each schema's view and direct dump (DirectDump); subclasses not listed dump marshmallow's way.
_DIRECT_DUMPS = {ThreadOut: (ThreadView, _thread_out),
                 ThreadDetailOut: (ThreadView, _thread_detail_out),
                 VotesOut: (ThreadView, _votes_out), PostOut: (PostView, _post_out)}


class PostListArgs(PageArgs):
    sort = fields.String(
        validate=validate.OneOf(["votes", "time"]),
        metadata={"description": "votes: the accepted answer first, then by score, then oldest "
                                 "first; time: oldest first. Default: votes for questions, time "
                                 "for every other kind."})
