"""Concern endpoints: flag a thread, the moderators' queue, and the raiser's view."""
from flask import jsonify

from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.concerns import service
from collab.concerns.schemas import (
    ConcernListArgs,
    ConcernOut,
    ConcernPage,
    ConcernStatusOut,
    ConcernStatusPage,
    ConcernUpdate,
    ConcernFlagCreate,
    ConcernFlagOut,
)
from collab.schemas import PageArgs

blueprint = Blueprint("concerns", __name__, description="Concerns routed to owners and moderators")


@blueprint.post("/threads/<int:thread_id>/concern-flags")
@blueprint.arguments(ConcernFlagCreate)
@blueprint.response(201, ConcernFlagOut)
def flag(fields, thread_id):
    """Flag a thread as a concern (active members, once each); may open a concern."""
    return service.raise_flag(current_user(), thread_id, fields)


@blueprint.get("/communities/<slug>/concerns")
@blueprint.arguments(ConcernListArgs, location="query")
@blueprint.response(200, ConcernPage)
def list_concerns(args, slug):
    """The community's concern queue (owners and moderators), oldest last."""
    return service.list_concerns(current_user(), slug, args)


@blueprint.get("/concerns/<int:concern_id>")
@blueprint.response(200, ConcernOut)
def get_concern(concern_id):
    """A concern: in full for moderators; state and response for its author and flaggers."""
    concern = service.get_concern(current_user(), concern_id)
    schema = ConcernOut() if "score" in concern else ConcernStatusOut()
    return jsonify(schema.dump(concern))


@blueprint.patch("/concerns/<int:concern_id>")
@blueprint.arguments(ConcernUpdate)
@blueprint.response(200, ConcernOut)
def update_concern(fields, concern_id):
    """Acknowledge, resolve, dismiss or reopen; assign; answer with a note (moderators)."""
    return service.update_concern(current_user(), concern_id, fields)


@blueprint.get("/me/concerns")
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, ConcernStatusPage)
def my_concerns(args):
    """Concerns on threads the caller started or flagged: were they acknowledged, and how?"""
    return service.my_concerns(current_user(), args)
