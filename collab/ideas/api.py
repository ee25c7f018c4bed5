"""Idea endpoints: votes, the status lifecycle and merging duplicates."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.ideas import service
from collab.ideas.schemas import MergeIn, StatusChangeIn, VoteIn
from collab.threads.schemas import StatusChangeOut, ThreadDetailOut, VotesOut

blueprint = Blueprint("ideas", __name__, description="Idea votes, status and merging")


@blueprint.put("/threads/<int:thread_id>/vote")
@blueprint.arguments(VoteIn)
@blueprint.response(200, VotesOut)
def vote(fields, thread_id):
    """Vote on an idea (active members); the same vote again changes nothing.

    Votes freeze (409) once the idea is done or declined, or merged into another.
    """
    return service.vote(current_user(), thread_id, fields["value"])


@blueprint.delete("/threads/<int:thread_id>/vote")
@blueprint.response(200, VotesOut)
def withdraw_vote(thread_id):
    """Withdraw the caller's vote; answers the new counts."""
    return service.withdraw_vote(current_user(), thread_id)


@blueprint.post("/threads/<int:thread_id>/status")
@blueprint.arguments(StatusChangeIn)
@blueprint.response(201, StatusChangeOut)
def change_status(fields, thread_id):
    """Move an idea along new → under_review → planned → in_progress → done (owners, moderators).

    Forward moves may skip steps; any state but done may go to declined; declined may reopen
    to under_review. Anything else is 409.
    """
    return service.change_status(current_user(), thread_id, fields)


@blueprint.get("/threads/<int:thread_id>/status")
@blueprint.response(200, StatusChangeOut(many=True))
def list_status_changes(thread_id):
    """The idea's status changes, oldest first."""
    return service.list_status_changes(current_user(), thread_id)


@blueprint.post("/threads/<int:thread_id>/merge")
@blueprint.arguments(MergeIn)
@blueprint.response(200, ThreadDetailOut)
def merge(fields, thread_id):
    """Merge this duplicate idea into `into` (moderators): votes move, this one turns read-only."""
    return service.merge(current_user(), thread_id, fields["into"])
