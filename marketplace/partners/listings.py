"""Listing sync: a partner upserts listings by its own external_id (batch), changes stock and price fast,
and archives them. Products are written through the catalog's bulk path (`catalog.bulk`)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from catalog import bulk as products, services as catalog
from catalog.models import Product
from vendors.models import Vendor
from marketplace.kernel.clock import now
from marketplace.kernel.errors import DomainError, Forbidden, NotFound
from marketplace.kernel.money import Money
from marketplace.partners import results as outcome
from marketplace.partners.content import (
    announce,
    category_slugs,
    content_hash,
    event_data_of,
    listing_content,
    product_content,
    snapshot,
)
from marketplace.partners.errors import PartnerErrorCode
from marketplace.partners.grants import authorized_vendors
from marketplace.partners.models import PartnerListing
from marketplace.partners.schemas import ListingSchema, ListingUpdateSchema

#: deadlock_detected, serialization_failure: the transaction may simply run again.
RETRYABLE_SQLSTATES = ("40P01", "40001")


@dataclass
class _Batch:
    """What one sync pass works with: loaded once for all its items."""

    session: Session
    partner_id: int
    authorized: set[int]
    links: dict[str, PartnerListing]
    products: dict[int, Product]
    slugs: dict[int, str]
    convertible: dict[str, DomainError | None] = field(default_factory=dict)

    def check_price(self, price: Money) -> None:
        if price.currency not in self.convertible:
            try:
                catalog.check_convertible(self.session, price)
                self.convertible[price.currency] = None
            except DomainError as error:
                self.convertible[price.currency] = error
        if self.convertible[price.currency] is not None:
            raise self.convertible[price.currency]


def _links(session: Session, partner_id: int, external_ids: list[str]) -> dict[str, PartnerListing]:
    if not external_ids:
        return {}
    return {link.external_id: link for link in session.scalars(
        select(PartnerListing).where(PartnerListing.partner_id == partner_id,
                                     PartnerListing.external_id.in_(external_ids))
        .execution_options(populate_existing=True))}


def _load_batch(session: Session, partner_id: int, external_ids: list[str], vendor_ids: Iterable[int]) -> _Batch:
    """The links and products a batch works on, the products locked (PostgreSQL; SQLite serializes writers):
    two writers of one listing (two syncs, a sync and the vendor or a checkout) never both start from the same
    version. Products are locked in id order, before their links are read again, as every product writer
    does (a write to a product also touches its links: see `PartnerListing.feed_seq`)."""
    links = _links(session, partner_id, external_ids)
    locked = products.lock_products(session, {link.product_id for link in links.values()})
    if locked:
        links = _links(session, partner_id, external_ids)
    return _Batch(session, partner_id, authorized_vendors(session, partner_id, vendor_ids), links, locked,
                  category_slugs(session))


class _Raced(Exception):
    """A concurrent writer changed what this batch read; the batch runs again."""


def _sync_items(session: Session, partner_id: int, valid: list[tuple[int, dict]], results: list) -> None:
    """Upsert the valid listings (no commit); fills `results` for each of them."""
    if not valid:
        return
    batch = _load_batch(session, partner_id, [d["external_id"] for _i, d in valid], {d["vendor_id"] for _i, d in valid})
    wanted_skus: set[tuple[int, str]] = set()
    for _index, data in valid:
        link = batch.links.get(data["external_id"])
        product = batch.products.get(link.product_id) if link else None
        if product is None or product.sku != data["sku"]:
            wanted_skus.add((data["vendor_id"], data["sku"]))
    taken = products.products_by_sku(session, wanted_skus)
    unlinked = [d["external_id"] for _i, d in valid if d["external_id"] not in batch.links]
    if unlinked and taken and _links(session, partner_id, unlinked):
        # another sync of the same new listings committed between our reads (PostgreSQL reads each statement
        # at its own moment): start again, and they are found as existing listings
        raise _Raced
    vendor_countries = dict(session.execute(select(Vendor.id, Vendor.country)
                                            .where(Vendor.id.in_({d["vendor_id"] for _i, d in valid}))).all())
    stamp = now()
    created: list[tuple[int, dict, dict, str]] = []   # (index, data, product row, content hash)
    changed: list[Product] = []
    for index, data in valid:
        external_id, vendor_id = data["external_id"], data["vendor_id"]
        if vendor_id not in batch.authorized:
            results[index] = outcome.not_authorized(external_id)
            continue
        link = batch.links.get(external_id)
        if link is not None and link.vendor_id != vendor_id:
            results[index] = outcome.error(external_id, PartnerErrorCode.VENDOR_MISMATCH, {"vendor_id": [
                _("This listing belongs to vendor %(id)s; a listing cannot move to another vendor.", id=link.vendor_id)]})
            continue
        version = data.get("version")
        if link is not None and version is not None and link.version is not None and version < link.version:
            results[index] = outcome.result(external_id, "stale", link.product_id)
            continue
        # made where the vendor is unless the listing names another BRICS member
        origin = data.get("origin_country") or vendor_countries.get(vendor_id)
        try:
            category = catalog.category_by_slug(session, data["category"])
            batch.check_price(data["price"])
            if "origin_country" in data and (problem := catalog.origin_problem(origin)) is not None:
                raise problem
        except DomainError as error:
            results[index] = outcome.domain_error(external_id, error)
            continue
        listed = listing_content(data)
        content, digest = {**listed, "origin_country": origin}, content_hash(listed)
        product = batch.products.get(link.product_id) if link is not None else None
        if product is not None:
            if content_hash(product_content(product, batch.slugs)) == digest and product.origin_country == origin:
                if version is not None and (link.version is None or version > link.version):
                    link.version = version  # a later resend of an older version is stale
                if link.content_hash != digest:
                    link.content_hash = digest
                results[index] = outcome.result(external_id, "unchanged", product.id)
                continue
            if product.sku != data["sku"] and taken.get((vendor_id, data["sku"]), product.id) != product.id:
                results[index] = outcome.sku_taken(external_id)
                continue
            taken[(vendor_id, data["sku"])] = product.id
            products.write_content(product, content, category.id, data["price"], stamp)
            link.version = version if version is not None else link.version
            link.content_hash, link.updated_at = digest, stamp
            changed.append(product)
            results[index] = outcome.result(external_id, "updated", product.id)
            continue
        if (vendor_id, data["sku"]) in taken:
            results[index] = outcome.sku_taken(external_id)
            continue
        taken[(vendor_id, data["sku"])] = 0
        created.append((index, data, products.product_row(vendor_id, content, category.id, data["price"], stamp),
                        digest))
    # in one order for every writer, so that two syncs racing over the same new rows wait for each other
    # (the later one then finds them) instead of deadlocking
    created.sort(key=lambda entry: (entry[2]["vendor_id"], entry[2]["sku"]))
    new_ids = products.insert_products(session, [row for _i, _d, row, _h in created])
    if created:
        session.execute(insert(PartnerListing.__table__), sorted((
            {"partner_id": partner_id, "external_id": data["external_id"], "vendor_id": row["vendor_id"],
             "product_id": new_ids[(row["vendor_id"], row["sku"])], "version": data.get("version"),
             "content_hash": digest, "created_at": stamp, "updated_at": stamp}
            for _index, data, row, digest in created), key=lambda link: link["external_id"]))
        for index, data, row, _digest in created:
            results[index] = outcome.result(data["external_id"], "created", new_ids[(row["vendor_id"], row["sku"])])
    session.flush()
    announced = [(new_ids[(row["vendor_id"], row["sku"])], row) for _i, _d, row, _h in created]
    announce(session, [(product_id, event_data_of(product_id, row)) for product_id, row in announced]
             + [snapshot(product) for product in changed])


def _run_items(session: Session, work: Callable[[list[tuple[int, dict]]], None], valid: list[tuple[int, dict]],
               results: list, before_commit: Callable[[list], None] | None) -> None:
    """All valid items in one transaction; if the database refuses it (a race another writer won, e.g. the
    same new external_id or SKU), once more (what the winner created is now found and updated), then item by
    item in savepoints so that only the offending items fail, each with its own `conflict` result."""
    for _attempt in range(2):  # again once: a listing another writer just created is then an update
        try:
            work(valid)
            if before_commit:
                before_commit(results)
            session.commit()
            return
        except (IntegrityError, _Raced):
            session.rollback()
        except DBAPIError as error:  # PostgreSQL chose this transaction as a deadlock's or serialization's loser
            session.rollback()
            if getattr(error.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                raise
    for index, data in valid:
        try:
            with session.begin_nested():
                work([(index, data)])
        except (IntegrityError, _Raced):
            results[index] = outcome.conflict(data.get("external_id"))
    if before_commit:
        before_commit(results)
    session.commit()


def sync_listings(session: Session, partner_id: int, items: list[Any],
                  before_commit: Callable[[list], None] | None = None) -> list[dict[str, Any]]:
    """Upsert listings by (partner, external_id); one result per item, in order. Commits."""
    results, valid = outcome.validate(ListingSchema(), items)
    _run_items(session, lambda chunk: _sync_items(session, partner_id, chunk, results), valid, results, before_commit)
    return results


def _update_items(session: Session, partner_id: int, valid: list[tuple[int, dict]], results: list) -> None:
    if not valid:
        return
    batch = _load_batch(session, partner_id, [d["external_id"] for _i, d in valid], ())
    batch.authorized = authorized_vendors(session, partner_id, {link.vendor_id for link in batch.links.values()})
    stamp = now()
    changed: list[Product] = []
    for index, data in valid:
        external_id = data["external_id"]
        link = batch.links.get(external_id)
        if link is None:
            results[index] = outcome.error(external_id, PartnerErrorCode.LISTING_NOT_FOUND,
                                           {"external_id": [_("No listing with this external_id.")]})
            continue
        if link.vendor_id not in batch.authorized:
            results[index] = outcome.not_authorized(external_id)
            continue
        version = data.get("version")
        if version is not None and link.version is not None and version < link.version:
            results[index] = outcome.result(external_id, "stale", link.product_id)
            continue
        product = batch.products[link.product_id]
        if "price" in data:
            try:
                batch.check_price(data["price"])
            except DomainError as error:
                results[index] = outcome.domain_error(external_id, error)
                continue
        before = content_hash(product_content(product, batch.slugs))
        products.set_stock_and_price(product, data.get("stock"), data.get("price"))
        after = content_hash(product_content(product, batch.slugs))
        if version is not None and (link.version is None or version > link.version):
            link.version = version
        if link.content_hash != after:
            link.content_hash = after
        if after == before:
            results[index] = outcome.result(external_id, "unchanged", product.id)
            continue
        products.touch(product, stamp)
        link.updated_at = stamp
        changed.append(product)
        results[index] = outcome.result(external_id, "updated", product.id)
    session.flush()
    announce(session, [snapshot(product) for product in changed])


def update_listings(session: Session, partner_id: int, items: list[Any]) -> list[dict[str, Any]]:
    """Fast stock and price changes by external_id; one result per item. Commits."""
    results, valid = outcome.validate(ListingUpdateSchema(), items)
    _run_items(session, lambda chunk: _update_items(session, partner_id, chunk, results), valid, results, None)
    return results


def _own_link(session: Session, partner_id: int, external_id: str) -> PartnerListing:
    link = session.scalar(select(PartnerListing).where(PartnerListing.partner_id == partner_id,
                                                       PartnerListing.external_id == external_id))
    if link is None:
        raise NotFound(PartnerErrorCode.LISTING_NOT_FOUND, _("No listing with this external_id."))
    if not authorized_vendors(session, partner_id, [link.vendor_id]):
        raise Forbidden(PartnerErrorCode.VENDOR_NOT_AUTHORIZED,
                        _("This listing's vendor no longer authorizes your partner account."))
    return link


def archive_listing(session: Session, partner_id: int, external_id: str) -> None:
    link = _own_link(session, partner_id, external_id)
    product, changed = products.archive(session, link.product_id)
    if changed:
        link.updated_at = product.updated_at
        link.content_hash = content_hash(product_content(product, category_slugs(session)))
        session.flush()
        announce(session, [snapshot(product)])
    session.commit()
