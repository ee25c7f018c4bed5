"""Search endpoints: search, typeahead, related threads, similar ideas, status."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.search import service
from collab.search.schemas import (
    RelatedArgs,
    ScoredThreads,
    SearchArgs,
    SearchResult,
    SearchStatus,
    SimilarIdeaArgs,
    SuggestArgs,
    SuggestResult,
)

blueprint = Blueprint("search", __name__, description="Search and discovery")


@blueprint.get("/search")
@blueprint.arguments(SearchArgs, location="query")
@blueprint.response(200, SearchResult)
def search(args):
    """Threads matching `q` (one item per thread, its best post folded in), with facets."""
    return service.search(current_user(), args)


@blueprint.get("/search/suggest")
@blueprint.arguments(SuggestArgs, location="query")
@blueprint.response(200, SuggestResult)
def suggest(args):
    """Typeahead from the first letters: thread titles, tags and communities."""
    return service.suggest(current_user(), args["q"], args["limit"])


@blueprint.get("/search/status")
@blueprint.response(200, SearchStatus)
def status():
    """Engine, alias, physical index, documents and outbox backlog (admins)."""
    return service.status(current_user())


@blueprint.get("/threads/<int:thread_id>/related")
@blueprint.arguments(RelatedArgs, location="query")
@blueprint.response(200, ScoredThreads)
def related(args, thread_id):
    """Threads like this one (more like this)."""
    return service.related(current_user(), thread_id, args["limit"])


@blueprint.post("/communities/<slug>/ideas/similar")
@blueprint.arguments(SimilarIdeaArgs)
@blueprint.response(200, ScoredThreads)
def similar_ideas(fields, slug):
    """Existing ideas like a draft, to see before posting a duplicate."""
    return service.similar_ideas(current_user(), slug, fields)
