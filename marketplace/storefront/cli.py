import click
from flask.cli import AppGroup

from marketplace.storefront.search import backend, indexing
from marketplace.kernel.extensions import db

search_cli = AppGroup("search", help="Search index.")


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the search index beside the live one, then swap (searches and writes go on)."""
    total = indexing.count_public(db.session)
    with click.progressbar(length=total, label=f"Indexing {total} products", show_pos=True) as bar:
        indexed = indexing.reindex(db.session, progress=bar.update)
    click.echo(f"reindexed {indexed} products into the {backend.engine().name} engine")
