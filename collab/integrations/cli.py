"""`flask integrations purge-idempotency-keys`: delete idempotency keys past their retention."""
import click
from flask.cli import AppGroup

integrations_cli = AppGroup("integrations", help="API clients and idempotency keys.")


@integrations_cli.command("purge-idempotency-keys")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Keys deleted per transaction.")
def purge_idempotency_keys(batch):
    """Delete keys older than IDEMPOTENCY_TTL_SECONDS (run it daily, e.g. from cron)."""
    from collab.integrations import idempotency

    total = [0]

    def progress(deleted: int) -> None:
        total[0] += deleted
        click.echo(f"  deleted {total[0]} ...")

    purged = idempotency.purge_expired(batch=batch, progress=progress)
    click.echo(f"done: purged {purged} expired idempotency keys")
