"""Post vote endpoints: up- and down-votes on answers and replies."""
from collab.answers import service
from collab.answers.schemas import PostVoteIn
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.threads.schemas import PostOut

blueprint = Blueprint("answers", __name__, description="Votes on posts (answers)")


@blueprint.put("/posts/<int:post_id>/vote")
@blueprint.arguments(PostVoteIn)
@blueprint.response(200, PostOut)
def vote(fields, post_id):
    """Vote a post up (1) or down (-1) (active members; not your own post: 403).

    The same vote again changes nothing; another value replaces it. Locked threads (except for
    moderators) and merged duplicates refuse votes like any write.
    """
    return service.vote(current_user(), post_id, fields["value"])


@blueprint.delete("/posts/<int:post_id>/vote")
@blueprint.response(200, PostOut)
def withdraw_vote(post_id):
    """Withdraw the caller's vote on a post; answers the post with its new counts."""
    return service.withdraw_vote(current_user(), post_id)
