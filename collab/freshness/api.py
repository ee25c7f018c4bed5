"""Verify an accepted answer, or mark it obsolete."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.freshness import service
from collab.threads.schemas import ThreadDetailOut

blueprint = Blueprint("freshness", __name__, description="Knowledge freshness of accepted answers")


@blueprint.post("/posts/<int:post_id>/verify")
@blueprint.response(200, ThreadDetailOut)
def verify(post_id):
    """Confirm an accepted answer is still right (its author or moderators): the review clock restarts.

    404 if the post is not visible, 403 for anyone else, 409 if the post is not the accepted answer.
    Answers the thread with its `answer_freshness`.
    """
    return service.verify(current_user(), post_id)


@blueprint.post("/posts/<int:post_id>/obsolete")
@blueprint.response(200, ThreadDetailOut)
def obsolete(post_id):
    """Mark an accepted answer obsolete (its author or moderators); a later verify undoes it."""
    return service.mark_obsolete(current_user(), post_id)
