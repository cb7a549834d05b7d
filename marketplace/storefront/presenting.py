"""A product the way a shopper sees it: localized, and priced by the one pricing function."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from catalog.models import Category, Product
from catalog.services import categories_by_slug
from marketplace.kernel.money import Money
from marketplace.rates import services as rates
from marketplace.rates.conversion import RateTable
from marketplace.storefront.search.documents import build_document
from promotions import pricing


def present(session: Session, doc: dict[str, Any], locale: str, currency: str, table: RateTable,
            categories: dict[str, Category]) -> dict[str, Any]:
    """A product (as a search document) the way a shopper sees it: localized and priced."""
    translations = doc["translations"]
    served = locale if locale in translations else doc["original_locale"]
    text = translations[served]
    original = Money(Decimal(doc["price"]["amount"]), doc["price"]["currency"])
    quote = pricing.quote_price(session, original, currency, table, doc["id"], locale=locale)
    category = categories.get(doc["category"])
    return {
        **{k: doc[k] for k in ("id", "sku", "original_locale", "translations", "origin_country", "hs_code",
                               "attributes", "images", "stock", "in_stock", "status", "version", "weight_g",
                               "dimensions", "customs") if k in doc},
        "created_at": datetime.fromisoformat(doc["created_at"]),
        "updated_at": datetime.fromisoformat(doc["updated_at"]),
        "locale": served,
        "title": text["title"],
        "description": text.get("description", ""),
        "price": quote.price,
        "list_price": quote.list_price,
        "original_price": quote.original_price,
        "campaign": quote.campaign,
        "rating": {"average": doc.get("rating_average"), "count": doc.get("rating_count", 0)},
        "vendor": {"id": doc["vendor_id"], "display_name": doc["vendor_name"],
                   "country": doc.get("vendor_country", doc["origin_country"])},
        "category": {"slug": doc["category"], "name": category.name(locale) if category else doc["category"],
                     "path": doc.get("category_path", [])},
    }


def present_product(session: Session, product: Product, locale: str, currency: str) -> dict[str, Any]:
    table = rates.current_table(session)
    doc = build_document(session, product, table, current_app.config["BASE_CURRENCY"])
    return present(session, doc, locale, currency, table, categories_by_slug(session))
