"""A campaign's products as shoppers see them: the same items and filters as search.

Search sits above promotions (it prices through promotions.pricing), so promotions does not import it: the
application plugs search's rendering in here (`register_products_source`), as checkout plugs in the sales
the campaign report reads."""
from __future__ import annotations

from typing import Any, Callable

from flask import Flask, current_app
from sqlalchemy.orm import Session

PRODUCTS_SOURCE = "promotions.campaign_products"

#: (session, search arguments, locale) -> the search answer as JSON bytes
ProductsSource = Callable[[Session, dict[str, Any], str], bytes]


def register_products_source(app: Flask, source: ProductsSource) -> None:
    app.extensions[PRODUCTS_SOURCE] = source


def campaign_products(session: Session, slug: str, args: dict[str, Any], locale: str) -> bytes:
    """The search answer for the campaign's products (`args` filter them further, as in search)."""
    return current_app.extensions[PRODUCTS_SOURCE](session, {**args, "campaign": slug}, locale)
