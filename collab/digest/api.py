"""Digest endpoint."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.digest import service
from collab.digest.schemas import Digest, DigestArgs

blueprint = Blueprint("digest", __name__, description="Community digest")


@blueprint.get("/communities/<slug>/digest")
@blueprint.arguments(DigestArgs, location="query")
@blueprint.response(200, Digest)
def digest(args, slug):
    """What a weekly email would say: new and rising threads, newly answered questions, ideas
    that moved, open concerns (listed for moderators), new experts."""
    return service.digest(current_user(), slug, args)
