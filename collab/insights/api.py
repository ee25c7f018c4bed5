"""Insight endpoints: a community's (owners and moderators) and the organisation's (admins)."""
from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.insights import service
from collab.insights.schemas import InsightArgs, Insights

blueprint = Blueprint("insights", __name__, description="Community insights (k-anonymous)")


@blueprint.get("/communities/<slug>/insights")
@blueprint.arguments(InsightArgs, location="query")
@blueprint.response(200, Insights)
def community_insights(args, slug):
    """Activity, response times, answer rate, unanswered questions, idea funnel, concerns,
    cross-audience flow and rising topics; figures about fewer than 5 people are suppressed."""
    return service.community_insights(current_user(), slug, args)


@blueprint.get("/insights")
@blueprint.arguments(InsightArgs, location="query")
@blueprint.response(200, Insights)
def organization_insights(args):
    """The same over every community (admins only)."""
    return service.organization_insights(current_user(), args)
