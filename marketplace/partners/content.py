"""A listing's canonical content and its hash (what "unchanged" means), and the `listing.updated` event.

The same content is built from a partner's listing and from the stored product, so that comparing their
hashes tells whether a sync changes anything.
"""
from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from catalog import services as catalog
from catalog.models import Product, ProductStatus
from marketplace.kernel import events, jsoncodec
from marketplace.kernel.money import Money, quantum
from marketplace.partners.topics import LISTING_UPDATED


def amount_text(amount: Decimal, currency: str) -> str:
    """The canonical text of an amount: the currency's minor units ("650.00"), whatever the column's scale."""
    try:
        return format(amount.quantize(quantum(currency)), "f")
    except ArithmeticError:  # more places than the currency has (never stored through the API)
        return format(amount.normalize(), "f")


#: The product's customs data, flat as the product keeps it; in a listing's content only when set (a listing
#: without customs data hashes as it did before products carried any).
CUSTOMS_FIELDS = ("weight_g", "length_mm", "width_mm", "height_mm", "customs_description")


def canonical_content(vendor_id: int, sku: str, translations: dict, original_locale: str, price: Money,
                      stock: int, category: str, hs_code: str, attributes: dict, images: list,
                      status: str, customs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "vendor_id": vendor_id, "sku": sku,
        "translations": {locale: {"title": t["title"], "description": t.get("description", "")}
                         for locale, t in translations.items()},
        "original_locale": original_locale,
        "price": [amount_text(price.amount, price.currency), price.currency],
        "stock": stock, "category": category, "hs_code": hs_code,
        "attributes": attributes or {}, "images": list(images or []), "status": str(status),
        **{name: value for name, value in (customs or {}).items() if value is not None},
    }


def listing_customs(data: dict[str, Any]) -> dict[str, Any]:
    """A listing's `weight_g`, `dimensions` and `customs` as the product's flat fields."""
    dimensions = data.get("dimensions") or {}
    return {"weight_g": data.get("weight_g"), "length_mm": dimensions.get("length_mm"),
            "width_mm": dimensions.get("width_mm"), "height_mm": dimensions.get("height_mm"),
            "customs_description": (data.get("customs") or {}).get("description")}


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(jsoncodec.canonical(content)).hexdigest()


def listing_content(data: dict[str, Any]) -> dict[str, Any]:
    """The content of a listing as a partner sent it (loaded by `ListingSchema`)."""
    translations = data["translations"]
    return canonical_content(data["vendor_id"], data["sku"], translations,
                             data.get("original_locale") or next(iter(translations)), data["price"],
                             data["stock"], data["category"], data["hs_code"], data.get("attributes") or {},
                             data.get("images") or [], data.get("status") or ProductStatus.DRAFT.value,
                             listing_customs(data))


def product_content(product: Product, slugs: dict[int, str]) -> dict[str, Any]:
    """The content of a stored product; `slugs`: {category id: slug}."""
    return canonical_content(product.vendor_id, product.sku, product.translations, product.original_locale,
                             product.price, product.stock, slugs.get(product.category_id, ""), product.hs_code,
                             product.attributes or {}, product.images or [], product.status,
                             {name: getattr(product, name) for name in CUSTOMS_FIELDS})


def category_slugs(session: Session) -> dict[int, str]:
    return {c.id: slug for slug, c in catalog.categories_by_slug(session).items()}


# -- the listing.updated event -----------------------------------------------

_EVENT_FIELDS = ("vendor_id", "sku", "status", "stock", "price_amount", "price_currency", "version", "updated_at")


def event_data_of(product_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """The `listing.updated` event's data (the fan-out adds each partner's own external_id)."""
    return {"product_id": product_id, "vendor_id": values["vendor_id"], "sku": values["sku"],
            "status": str(values["status"]), "stock": values["stock"],
            "price": {"amount": amount_text(values["price_amount"], values["price_currency"]),
                      "currency": values["price_currency"]},
            "version": values["version"], "updated_at": values["updated_at"].isoformat()}


def snapshot(product: Product) -> tuple[int, dict[str, Any]]:
    """(product id, its `listing.updated` event data) as the product stands."""
    return product.id, event_data_of(product.id, {name: getattr(product, name) for name in _EVENT_FIELDS})


def announce(session: Session, changes: list[tuple[int, dict[str, Any]]]) -> None:
    """Every listing write ends here, [(product_id, event data)]: the search outbox events and the partner
    events, written in bulk in the caller's transaction."""
    catalog.record_search_changes(session, [product_id for product_id, _data in changes])
    events.publish_many(session, LISTING_UPDATED, [(data, [data["vendor_id"]]) for _id, data in changes])
