import click
from flask.cli import AppGroup

from marketplace.accounts import services
from marketplace.accounts.models import Role
from marketplace.kernel.errors import DomainError
from marketplace.kernel.extensions import db

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
def create_user(email: str, password: str, role: str) -> None:
    """Create an account (staff roles included)."""
    try:
        user = services.create_user(db.session, email, password, role)
    except DomainError as error:
        raise click.ClickException(str(error.detail)) from None
    click.echo(f"created user {user.id} <{user.email}> with role {user.role}")
