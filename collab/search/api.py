"""Search endpoints: search, typeahead, status (related and similar threads: collab.similarity)."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.search import service
from collab.search.schemas import (
    SearchArgs,
    SearchResult,
    SearchStatus,
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
