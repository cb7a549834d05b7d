from pathlib import Path

import click
from flask.cli import AppGroup

from marketplace.kernel.extensions import db
from marketplace.rates import feeds, services

fx_cli = AppGroup("fx", help="Exchange rates.")


@fx_cli.command("refresh")
@click.option("--source", required=True, type=click.Choice(["ecb", "cbr"]))
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Load a saved feed document instead of fetching the bank's URL.")
def refresh(source: str, path: Path | None) -> None:
    """Load the central bank's daily reference rates."""
    try:
        quotes = services.refresh(db.session, source, path)
    except feeds.FeedError as error:
        raise click.ClickException(str(error)) from None
    dates = sorted({q.as_of for q in quotes})
    click.echo(f"loaded {len(quotes)} {source} rates dated {', '.join(map(str, dates))}")


@fx_cli.command("set")
@click.option("--base", required=True)
@click.option("--quote", required=True)
@click.option("--rate", required=True, help="Units of QUOTE for one unit of BASE, e.g. 7.1")
def set_rate(base: str, quote: str, rate: str) -> None:
    """Set a manual rate for a pair no bank publishes."""
    try:
        item = services.set_manual(db.session, base, quote, rate)
    except ValueError as error:  # includes CurrencyError
        raise click.ClickException(str(error)) from None
    click.echo(f"1 {item.base} = {item.rate:f} {item.quote} (manual, {item.as_of})")
