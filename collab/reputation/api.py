"""Reputation endpoints and the recompute command."""
import click
from flask.cli import AppGroup

from collab.auth import current_user
from collab.blueprints import Blueprint
from collab.reputation import service
from collab.reputation.schemas import Leaderboard, LeaderboardArgs, UserReputation

blueprint = Blueprint("reputation", __name__, description="Reputation and leaderboards")
reputation_cli = AppGroup("reputation", help="Reputation ledger.")


@blueprint.get("/communities/<slug>/leaderboard")
@blueprint.arguments(LeaderboardArgs, location="query")
@blueprint.response(200, Leaderboard)
def leaderboard(args, slug):
    """People by points earned in the community over the period (anyone who sees it)."""
    return service.leaderboard(current_user(), slug, args)


@blueprint.get("/users/<int:user_id>/reputation")
@blueprint.response(200, UserReputation)
def user_reputation(user_id):
    """A person's points per community, in the communities the caller may see."""
    return service.of_user(current_user(), user_id)


@reputation_cli.command("recompute")
def recompute():
    """Rebuild every daily total from the event history (same totals as the live ledger)."""
    click.echo("recomputing reputation from the event history...")
    rows, points = service.recompute()
    click.echo(f"{rows} person-days, {points} points")
