"""`flask seed-demo`: idempotent demo data for the embedded default."""
import click
from flask.cli import with_appcontext


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load demo rates, staff accounts and approved vendors (safe to run again)."""
    raise click.ClickException("not ready")
