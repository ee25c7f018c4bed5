"""Flag endpoints, the moderators' queue, and moderation actions."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.moderation import service
from collab.moderation.schemas import (
    FlagCreate,
    FlagOut,
    FlagQueueArgs,
    ModerationAction,
    ModerationOut,
)
from collab.schemas import page_schema

blueprint = Blueprint("moderation", __name__, description="Flags and moderation")

FlagPage = page_schema(FlagOut, "FlagPage")


def _flag(target_type, target_id, fields):
    flag, created = service.flag(current_user(), target_type, target_id, fields["reason"])
    return flag, 201 if created else 200


@blueprint.post("/threads/<int:thread_id>/flags")
@blueprint.arguments(FlagCreate)
@blueprint.response(201, FlagOut)
@blueprint.alt_response(200, schema=FlagOut, description="Already flagged by the caller")
def flag_thread(fields, thread_id):
    """Flag a thread for the moderators, with a reason (members)."""
    return _flag(service.THREAD, thread_id, fields)


@blueprint.post("/posts/<int:post_id>/flags")
@blueprint.arguments(FlagCreate)
@blueprint.response(201, FlagOut)
@blueprint.alt_response(200, schema=FlagOut, description="Already flagged by the caller")
def flag_post(fields, post_id):
    """Flag a post for the moderators, with a reason (members)."""
    return _flag(service.POST, post_id, fields)


@blueprint.get("/communities/<slug>/flags")
@blueprint.arguments(FlagQueueArgs, location="query")
@blueprint.response(200, FlagPage)
def flag_queue(args, slug):
    """The moderators' queue: open (or resolved) flags, newest first."""
    return service.queue(current_user(), slug, args)


@blueprint.post("/threads/<int:thread_id>/moderation")
@blueprint.arguments(ModerationAction)
@blueprint.response(200, ModerationOut)
def moderate_thread(fields, thread_id):
    """Hide, restore or delete a thread, with a reason (moderators; audited)."""
    return service.moderate(current_user(), service.THREAD, thread_id, fields["action"],
                            fields["reason"])


@blueprint.post("/posts/<int:post_id>/moderation")
@blueprint.arguments(ModerationAction)
@blueprint.response(200, ModerationOut)
def moderate_post(fields, post_id):
    """Hide, restore or delete a post, with a reason (moderators; audited)."""
    return service.moderate(current_user(), service.POST, post_id, fields["action"],
                            fields["reason"])
