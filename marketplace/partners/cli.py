"""`flask partners ...`: partners and their API keys (a new key is printed once, alone on the last line)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.kernel.errors import DomainError
from marketplace.kernel.extensions import db
from marketplace.partners import keys
from marketplace.partners.models import ALL_SCOPES

partners_cli = AppGroup("partners", help="Partners of the partner API and their API keys.")
keys_cli = AppGroup("keys", help="A partner's API keys.")
partners_cli.add_command(keys_cli)

SCOPES_HELP = (f"Scopes, comma-separated or repeated: {', '.join(ALL_SCOPES)} (default: all four).")


def _fail(error: DomainError) -> None:
    raise click.ClickException(str(error.detail))


def _echo_key(key: str) -> None:
    click.echo("API key (shown once; only its hash is stored):")
    click.echo(key)


@partners_cli.command("create")
@click.option("--name", required=True, help="The partner's name.")
@click.option("--scopes", multiple=True, help=SCOPES_HELP)
def create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a partner and its first API key."""
    try:
        partner, key = keys.create_partner(db.session, name, scopes)
    except DomainError as error:
        _fail(error)
    click.echo(f"partner {partner.id}: {partner.name}")
    _echo_key(key)


@partners_cli.command("list")
def list_partners() -> None:
    """Partners and how many active keys each has."""
    for partner, active in keys.list_partners(db.session):
        click.echo(f"{partner.id}\t{partner.name}\t{active} active key(s)")


@keys_cli.command("create")
@click.option("--partner", "partner_id", required=True, type=int, help="The partner's id.")
@click.option("--scopes", multiple=True, help=SCOPES_HELP)
def create_key(partner_id: int, scopes: tuple[str, ...]) -> None:
    """Give a partner another API key (e.g. to rotate: create, deploy, revoke the old one)."""
    try:
        row, key = keys.create_key(db.session, partner_id, scopes)
    except DomainError as error:
        _fail(error)
    click.echo(f"key {row.id} ({row.prefix}) for partner {partner_id}, scopes: {', '.join(row.scopes)}")
    _echo_key(key)


@keys_cli.command("revoke")
@click.option("--key-id", type=int, help="The key's id.")
@click.option("--prefix", help="The key's prefix (bbp_xxxxxxxx).")
def revoke_key(key_id: int | None, prefix: str | None) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    if (key_id is None) == (prefix is None):
        raise click.UsageError("Give exactly one of --key-id and --prefix.")
    try:
        row = keys.revoke_key(db.session, key_id=key_id, prefix=prefix)
    except DomainError as error:
        _fail(error)
    click.echo(f"revoked key {row.id} ({row.prefix}) of partner {row.partner_id}")


@keys_cli.command("list")
@click.option("--partner", "partner_id", required=True, type=int, help="The partner's id.")
def list_keys(partner_id: int) -> None:
    """A partner's keys (prefixes, scopes, state, last use; secrets are never stored)."""
    for row in keys.list_keys(db.session, partner_id):
        state = f"revoked {row.revoked_at.isoformat()}" if row.revoked_at else "active"
        used = f"last used {row.last_used_at.isoformat()}" if row.last_used_at else "never used"
        click.echo(f"{row.id}\t{row.prefix}\t{','.join(row.scopes)}\t{state}\t{used}")
