"""Bulk product writes: the catalog's path for a capability that writes many products at once (partner
listing sync). Products are written only here and in `catalog.services`.

Every function works in the caller's transaction and never commits; the caller records the search
changes (`catalog.services.record_search_changes`) once for everything it wrote.

A product's *content* is its whole listing, by field name: `sku`, `translations`, `original_locale`,
`stock` (absolute), `hs_code`, `attributes`, `images`, `status`, the customs data (`weight_g`, `length_mm`,
`width_mm`, `height_mm`, `customs_description`: None when absent), `origin_country` (the caller fills in the
vendor's country when the listing names none, and checks it with `catalog.services.origin_problem`); the price
(a `Money`) and the category (its id) are given apart. Other keys in the mapping are ignored.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from catalog.models import Product, ProductStatus
from marketplace.kernel.clock import now
from marketplace.kernel.money import Money

CONTENT_FIELDS = ("sku", "translations", "original_locale", "stock", "hs_code", "attributes", "images", "status",
                  "origin_country", "weight_g", "length_mm", "width_mm", "height_mm", "customs_description")


# -- reading what a bulk write works on -------------------------------------

def lock_products(session: Session, product_ids: Iterable[int]) -> dict[int, Product]:
    """{id: product}, read afresh with their rows locked (PostgreSQL; SQLite serializes writers), in id
    order as every product writer locks them, so that two bulk writes over the same products wait for
    each other instead of deadlocking."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(
        select(Product).where(Product.id.in_(ids)).order_by(Product.id).with_for_update()
        .execution_options(populate_existing=True))}


def products_by_sku(session: Session, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """{(vendor_id, sku): product id} of the `pairs` some product holds already."""
    if not pairs:
        return {}
    rows = session.execute(select(Product.vendor_id, Product.sku, Product.id)
                           .where(Product.vendor_id.in_({v for v, _s in pairs}),
                                  Product.sku.in_({s for _v, s in pairs})))
    return {(vendor_id, sku): product_id for vendor_id, sku, product_id in rows if (vendor_id, sku) in pairs}


# -- writing -----------------------------------------------------------------

def product_row(vendor_id: int, content: Mapping[str, Any], category_id: int, price: Money,
                stamp: datetime) -> dict[str, Any]:
    """A new product's row (version 1), for `insert_products`."""
    row = {name: content.get(name) for name in CONTENT_FIELDS}
    row.update(vendor_id=vendor_id, price_amount=price.amount, price_currency=price.currency,
               category_id=category_id, version=1, created_at=stamp, updated_at=stamp)
    return row


def insert_products(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
    """Insert new products (Core executemany: insertmanyvalues batches), returning {(vendor_id, sku): id}.

    RETURNING carries the unique (vendor_id, sku) with each id, so that no order of the returned rows is
    needed (SQLite cannot promise one)."""
    if not rows:
        return {}
    table = Product.__table__
    returned = session.execute(insert(table).returning(table.c.id, table.c.vendor_id, table.c.sku), rows)
    return {(vendor_id, sku): product_id for product_id, vendor_id, sku in returned}


def write_content(product: Product, content: Mapping[str, Any], category_id: int, price: Money,
                  stamp: datetime) -> None:
    """Replace the product's whole content; its version goes up by one."""
    for name in CONTENT_FIELDS:
        setattr(product, name, content.get(name))
    product.price = price
    product.category_id = category_id
    touch(product, stamp)


def set_stock_and_price(product: Product, stock: int | None = None, price: Money | None = None) -> None:
    """Absolute stock and/or a new price (None: unchanged). The caller decides whether the product changed
    and then `touch`es it."""
    if stock is not None:
        product.stock = stock
    if price is not None:
        product.price = price


def touch(product: Product, stamp: datetime) -> None:
    """Mark a changed product: its version goes up by one and `updated_at` becomes `stamp`."""
    product.version += 1
    product.updated_at = stamp


def archive(session: Session, product_id: int) -> tuple[Product, bool]:
    """(the product, whether it changed): archived, its row locked first and read afresh."""
    product = session.get(Product, product_id, with_for_update=True, populate_existing=True)
    if product.status == ProductStatus.ARCHIVED:
        return product, False
    product.status = ProductStatus.ARCHIVED
    touch(product, now())
    return product, True
