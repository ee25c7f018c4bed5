"""Webhooks: signed event deliveries to subscribers, written in the transaction of the change."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Deliveries written with every change; sent in-process when configured (development)."""
    from flask_sqlalchemy.session import Session as FlaskSession

    from collab.webhooks import delivery, events
    from collab.webhooks.cli import webhooks_cli

    events.listen(FlaskSession)
    delivery.install_in_process_sender(app)
    app.cli.add_command(webhooks_cli)
