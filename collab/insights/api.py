"""Insight endpoints: a community's (owners and moderators) and the organisation's (admins);
the roll-up rebuild command."""
import click
from flask.cli import AppGroup

from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.insights import service
from collab.insights.schemas import InsightArgs, Insights

blueprint = Blueprint("insights", __name__, description="Community insights (k-anonymous)")
insights_cli = AppGroup("insights", help="Insight roll-ups.")


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


@insights_cli.command("rebuild")
def rebuild():
    """Recompute the daily roll-up and thread facts from the history (what the events keep)."""
    with click.progressbar(length=service.rollup_days(), label="insights rebuild (days)",
                           show_pos=True) as bar:
        rows, facts = service.rebuild(progress=bar.update)
    click.echo(f"{rows} person-days, {facts} thread facts")
