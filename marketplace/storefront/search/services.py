"""Search use cases: keep the engine in sync through the outbox, answer queries."""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any, Callable, Iterator

from flask import Flask, current_app, g
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from catalog import services as catalog
from catalog.models import Category, Product, ProductStatus
from catalog.schemas import SearchResultSchema
from catalog.topics import SEARCH_PRODUCT_TOPIC
from marketplace.storefront.search.documents import MICROS, base_micros, build_document
from marketplace.storefront.search.engine import EngineUnavailable, SearchEngine, SearchQuery
from marketplace.kernel import outbox
from marketplace.kernel.clock import now
from marketplace.kernel.db_events import read_only
from marketplace.kernel.errors import ErrorCode, Unavailable
from marketplace.kernel.i18n import country_name
from marketplace.kernel.money import CONTEXT, Money, quantum, round_amount
from marketplace.rates import services as rates
from marketplace.rates.conversion import NoRate, RateTable
from marketplace.storefront import presenting
from promotions import pricing
from vendors.models import Vendor, VendorStatus
from vendors.topics import SEARCH_VENDOR_TOPIC

log = logging.getLogger(__name__)

#: Facet price ladder in the base currency; shown converted (and made round) in the shopper's currency.
PRICE_LADDER = (Decimal(10), Decimal(25), Decimal(50), Decimal(100), Decimal(250), Decimal(500), Decimal(1000))


def build_engine(app: Flask) -> SearchEngine:
    backend = app.config["SEARCH_BACKEND"]
    if backend == "embedded":
        from marketplace.storefront.search.embedded import EmbeddedEngine

        return EmbeddedEngine(app.config["SEARCH_INDEX_DIR"])
    if backend == "elasticsearch":
        from marketplace.storefront.search.elasticsearch import ElasticsearchEngine

        return ElasticsearchEngine(app.config["ELASTICSEARCH_URL"], app.config["ELASTICSEARCH_INDEX"])
    raise RuntimeError(f"SEARCH_BACKEND must be 'embedded' or 'elasticsearch', not {backend!r}")


def init_search(app: Flask) -> None:
    app.extensions["search_engine"] = build_engine(app)
    app.extensions["search_cache"] = ResponseCache(app.config["SEARCH_CACHE_SIZE"],
                                                   app.config["SEARCH_PRICING_RECHECK_SECONDS"])
    outbox.register(app, SEARCH_PRODUCT_TOPIC, handle_events)
    outbox.register(app, SEARCH_VENDOR_TOPIC, handle_events)


def engine() -> SearchEngine:
    return current_app.extensions["search_engine"]


# -- indexing ----------------------------------------------------------------

def _load_products(session: Session, query) -> Iterator[Product]:
    return session.scalars(query.options(joinedload(Product.vendor),
                                         joinedload(Product.category).joinedload(Category.parent)))


def sync_products(session: Session, product_ids: set[int]) -> None:
    """Make the engine hold exactly the public ones of these products, at their current version."""
    if not product_ids:
        return
    table = rates.current_table(session)
    base = current_app.config["BASE_CURRENCY"]
    documents, removals = [], {}
    for product in _load_products(session, select(Product).where(Product.id.in_(product_ids))):
        if product.is_public:
            documents.append(build_document(session, product, table, base))
        else:
            removals[product.id] = product.version
    missing = product_ids - {d["id"] for d in documents} - set(removals)
    for product_id in missing:  # deleted from the database
        removals[product_id] = 2**31 - 1
    if documents:
        engine().index(documents)
    if removals:
        engine().delete(removals)


def handle_events(session: Session, events: list[outbox.OutboxEvent]) -> None:
    product_ids = {product_id for e in events if e.topic == SEARCH_PRODUCT_TOPIC
                   for product_id in catalog.changed_product_ids(e)}
    vendor_ids = {int(e.key) for e in events if e.topic == SEARCH_VENDOR_TOPIC}
    if vendor_ids:
        product_ids |= set(session.scalars(select(Product.id).where(Product.vendor_id.in_(vendor_ids))))
    sync_products(session, product_ids)


def public_documents(session: Session, table: RateTable, batch: int = 1000) -> Iterator[dict[str, Any]]:
    query = (select(Product).join(Vendor, Product.vendor_id == Vendor.id)
             .where(Product.status == ProductStatus.ACTIVE, Vendor.status == VendorStatus.APPROVED)
             .order_by(Product.id).execution_options(yield_per=batch))
    base = current_app.config["BASE_CURRENCY"]
    for product in _load_products(session, query):
        yield build_document(session, product, table, base)


def count_public(session: Session) -> int:

    return session.scalar(select(func.count()).select_from(Product).join(Vendor, Product.vendor_id == Vendor.id)
                          .where(Product.status == ProductStatus.ACTIVE, Vendor.status == VendorStatus.APPROVED))


def reindex(session: Session, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index beside the live one and swap; then replay what changed meanwhile. It only
    reads the database, so writers go on meanwhile (on SQLite too: its transactions begin deferred)."""
    started = now()
    indexed = 0

    def counting(docs: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        nonlocal indexed
        for doc in docs:
            indexed += 1
            yield doc

    with read_only():
        table = rates.current_table(session)
        engine().reindex(counting(public_documents(session, table)), progress=progress)
        # Replay what may have reached only the old index: events recorded since the start, and events
        # delivered since the start (a transaction that began earlier may have committed after the scan read).
        session.commit()  # a fresh snapshot: what committed during the scan
        changed = session.scalars(select(outbox.OutboxEvent).where(
            outbox.OutboxEvent.topic.in_((SEARCH_PRODUCT_TOPIC, SEARCH_VENDOR_TOPIC)),
            or_(outbox.OutboxEvent.created_at >= started, outbox.OutboxEvent.processed_at >= started))).all()
        handle_events(session, list(changed))
        session.commit()
    return indexed


# -- querying ----------------------------------------------------------------

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


class ResponseCache:
    """A small per-process LRU of rendered search answers (festival peaks repeat queries).

    A key holds everything an answer depends on: the arguments, the locale, the
    index generation, the rates version and the pricing version; so a write, a
    reindex, a rate refresh or a campaign change makes new keys. Like the rate
    table (rates.RECHECK_SECONDS), the pricing version is asked of the database
    at most every `recheck` seconds (SEARCH_PRICING_RECHECK_SECONDS), so an answer
    may trail a campaign change by that long, as the index trails every write.
    """

    def __init__(self, size: int, recheck: float = 0.0) -> None:
        self.size = size
        self.recheck = recheck
        self._pricing: tuple[float, datetime, tuple] | None = None   # (monotonic, app clock, version)
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def pricing_version(self, session: Session) -> tuple:
        """`pricing.pricing_version` now, asked again once `recheck` seconds passed or the app clock moved."""
        moment, at = time.monotonic(), now()
        seen = self._pricing
        if seen is None or moment - seen[0] >= self.recheck or abs((at - seen[1]).total_seconds()) >= self.recheck:
            seen = self._pricing = (moment, at, pricing.pricing_version(session, at))
        return seen[2]

    def get(self, key: tuple | None) -> bytes | None:
        if key is None or not self.size:
            return None
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple | None, body: bytes) -> None:
        if key is None or not self.size:
            return
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def response_cache() -> ResponseCache:
    return current_app.extensions["search_cache"]


def cache_key(session: Session, args: dict[str, Any], locale: str) -> tuple | None:
    generation = engine().generation()
    if generation is None:
        return None
    rates.current_table(session)
    arguments = tuple(sorted((k, tuple(v) if isinstance(v, list) else str(v)) for k, v in args.items()))
    return (arguments, locale, generation, g.get("rates_version"), response_cache().pricing_version(session))


def rendered(session: Session, args: dict[str, Any], locale: str) -> bytes:
    """The search answer as JSON bytes, from the answer cache when nothing it depends on changed."""

    key = cache_key(session, args, locale)
    body = response_cache().get(key)
    if body is None:
        body = json.dumps(SearchResultSchema().dump(search(session, args, locale)), ensure_ascii=False).encode()
        response_cache().put(key, body)
    return body


def suggest(prefix: str, locale: str, limit: int) -> list[str]:
    try:
        return engine().suggest(prefix, locale, limit)
    except EngineUnavailable as error:
        raise Unavailable(ErrorCode.SERVICE_UNAVAILABLE, _("Search is unavailable right now; try again shortly.")) \
            from error


def health() -> dict[str, Any]:
    try:
        return engine().health()
    except EngineUnavailable as error:
        return {"status": "down", "detail": str(error), "documents": None}
