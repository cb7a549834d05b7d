"""Answering shoppers: a search (hits, facets, price buckets in the shopper's currency) and suggestions."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import services as catalog
from marketplace.kernel.errors import ErrorCode, Unavailable
from marketplace.kernel.i18n import country_name
from marketplace.kernel.money import CONTEXT, Money, quantum, round_amount
from marketplace.rates import services as rates
from marketplace.rates.conversion import NoRate, RateTable
from marketplace.storefront import presenting
from marketplace.storefront.search.backend import engine
from marketplace.storefront.search.documents import MICROS, base_micros
from marketplace.storefront.search.engine import EngineUnavailable, SearchQuery
from vendors.models import Vendor

#: Facet price ladder in the base currency; shown converted (and made round) in the shopper's currency.
PRICE_LADDER = (Decimal(10), Decimal(25), Decimal(50), Decimal(100), Decimal(250), Decimal(500), Decimal(1000))


def _nice(amount: Decimal, currency: str) -> Decimal:
    """Round to two significant digits (a facet edge a person reads easily)."""
    if amount <= 0:
        return Decimal(0)
    exponent = amount.adjusted() - 1
    return round_amount(amount.scaleb(-exponent).quantize(Decimal(1)).scaleb(exponent), currency)


def price_buckets(currency: str, table: RateTable) -> list[tuple[Decimal | None, Decimal | None]]:
    base = current_app.config["BASE_CURRENCY"]
    try:
        edges = sorted({_nice(table.convert(Money(step, base), currency).amount, currency) for step in PRICE_LADDER})
    except NoRate:
        return []
    bounds: list[Decimal | None] = [None, *edges, None]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def _micros(amount: Decimal | None, currency: str, table: RateTable) -> int | None:
    if amount is None:
        return None
    return base_micros(Money(amount, currency), table, current_app.config["BASE_CURRENCY"])


def _bound_micros(amount: Decimal | None, currency: str, table: RateTable, widen: int) -> int | None:
    """A price bound the shopper typed in `currency`, in base micros, widened by half a minor unit
    (`widen` -1 for a minimum, +1 for a maximum): prices are shown rounded, so a product shown at
    exactly the bound is inside it."""
    if amount is None:
        return None
    try:
        rate = table.rate(currency, current_app.config["BASE_CURRENCY"]).rate
    except NoRate:
        return None
    with localcontext(CONTEXT):
        edge = amount + widen * quantum(currency) / 2
        return int((edge * rate * MICROS).to_integral_value(rounding=ROUND_HALF_UP))


def search(session: Session, args: dict[str, Any], locale: str) -> dict[str, Any]:
    table = rates.current_table(session)
    currency = args.get("currency") or current_app.config["BASE_CURRENCY"]
    buckets = price_buckets(currency, table)
    query = SearchQuery(
        q=args.get("q", ""), locale=locale, origin_countries=tuple(args.get("origin_country", ())),
        category=args.get("category"), vendor_id=args.get("vendor"),
        price_min_micros=_bound_micros(args.get("price_min"), currency, table, -1),
        price_max_micros=_bound_micros(args.get("price_max"), currency, table, +1),
        in_stock=args.get("in_stock"), campaign=args.get("campaign"), sort=args.get("sort", "relevance"),
        page=args["page"], per_page=args["per_page"],
        price_ranges=tuple((_micros(low, currency, table), _micros(high, currency, table)) for low, high in buckets),
    )
    try:
        result = engine().search(query)
    except EngineUnavailable as error:
        raise Unavailable(ErrorCode.SERVICE_UNAVAILABLE, _("Search is unavailable right now; try again shortly.")) \
            from error
    categories = catalog.categories_by_slug(session)
    items = [presenting.present(session, doc, locale, currency, table, categories) for doc in result.hits]
    vendor_names = {doc["vendor_id"]: doc["vendor_name"] for doc in result.hits}
    missing_vendors = {f.value for f in result.facets.get("vendor", [])} - set(vendor_names)
    if missing_vendors:
        vendor_names.update(dict(session.execute(select(Vendor.id, Vendor.display_name)
                                                 .where(Vendor.id.in_(missing_vendors))).all()))
    facets = {
        "origin_country": [{"value": f.value, "label": country_name(f.value, locale), "count": f.count}
                           for f in result.facets.get("origin_country", [])],
        "category": [{"value": f.value, "label": categories[f.value].name(locale) if f.value in categories
                      else f.value, "count": f.count} for f in result.facets.get("category", [])],
        "vendor": [{"value": f.value, "label": vendor_names.get(f.value, str(f.value)), "count": f.count}
                   for f in result.facets.get("vendor", [])],
        "price": [{"from": low, "to": high, "currency": currency, "count": f.count}
                  for (low, high), f in zip(buckets, result.facets.get("price", []))],
    }
    return {"total": result.total, "page": query.page, "per_page": query.per_page, "items": items,
            "facets": facets}


def suggest(prefix: str, locale: str, limit: int) -> list[str]:
    try:
        return engine().suggest(prefix, locale, limit)
    except EngineUnavailable as error:
        raise Unavailable(ErrorCode.SERVICE_UNAVAILABLE, _("Search is unavailable right now; try again shortly.")) \
            from error
