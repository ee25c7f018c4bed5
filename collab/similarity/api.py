"""Related threads, "has this been asked?" for drafts, and duplicate suggestions."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.search.schemas import ScoredThreads
from collab.similarity import service
from collab.similarity.schemas import (
    DuplicateArgs,
    DuplicatePairs,
    RelatedArgs,
    SimilarIdeaArgs,
    SimilarThreadArgs,
)

blueprint = Blueprint("similarity", __name__, description="Related threads and duplicates")


@blueprint.get("/threads/<int:thread_id>/related")
@blueprint.arguments(RelatedArgs, location="query")
@blueprint.response(200, ScoredThreads)
def related(args, thread_id):
    """Threads like this one, best first (BM25 over title and body, and embeddings)."""
    return service.related(current_user(), thread_id, args["limit"], args["scope"])


@blueprint.post("/communities/<slug>/threads/similar")
@blueprint.arguments(SimilarThreadArgs)
@blueprint.response(200, ScoredThreads)
def similar_threads(fields, slug):
    """Existing threads like a draft, of every kind or one: has this been asked?"""
    return service.similar_threads(current_user(), slug, fields)


@blueprint.post("/communities/<slug>/ideas/similar")
@blueprint.arguments(SimilarIdeaArgs)
@blueprint.response(200, ScoredThreads)
def similar_ideas(fields, slug):
    """Existing ideas like a draft, to see before posting a duplicate."""
    return service.similar_ideas(current_user(), slug, fields)


@blueprint.get("/communities/<slug>/duplicates")
@blueprint.arguments(DuplicateArgs, location="query")
@blueprint.response(200, DuplicatePairs)
def duplicates(args, slug):
    """Likely duplicate pairs among the community's newest threads (moderators), ready to merge."""
    return service.duplicates(current_user(), slug, args)
