"""Expertise endpoints: who knows about a topic, and what a person knows about."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.expertise import service
from collab.expertise.schemas import ExpertArgs, Expertise, ExpertiseArgs, ExpertList

blueprint = Blueprint("expertise", __name__, description="Expertise location")


@blueprint.get("/experts")
@blueprint.arguments(ExpertArgs, location="query")
@blueprint.response(200, ExpertList)
def experts(args):
    """People ranked by evidence about `q` in content the caller may see, each with why."""
    return service.experts(current_user(), args)


@blueprint.get("/users/<int:user_id>/expertise")
@blueprint.arguments(ExpertiseArgs, location="query")
@blueprint.response(200, Expertise)
def expertise(args, user_id):
    """A person's top tags and significant words, from what the caller may see of their work."""
    return service.expertise(current_user(), user_id, args["limit"])
