"""`flask users create`: bootstrap users and tokens from the command line."""
import click
from flask.cli import AppGroup

from collab.errors import DomainError
from collab.people import service
from collab.people.models import Audience

users_cli = AppGroup("users", help="Manage users.")


@users_cli.command("create")
@click.option("--handle", required=True)
@click.option("--email", required=True)
@click.option("--audience", required=True, type=click.Choice([a.value for a in Audience]))
@click.option("--name", "display_name", default=None, help="Display name (default: handle).")
@click.option("--organization", default=None, help="The partner's or customer's company.")
@click.option("--admin", "is_admin", is_flag=True, help="Make the user an administrator.")
def create(handle, email, audience, display_name, organization, is_admin):
    """Create a user and print a new API token as the last line."""
    from collab.people.schemas import UserCreate

    fields = {"handle": handle, "email": email, "audience": audience, "is_admin": is_admin,
              "organization": organization}
    if display_name:
        fields["display_name"] = display_name
    errors = UserCreate().validate(fields)
    if errors:
        raise click.UsageError(f"invalid user: {errors}")
    existing = service.find_user_by_handle(handle)
    if existing is not None:
        # Running the README's command after `seed demo` (which made `ada`) must still give a token:
        # the same person (handle, email, audience, organization) gets one; anyone else is refused.
        _check_same_person(existing, fields)
        user, verb = existing, "User already exists"
    else:
        try:
            user = service.create_user(None, **fields)
        except DomainError as error:
            raise click.ClickException(error.detail) from None
        verb = "Created user"
    _, token = service.issue_token(None, user.id, "cli")
    click.echo(f"{verb} {user.handle} (id {user.id}, {user.audience}"
               f"{', admin' if user.is_admin else ''}). Token (shown once):")
    click.echo(token)


def _check_same_person(user, fields) -> None:
    differences = [name for name, wanted, actual in (
        ("email", fields["email"].strip().lower(), user.email),
        ("audience", fields["audience"], user.audience),
        ("organization", fields["organization"] or None, user.organization or None),
    ) if wanted != actual]
    if fields["is_admin"] and not user.is_admin:
        differences.append("admin")
    if differences:
        raise click.ClickException(
            f"User {user.handle} already exists with another {', '.join(differences)} (the handle is taken); "
            "choose another handle.")
