"""`flask webhooks deliver [--follow]`: the delivery worker."""
import click
from flask import current_app
from flask.cli import AppGroup

webhooks_cli = AppGroup("webhooks", help="Deliver webhook events.")


@webhooks_cli.command("deliver")
@click.option("--follow", is_flag=True, help="Keep running, polling for new deliveries.")
@click.option("--poll-seconds", default=1.0, show_default=True, type=float)
def deliver(follow, poll_seconds):
    """Send due deliveries (once, or continuously with --follow)."""
    from collab.webhooks import delivery

    total = delivery.run(current_app._get_current_object(), follow=follow,
                         poll_seconds=poll_seconds, echo=click.echo)
    click.echo(f"done: delivered {total.delivered}, failed attempts {total.failed_attempts}, "
               f"skipped {total.skipped}, still waiting {total.waiting}")
