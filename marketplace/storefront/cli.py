import click
from flask.cli import AppGroup

from marketplace.storefront.search import services as search
from marketplace.kernel.extensions import db

search_cli = AppGroup("search", help="Search index.")


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the search index beside the live one, then swap (searches and writes go on)."""
    total = search.count_public(db.session)
    with click.progressbar(length=total, label=f"Indexing {total} products", show_pos=True) as bar:
        indexed = search.reindex(db.session, progress=bar.update)
    click.echo(f"reindexed {indexed} products into the {search.engine().name} engine")
