"""Keeping the search index in step with the catalog: outbox events in, documents out; full rebuilds."""
from __future__ import annotations

from typing import Any, Callable, Iterator

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from catalog import services as catalog
from catalog.models import Category, Product, ProductStatus
from catalog.topics import SEARCH_PRODUCT_TOPIC
from marketplace.kernel import outbox
from marketplace.kernel.clock import now
from marketplace.kernel.db_events import read_only
from marketplace.rates import services as rates
from marketplace.rates.conversion import RateTable
from marketplace.storefront.search.backend import engine
from marketplace.storefront.search.documents import build_document
from vendors.models import Vendor, VendorStatus
from vendors.topics import SEARCH_VENDOR_TOPIC

#: The outbox topics search follows.
TOPICS = (SEARCH_PRODUCT_TOPIC, SEARCH_VENDOR_TOPIC)


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
            outbox.OutboxEvent.topic.in_(TOPICS),
            or_(outbox.OutboxEvent.created_at >= started, outbox.OutboxEvent.processed_at >= started))).all()
        handle_events(session, list(changed))
        session.commit()
    return indexed
