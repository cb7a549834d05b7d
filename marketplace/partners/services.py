"""Partner use cases: partners and keys, vendor grants, listing sync (batch, patch, feed, jobs)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import IO, Any

import marshmallow as ma
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, insert, or_, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from catalog import services as catalog
from catalog.errors import CatalogErrorCode
from catalog.models import Product, ProductStatus
from marketplace.kernel import events, jsoncodec
from marketplace.accounts.models import User
from marketplace.kernel.clock import now
from marketplace.kernel.errors import (
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    flatten_messages,
)
from marketplace.kernel.idempotency import IdempotencyRecord
from marketplace.kernel.money import Money, quantum
from marketplace.partners.auth import generate_key, hash_key
from marketplace.partners.errors import PartnerErrorCode, PayloadTooLarge
from marketplace.partners.models import (
    ALL_SCOPES,
    JobStatus,
    ListingSyncJob,
    ListingSyncJobLine,
    Partner,
    PartnerApiKey,
    PartnerListing,
    PartnerVendorGrant,
)
from marketplace.partners.schemas import ListingSchema, ListingUpdateSchema
from vendors.models import Vendor

log = logging.getLogger(__name__)

STATUSES = ("created", "updated", "unchanged", "stale", "error")
#: deadlock_detected, serialization_failure: the transaction may simply run again.
RETRYABLE_SQLSTATES = ("40P01", "40001")


# -- partners and keys -------------------------------------------------------

def parse_scopes(values: Iterable[str] | None) -> list[str]:
    """Scopes from CLI values (repeated and/or comma-separated); all four when none are given."""
    scopes: list[str] = []
    for value in values or ():
        for item in value.replace(",", " ").split():
            if item not in ALL_SCOPES:
                raise Invalid("validation_error",
                              f"Unknown scope {item!r}; use {', '.join(ALL_SCOPES)}.", field="scopes")
            if item not in scopes:
                scopes.append(item)
    return scopes or list(ALL_SCOPES)


def create_partner(session: Session, name: str, scopes: Iterable[str] | None = None) -> tuple[Partner, str]:
    """A partner and its first key (returned in clear once; only its hash is kept)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise Invalid("validation_error", "A partner name has 1 to 120 characters.", field="name")
    partner = Partner(name=name)
    session.add(partner)
    session.flush()
    _key, key = _add_key(session, partner.id, parse_scopes(scopes))
    session.commit()
    return partner, key


def _add_key(session: Session, partner_id: int, scopes: list[str]) -> tuple[PartnerApiKey, str]:
    while True:
        prefix, key = generate_key()
        if not session.scalar(select(PartnerApiKey.id).where(PartnerApiKey.prefix == prefix)):
            break
    row = PartnerApiKey(partner_id=partner_id, prefix=prefix, key_hash=hash_key(key), scopes=scopes)
    session.add(row)
    session.flush()
    return row, key


def create_key(session: Session, partner_id: int, scopes: Iterable[str] | None = None) -> tuple[PartnerApiKey, str]:
    if session.get(Partner, partner_id) is None:
        raise NotFound(PartnerErrorCode.PARTNER_NOT_FOUND, f"No partner with id {partner_id}.", field="partner")
    row, key = _add_key(session, partner_id, parse_scopes(scopes))
    session.commit()
    return row, key


def revoke_key(session: Session, key_id: int | None = None, prefix: str | None = None) -> PartnerApiKey:
    query = select(PartnerApiKey)
    query = query.where(PartnerApiKey.id == key_id) if key_id is not None else query.where(PartnerApiKey.prefix == prefix)
    row = session.scalar(query)
    if row is None:
        raise NotFound(PartnerErrorCode.KEY_NOT_FOUND, "No such API key.", field="key_id" if key_id else "prefix")
    if row.revoked_at is None:
        row.revoked_at = now()
    session.commit()
    return row


def list_partners(session: Session) -> list[tuple[Partner, int]]:
    active = (select(func.count()).select_from(PartnerApiKey)
              .where(PartnerApiKey.partner_id == Partner.id, PartnerApiKey.revoked_at.is_(None))
              .scalar_subquery())
    return [(p, n) for p, n in session.execute(select(Partner, active).order_by(Partner.id))]


def list_keys(session: Session, partner_id: int) -> list[PartnerApiKey]:
    return list(session.scalars(select(PartnerApiKey).where(PartnerApiKey.partner_id == partner_id)
                                .order_by(PartnerApiKey.id)))


DEMO_PARTNER_NAME = "Demo Partner"


def demo_key(secret_key: str) -> tuple[str, str]:
    """The demo partner's (prefix, key), derived from SECRET_KEY: the same on every seed-demo run."""
    def derive(label: str) -> str:
        return hmac.new(secret_key.encode(), f"buybrics-demo-partner:{label}".encode(), hashlib.sha256).hexdigest()

    prefix = "bbp_" + derive("id")[:8]
    return prefix, f"{prefix}_{derive('secret')[:40]}"


def ensure_demo_partner(session: Session, vendor_ids: Iterable[int]) -> tuple[Partner, str]:
    """The demo partner with its key (active, all scopes) and grants from `vendor_ids`; safe to run again."""
    prefix, key = demo_key(current_app.config["SECRET_KEY"])
    row = session.scalar(select(PartnerApiKey).where(PartnerApiKey.prefix == prefix))
    if row is None:
        partner = Partner(name=DEMO_PARTNER_NAME)
        session.add(partner)
        session.flush()
        row = PartnerApiKey(partner_id=partner.id, prefix=prefix, key_hash=hash_key(key), scopes=list(ALL_SCOPES))
        session.add(row)
    else:
        partner = session.get(Partner, row.partner_id)
        row.revoked_at, row.key_hash, row.scopes = None, hash_key(key), list(ALL_SCOPES)
    granted = set(session.scalars(select(PartnerVendorGrant.vendor_id)
                                  .where(PartnerVendorGrant.partner_id == partner.id)))
    for vendor_id in vendor_ids:
        if vendor_id not in granted:
            session.add(PartnerVendorGrant(partner_id=partner.id, vendor_id=vendor_id))
    session.commit()
    return partner, key


# -- vendor grants -----------------------------------------------------------

def _owned_vendor(session: Session, user: User, vendor_id: int) -> Vendor:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound(PartnerErrorCode.VENDOR_NOT_FOUND, _("No such vendor."))
    if vendor.owner_id != user.id:
        raise Forbidden(PartnerErrorCode.NOT_VENDOR_OWNER, _("Only the vendor's owner may manage its partners."))
    return vendor


def _grant_view(grant: PartnerVendorGrant, partner: Partner) -> dict[str, Any]:
    return {"partner_id": partner.id, "partner_name": partner.name, "vendor_id": grant.vendor_id,
            "created_at": grant.created_at}


def grant_partner(session: Session, user: User, vendor_id: int, partner_id: int) -> tuple[dict[str, Any], bool]:
    """(the grant, whether it is new): the vendor lets the partner manage its listings."""
    vendor = _owned_vendor(session, user, vendor_id)
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise Invalid(PartnerErrorCode.PARTNER_NOT_FOUND, _("No partner with this id."), field="partner_id")
    grant = session.scalar(select(PartnerVendorGrant).where(PartnerVendorGrant.partner_id == partner_id,
                                                            PartnerVendorGrant.vendor_id == vendor.id))
    created = grant is None
    if created:
        grant = PartnerVendorGrant(partner_id=partner_id, vendor_id=vendor.id, granted_by=user.id)
        session.add(grant)
        try:
            session.commit()
        except IntegrityError:  # a concurrent grant of the same pair won
            session.rollback()
            grant = session.scalar(select(PartnerVendorGrant).where(PartnerVendorGrant.partner_id == partner_id,
                                                                    PartnerVendorGrant.vendor_id == vendor_id))
            created = False
    return _grant_view(grant, partner), created


def vendor_grants(session: Session, user: User, vendor_id: int) -> list[dict[str, Any]]:
    vendor = _owned_vendor(session, user, vendor_id)
    rows = session.execute(select(PartnerVendorGrant, Partner).join(Partner)
                           .where(PartnerVendorGrant.vendor_id == vendor.id).order_by(PartnerVendorGrant.id))
    return [_grant_view(grant, partner) for grant, partner in rows]


def revoke_grant(session: Session, user: User, vendor_id: int, partner_id: int) -> None:
    vendor = _owned_vendor(session, user, vendor_id)
    grant = session.scalar(select(PartnerVendorGrant).where(PartnerVendorGrant.partner_id == partner_id,
                                                            PartnerVendorGrant.vendor_id == vendor.id))
    if grant is None:
        raise NotFound(PartnerErrorCode.GRANT_NOT_FOUND, _("This partner is not authorized for this vendor."))
    session.delete(grant)
    session.commit()


def authorized_vendors(session: Session, partner_id: int, vendor_ids: Iterable[int]) -> set[int]:
    ids = set(vendor_ids)
    if not ids:
        return set()
    return set(session.scalars(select(PartnerVendorGrant.vendor_id)
                               .where(PartnerVendorGrant.partner_id == partner_id,
                                      PartnerVendorGrant.vendor_id.in_(ids))))


# -- listing content ---------------------------------------------------------

def _amount(amount: Decimal, currency: str) -> str:
    """The canonical text of an amount: the currency's minor units ("650.00"), whatever the column's scale."""
    try:
        return format(amount.quantize(quantum(currency)), "f")
    except ArithmeticError:  # more places than the currency has (never stored through the API)
        return format(amount.normalize(), "f")


def canonical_content(vendor_id: int, sku: str, translations: dict, original_locale: str, price: Money,
                      stock: int, category: str, hs_code: str, attributes: dict, images: list,
                      status: str) -> dict[str, Any]:
    return {
        "vendor_id": vendor_id, "sku": sku,
        "translations": {locale: {"title": t["title"], "description": t.get("description", "")}
                         for locale, t in translations.items()},
        "original_locale": original_locale,
        "price": [_amount(price.amount, price.currency), price.currency],
        "stock": stock, "category": category, "hs_code": hs_code,
        "attributes": attributes or {}, "images": list(images or []), "status": str(status),
    }


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(jsoncodec.canonical(content)).hexdigest()


def _listing_content(data: dict[str, Any]) -> dict[str, Any]:
    translations = data["translations"]
    return canonical_content(data["vendor_id"], data["sku"], translations,
                             data.get("original_locale") or next(iter(translations)), data["price"],
                             data["stock"], data["category"], data["hs_code"], data.get("attributes") or {},
                             data.get("images") or [], data.get("status") or ProductStatus.DRAFT.value)


def _product_content(product: Product, slugs: dict[int, str]) -> dict[str, Any]:
    return canonical_content(product.vendor_id, product.sku, product.translations, product.original_locale,
                             product.price, product.stock, slugs.get(product.category_id, ""), product.hs_code,
                             product.attributes or {}, product.images or [], product.status)


def _write_content(product: Product, content: dict[str, Any], category_id: int, price: Money) -> None:
    product.sku = content["sku"]
    product.translations = content["translations"]
    product.original_locale = content["original_locale"]
    product.price = price
    product.stock = content["stock"]
    product.category_id = category_id
    product.hs_code = content["hs_code"]
    product.attributes = content["attributes"]
    product.images = content["images"]
    product.status = content["status"]


_EVENT_FIELDS = ("vendor_id", "sku", "status", "stock", "price_amount", "price_currency", "version", "updated_at")


def event_data_of(product_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """The `listing.updated` event's data (the fan-out adds each partner's own external_id)."""
    return {"product_id": product_id, "vendor_id": values["vendor_id"], "sku": values["sku"],
            "status": str(values["status"]), "stock": values["stock"],
            "price": {"amount": _amount(values["price_amount"], values["price_currency"]),
                      "currency": values["price_currency"]},
            "version": values["version"], "updated_at": values["updated_at"].isoformat()}


def _snapshot(product: Product) -> tuple[int, dict[str, Any]]:
    return product.id, event_data_of(product.id, {name: getattr(product, name) for name in _EVENT_FIELDS})


def _announce(session: Session, changes: list[tuple[int, dict[str, Any]]]) -> None:
    """Every listing write ends here, [(product_id, event data)]: the search outbox events and the partner
    events, written in bulk in the caller's transaction."""
    catalog.record_search_changes(session, [product_id for product_id, _data in changes])
    events.publish_many(session, "listing.updated", [(data, [data["vendor_id"]]) for _id, data in changes])


# -- listing sync ------------------------------------------------------------

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


def _result(external_id: Any, status: str, product_id: int | None = None, errors: dict | None = None,
            code: str | None = None) -> dict[str, Any]:
    result = {"external_id": external_id if isinstance(external_id, str) else None, "status": status,
              "product_id": product_id, "errors": errors}
    if code:
        result["code"] = str(code)
    return result


def _error(external_id: Any, code: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    return _result(external_id, "error", errors={k: [str(m) for m in v] for k, v in errors.items()}, code=code)


def _domain_error(external_id: Any, error: DomainError) -> dict[str, Any]:
    return _error(external_id, error.code, error.errors or {"body": [str(error.detail)]})


def _not_authorized(external_id: Any) -> dict[str, Any]:
    return _error(external_id, PartnerErrorCode.VENDOR_NOT_AUTHORIZED,
                  {"vendor_id": [_("This vendor has not authorized your partner account.")]})


def _validate(schema: ma.Schema, items: list[Any]) -> tuple[list[dict | None], list[tuple[int, dict]]]:
    """Per-item validation: (results with errors filled in, [(index, data)] of the valid items)."""
    results: list[dict | None] = [None] * len(items)
    valid: list[tuple[int, dict]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        external_id = item.get("external_id") if isinstance(item, dict) else None
        if not isinstance(item, dict):
            results[index] = _error(None, "validation_error", {"body": [_("Each item must be a JSON object.")]})
            continue
        try:
            data = schema.load(item)
        except ma.ValidationError as error:
            results[index] = _error(external_id, "validation_error", flatten_messages(error.messages))
            continue
        if data["external_id"] in seen:
            results[index] = _error(external_id, PartnerErrorCode.DUPLICATE_EXTERNAL_ID, {
                "external_id": [_("This external_id appears earlier in the same request.")]})
            continue
        seen.add(data["external_id"])
        valid.append((index, data))
    return results, valid


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
    product_ids = sorted({link.product_id for link in links.values()})
    products = {p.id: p for p in session.scalars(
        select(Product).where(Product.id.in_(product_ids)).order_by(Product.id).with_for_update()
        .execution_options(populate_existing=True))} if product_ids else {}
    if products:
        links = _links(session, partner_id, external_ids)
    slugs = {c.id: slug for slug, c in catalog.categories_by_slug(session).items()}
    return _Batch(session, partner_id, authorized_vendors(session, partner_id, vendor_ids), links, products, slugs)


def _taken_skus(session: Session, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    if not pairs:
        return {}
    rows = session.execute(select(Product.vendor_id, Product.sku, Product.id)
                           .where(Product.vendor_id.in_({v for v, _s in pairs}),
                                  Product.sku.in_({s for _v, s in pairs})))
    return {(vendor_id, sku): product_id for vendor_id, sku, product_id in rows if (vendor_id, sku) in pairs}


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
    taken = _taken_skus(session, wanted_skus)
    unlinked = [d["external_id"] for _i, d in valid if d["external_id"] not in batch.links]
    if unlinked and taken and _links(session, partner_id, unlinked):
        # another sync of the same new listings committed between our reads (PostgreSQL reads each statement
        # at its own moment): start again, and they are found as existing listings
        raise _Raced
    stamp = now()
    created: list[tuple[int, dict, dict, str]] = []   # (index, data, product row, content hash)
    changed: list[Product] = []
    for index, data in valid:
        external_id, vendor_id = data["external_id"], data["vendor_id"]
        if vendor_id not in batch.authorized:
            results[index] = _not_authorized(external_id)
            continue
        link = batch.links.get(external_id)
        if link is not None and link.vendor_id != vendor_id:
            results[index] = _error(external_id, PartnerErrorCode.VENDOR_MISMATCH, {"vendor_id": [
                _("This listing belongs to vendor %(id)s; a listing cannot move to another vendor.", id=link.vendor_id)]})
            continue
        version = data.get("version")
        if link is not None and version is not None and link.version is not None and version < link.version:
            results[index] = _result(external_id, "stale", link.product_id)
            continue
        try:
            category = catalog.category_by_slug(session, data["category"])
            batch.check_price(data["price"])
        except DomainError as error:
            results[index] = _domain_error(external_id, error)
            continue
        content = _listing_content(data)
        digest = content_hash(content)
        product = batch.products.get(link.product_id) if link is not None else None
        if product is not None:
            if content_hash(_product_content(product, batch.slugs)) == digest:
                if version is not None and (link.version is None or version > link.version):
                    link.version = version  # a later resend of an older version is stale
                if link.content_hash != digest:
                    link.content_hash = digest
                results[index] = _result(external_id, "unchanged", product.id)
                continue
            if product.sku != data["sku"] and taken.get((vendor_id, data["sku"]), product.id) != product.id:
                results[index] = _sku_taken(external_id)
                continue
            taken[(vendor_id, data["sku"])] = product.id
            _write_content(product, content, category.id, data["price"])
            product.version += 1
            product.updated_at = stamp
            link.version = version if version is not None else link.version
            link.content_hash, link.updated_at = digest, stamp
            changed.append(product)
            results[index] = _result(external_id, "updated", product.id)
            continue
        if (vendor_id, data["sku"]) in taken:
            results[index] = _sku_taken(external_id)
            continue
        taken[(vendor_id, data["sku"])] = 0
        created.append((index, data, _product_row(content, category.id, data["price"], stamp), digest))
    # in one order for every writer, so that two syncs racing over the same new rows wait for each other
    # (the later one then finds them) instead of deadlocking
    created.sort(key=lambda entry: (entry[2]["vendor_id"], entry[2]["sku"]))
    new_ids = _insert_products(session, [row for _i, _d, row, _h in created])
    if created:
        session.execute(insert(PartnerListing.__table__), sorted((
            {"partner_id": partner_id, "external_id": data["external_id"], "vendor_id": row["vendor_id"],
             "product_id": new_ids[(row["vendor_id"], row["sku"])], "version": data.get("version"),
             "content_hash": digest, "created_at": stamp, "updated_at": stamp}
            for _index, data, row, digest in created), key=lambda link: link["external_id"]))
        for index, data, row, _digest in created:
            results[index] = _result(data["external_id"], "created", new_ids[(row["vendor_id"], row["sku"])])
    session.flush()
    announced = [(new_ids[(row["vendor_id"], row["sku"])], row) for _i, _d, row, _h in created]
    _announce(session, [(product_id, event_data_of(product_id, row)) for product_id, row in announced]
              + [_snapshot(product) for product in changed])


def _product_row(content: dict[str, Any], category_id: int, price: Money, stamp: datetime) -> dict[str, Any]:
    return {"vendor_id": content["vendor_id"], "sku": content["sku"], "translations": content["translations"],
            "original_locale": content["original_locale"], "price_amount": price.amount,
            "price_currency": price.currency, "stock": content["stock"], "category_id": category_id,
            "hs_code": content["hs_code"], "attributes": content["attributes"], "images": content["images"],
            "status": content["status"], "version": 1, "created_at": stamp, "updated_at": stamp}


def _insert_products(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
    """Insert new products (Core executemany: insertmanyvalues batches), returning {(vendor_id, sku): id}.

    RETURNING carries the unique (vendor_id, sku) with each id, so that no order of the returned rows is
    needed (SQLite cannot promise one)."""
    if not rows:
        return {}
    table = Product.__table__
    returned = session.execute(insert(table).returning(table.c.id, table.c.vendor_id, table.c.sku), rows)
    return {(vendor_id, sku): product_id for product_id, vendor_id, sku in returned}


def _sku_taken(external_id: str) -> dict[str, Any]:
    return _error(external_id, CatalogErrorCode.SKU_TAKEN,
                  {"sku": [_("The vendor already has another product with this SKU.")]})


class _Raced(Exception):
    """A concurrent writer changed what this batch read; the batch runs again."""


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
            results[index] = _error(data.get("external_id"), "conflict", {
                "body": [_("Another write to this listing or SKU happened at the same time; send it again.")]})
    if before_commit:
        before_commit(results)
    session.commit()


def summary(results: list[dict]) -> dict[str, int]:
    counts = Counter(r["status"] for r in results)
    return {status: counts.get(status, 0) for status in STATUSES}


def sync_listings(session: Session, partner_id: int, items: list[Any],
                  before_commit: Callable[[list], None] | None = None) -> list[dict[str, Any]]:
    """Upsert listings by (partner, external_id); one result per item, in order. Commits."""
    results, valid = _validate(ListingSchema(), items)
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
            results[index] = _error(external_id, PartnerErrorCode.LISTING_NOT_FOUND,
                                    {"external_id": [_("No listing with this external_id.")]})
            continue
        if link.vendor_id not in batch.authorized:
            results[index] = _not_authorized(external_id)
            continue
        version = data.get("version")
        if version is not None and link.version is not None and version < link.version:
            results[index] = _result(external_id, "stale", link.product_id)
            continue
        product = batch.products[link.product_id]
        if "price" in data:
            try:
                batch.check_price(data["price"])
            except DomainError as error:
                results[index] = _domain_error(external_id, error)
                continue
        before = content_hash(_product_content(product, batch.slugs))
        if "stock" in data:
            product.stock = data["stock"]
        if "price" in data:
            product.price = data["price"]
        after = content_hash(_product_content(product, batch.slugs))
        if version is not None and (link.version is None or version > link.version):
            link.version = version
        if link.content_hash != after:
            link.content_hash = after
        if after == before:
            results[index] = _result(external_id, "unchanged", product.id)
            continue
        product.version += 1
        product.updated_at = link.updated_at = stamp
        changed.append(product)
        results[index] = _result(external_id, "updated", product.id)
    session.flush()
    _announce(session, [_snapshot(product) for product in changed])


def update_listings(session: Session, partner_id: int, items: list[Any]) -> list[dict[str, Any]]:
    """Fast stock and price changes by external_id; one result per item. Commits."""
    results, valid = _validate(ListingUpdateSchema(), items)
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
    product = session.get(Product, link.product_id, with_for_update=True, populate_existing=True)
    if product.status != ProductStatus.ARCHIVED:
        stamp = now()
        product.status = ProductStatus.ARCHIVED
        product.version += 1
        product.updated_at = link.updated_at = stamp
        link.content_hash = content_hash(_product_content(product, {c.id: s for s, c in
                                                                     catalog.categories_by_slug(session).items()}))
        session.flush()
        _announce(session, [_snapshot(product)])
    session.commit()


# -- the feed ----------------------------------------------------------------

#: Cursors carry (feed_seq, link id); both are 64-bit signed integers in the database.
_CURSOR_MAX = 2**63 - 1


def encode_cursor(feed_seq: int, link_id: int) -> str:
    raw = json.dumps({"s": feed_seq, "i": link_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_number(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= _CURSOR_MAX:  # bool is an int subclass: refused too
        raise ValueError
    return value


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(feed_seq, link id) from a cursor this API gave out; 422 `invalid_cursor` (field `cursor`) for anything
    else, whatever the client crafted (huge or non-integer numbers, `true`, other JSON, bad base64)."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        value = json.loads(raw)
        if not isinstance(value, dict) or set(value) != {"s", "i"}:
            raise ValueError
        return _cursor_number(value["s"]), _cursor_number(value["i"])
    except (ValueError, TypeError, RecursionError, binascii.Error, UnicodeError):
        raise Invalid(PartnerErrorCode.INVALID_CURSOR, _("This cursor is not one this API gave out."),
                      field="cursor") from None


def feed_item(link: PartnerListing, product: Product, slugs: dict[int, str]) -> dict[str, Any]:
    return {
        "external_id": link.external_id, "product_id": product.id, "version": link.version,
        "updated_at": product.updated_at, "vendor_id": product.vendor_id, "sku": product.sku,
        "translations": product.translations, "original_locale": product.original_locale,
        "price": {"amount": _amount(product.price_amount, product.price_currency), "currency": product.price_currency},
        "stock": product.stock, "category": slugs.get(product.category_id), "hs_code": product.hs_code,
        "attributes": product.attributes or {}, "images": product.images or [], "status": product.status,
        "product_version": product.version,
    }


#: PostgreSQL: the lowest transaction id that may still commit rows into this database, from the statement's
#: snapshot: its in-progress ids (all databases of the cluster share one id space) less those that certainly
#: belong to a session of another database; none in progress -> the snapshot's xmax. An id whose session
#: cannot be seen (gone meanwhile, or hidden by privileges) counts as ours: later is always safe.
_PG_HORIZON = text("""
    WITH snap AS (SELECT pg_current_snapshot() AS s)
    SELECT COALESCE(
        (SELECT MIN(x::text::bigint) FROM snap, pg_snapshot_xip(snap.s) AS x
         WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                           WHERE a.backend_xid = x::xid
                             AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))),
        (SELECT pg_snapshot_xmax(s)::text::bigint FROM snap))
""")


def _feed_horizon(session: Session):
    """A condition on `PartnerListing.feed_seq`: the rows no transaction still running can reach below.

    PostgreSQL: feed_seq is the writing transaction's id. Every transaction of this database with an id below
    the horizon (`_PG_HORIZON`) had finished when it was taken, so the rows under it are committed and
    visible to the feed's (later) snapshot, and any later commit carries an id at or above it. SQLite
    serializes writers, and each takes the next number under the write lock: whatever a reader's snapshot
    misses commits with a higher number than it sees. None: no condition needed."""
    if session.get_bind().dialect.name == "postgresql":
        return PartnerListing.feed_seq < session.scalar(_PG_HORIZON)
    return None


def listing_feed(session: Session, partner_id: int, updated_since: datetime | None, cursor: str | None,
                 limit: int, settle: timedelta = timedelta(0)) -> dict[str, Any]:
    """The partner's listings as the marketplace holds them, oldest change first (keyset on feed_seq, link id).

    Every write to a listing's product (through this API, the vendor's own edits, stock taken by checkout)
    gives its link a higher `feed_seq` in the writing transaction (see `PartnerListing`), so a row changed
    while a client pages comes again further on with its new content: nothing is skipped, and a row
    repeats only because it changed (what a delta feed should do). A change shows as soon as it has
    committed (on PostgreSQL once no transaction older than it still runs: `_feed_horizon`); `settle`
    (PARTNER_FEED_SETTLE_SECONDS, 0 by default) can hold changes back longer. Listings of vendors that
    withdrew their authorization are not shown."""
    # feed_seq as its own column: triggers set it, so a link already in the session may hold an older value
    query = (select(PartnerListing, Product, PartnerListing.feed_seq.label("seq"))
             .join(Product, Product.id == PartnerListing.product_id)
             .join(PartnerVendorGrant, and_(PartnerVendorGrant.partner_id == PartnerListing.partner_id,
                                            PartnerVendorGrant.vendor_id == PartnerListing.vendor_id))
             .where(PartnerListing.partner_id == partner_id))
    horizon = _feed_horizon(session)
    if horizon is not None:
        query = query.where(horizon)
    if settle:  # stop before the first change younger than `settle` (what comes after it waits too)
        unsettled = (select(func.min(PartnerListing.feed_seq))
                     .join(Product, Product.id == PartnerListing.product_id)
                     .where(PartnerListing.partner_id == partner_id, Product.updated_at > now() - settle)
                     .scalar_subquery())
        query = query.where(or_(unsettled.is_(None), PartnerListing.feed_seq < unsettled))
    if updated_since is not None:
        query = query.where(Product.updated_at >= updated_since)
    if cursor:
        feed_seq, link_id = decode_cursor(cursor)
        query = query.where(or_(PartnerListing.feed_seq > feed_seq,
                                and_(PartnerListing.feed_seq == feed_seq, PartnerListing.id > link_id)))
    rows = list(session.execute(query.order_by(PartnerListing.feed_seq, PartnerListing.id).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    slugs = {c.id: slug for slug, c in catalog.categories_by_slug(session).items()}
    items = [feed_item(link, product, slugs) for link, product, _seq in rows]
    next_cursor = encode_cursor(rows[-1].seq, rows[-1][0].id) if rows else cursor
    return {"items": items, "next_cursor": next_cursor, "has_more": has_more}


# -- sync jobs (JSON Lines) --------------------------------------------------

def create_job(session: Session, partner_id: int, stream: IO[bytes], max_lines: int,
               record: IdempotencyRecord | None = None) -> ListingSyncJob:
    """Store an uploaded JSON Lines body (one listing per line; blank lines skipped) as a pending job.

    With an idempotency `record`, the job's id is committed into it with the job: a retry of an
    attempt that died after that commit gets the same job instead of a second one.
    """
    if record is not None and record.resource_id is not None:
        job = session.get(ListingSyncJob, record.resource_id)
        if job is not None:
            return job
    job = ListingSyncJob(partner_id=partner_id, status=JobStatus.PENDING, total=0, processed=0, cursor_line=0,
                         counts={s: 0 for s in STATUSES})
    session.add(job)
    session.flush()
    rows: list[dict[str, Any]] = []
    total = number = 0
    for raw in iter(stream.readline, b""):
        number += 1
        raw = raw.strip()
        if not raw:
            continue
        total += 1
        if total > max_lines:
            session.rollback()
            raise PayloadTooLarge(PartnerErrorCode.TOO_MANY_LISTINGS,
                                  _("A sync job holds at most %(n)s listings.", n=max_lines), field="body")
        try:
            text = raw.decode("utf-8")
            if "\x00" in text:
                raise UnicodeError
        except UnicodeError:
            session.rollback()
            raise Invalid(PartnerErrorCode.INVALID_LINE, _("Line %(n)s is not valid UTF-8 text.", n=number),
                          field="body") from None
        rows.append({"job_id": job.id, "line": number, "payload": text, "status": "pending"})
        if len(rows) >= 5000:
            session.execute(insert(ListingSyncJobLine), rows)
            rows = []
    if rows:
        session.execute(insert(ListingSyncJobLine), rows)
    if not total:
        session.rollback()
        raise Invalid(PartnerErrorCode.EMPTY_JOB, _("The body holds no listings (one JSON object per line)."),
                      field="body")
    job.total = total
    if record is not None:
        record.resource_id = job.id
        session.merge(record)
    session.commit()
    return job


def own_job(session: Session, partner_id: int, job_id: int) -> ListingSyncJob:
    job = session.get(ListingSyncJob, job_id)
    if job is None or job.partner_id != partner_id:
        raise NotFound(PartnerErrorCode.JOB_NOT_FOUND, _("No such sync job."))
    return job


def jobs_of(session: Session, partner_id: int, page: int, per_page: int) -> dict[str, Any]:
    query = select(ListingSyncJob).where(ListingSyncJob.partner_id == partner_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = list(session.scalars(query.order_by(ListingSyncJob.id.desc()).limit(per_page).offset((page - 1) * per_page)))
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def job_results(session: Session, job: ListingSyncJob, status: str | None, page: int, per_page: int) -> dict[str, Any]:
    query = select(ListingSyncJobLine).where(ListingSyncJobLine.job_id == job.id,
                                             ListingSyncJobLine.status != "pending")
    if status:
        query = query.where(ListingSyncJobLine.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    lines = session.scalars(query.order_by(ListingSyncJobLine.line).limit(per_page).offset((page - 1) * per_page))
    results = [{"line": line.line, "external_id": line.external_id, "status": line.status,
                "product_id": line.product_id, "errors": line.errors,
                **({"code": line.code} if line.code else {})} for line in lines]
    return {"id": job.id, "status": job.status, "total": job.total, "processed": job.processed,
            "counts": job.counts, "created_at": job.created_at, "started_at": job.started_at,
            "finished_at": job.finished_at, "error": job.error, "results": results, "page": page,
            "per_page": per_page,
            "results_total": total}


#: Limits on one job line's JSON: nesting depth, digits in a number.
MAX_LINE_DEPTH = 32
MAX_NUMBER_DIGITS = 40


class _BadLine(ValueError):
    """Why a job line cannot be a listing (its `invalid_line` result says so)."""


def _number(text: str, kind: type) -> Any:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _BadLine(_("A number in this line has more than %(n)s digits.", n=MAX_NUMBER_DIGITS))
    return kind(text)


def _constant(name: str) -> Any:
    raise _BadLine(_("This line holds %(name)s, which is not a JSON number.", name=name))


def _check_parsed(value: Any) -> None:
    """Depth and text checks over a parsed line, without recursion (any depth the parser accepted)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_LINE_DEPTH:
            raise _BadLine(_("This line is nested deeper than %(n)s levels.", n=MAX_LINE_DEPTH))
        if isinstance(item, str):
            if "\x00" in item:
                raise _BadLine(_("Text in this line holds a NUL character."))
        elif isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def parse_line(payload: str) -> dict[str, Any]:
    """A job line as a listing object, or _BadLine saying why it cannot be one: not JSON, nested too deep
    (however deep: the parser's own recursion limit is caught too), numbers with too many digits, NaN or
    Infinity, NUL characters, or JSON that is not an object."""
    if not payload:
        raise _BadLine(_("This line is empty."))
    try:
        value = json.loads(payload, parse_int=lambda text: _number(text, int),
                           parse_float=lambda text: _number(text, float), parse_constant=_constant)
    except _BadLine:
        raise
    except RecursionError:
        raise _BadLine(_("This line is nested deeper than %(n)s levels.", n=MAX_LINE_DEPTH)) from None
    except ValueError:
        raise _BadLine(_("This line is not valid JSON.")) from None
    _check_parsed(value)
    if not isinstance(value, dict):
        raise _BadLine(_("Each line must be one JSON object (a listing)."))
    return value


def _invalid_line(reason: str) -> dict[str, Any]:
    return _error(None, PartnerErrorCode.INVALID_LINE, {"body": [reason]})


def _job_chunk(session: Session, job_id: int, partner_id: int, lines: list[Any]) -> None:
    """Sync `lines` [(id, line number, payload)] of a job and record their results and the job's progress;
    commits. Lines that cannot be listings get `invalid_line` with the reason; the others go through
    `sync_listings` (the same rules and results as PUT), in the same transaction as the progress."""
    items: list[Any] = []
    bad: dict[int, str] = {}
    for index, (_id, _line, payload) in enumerate(lines):
        try:
            items.append(parse_line(payload))
        except _BadLine as reason:
            bad[index] = str(reason)
            items.append({})

    def record_progress(results: list[dict]) -> None:
        for index, reason in bad.items():
            results[index] = _invalid_line(reason)
        table = ListingSyncJobLine.__table__
        session.execute(
            table.update().where(table.c.id == bindparam("line_id")).values(
                status=bindparam("r_status"), external_id=bindparam("r_external_id"),
                product_id=bindparam("r_product_id"), errors=bindparam("r_errors"), code=bindparam("r_code")),
            [{"line_id": line_id, "r_status": r["status"], "r_external_id": (r["external_id"] or "")[:128] or None,
              "r_product_id": r["product_id"], "r_errors": r["errors"], "r_code": r.get("code")}
             for (line_id, _line, _payload), r in zip(lines, results)])
        current = session.get(ListingSyncJob, job_id)
        counts = dict(current.counts or {})
        for status, n in summary(results).items():
            counts[status] = counts.get(status, 0) + n
        current.counts = counts
        current.processed += len(results)
        current.cursor_line = lines[-1][1]
        current.status = JobStatus.RUNNING
        current.started_at = current.started_at or now()
        if current.processed >= current.total:
            current.status, current.finished_at = JobStatus.COMPLETED, now()

    sync_listings(session, partner_id, items, before_commit=record_progress)


def _lock_job(session: Session, job_id: int) -> ListingSyncJob | None:
    return session.scalar(select(ListingSyncJob).where(ListingSyncJob.id == job_id).with_for_update()
                          .execution_options(populate_existing=True))


def _job_line_by_line(session: Session, job_id: int, partner_id: int, lines: list[Any]) -> None:
    """A chunk that failed as a whole, again one line at a time: a line that still fails is `invalid_line`
    with the reason, and the others are synced as usual. Each step re-locks the job and skips lines another
    worker recorded meanwhile."""
    for line in lines:
        job = _lock_job(session, job_id)
        if job is None or job.status not in (JobStatus.PENDING, JobStatus.RUNNING) or job.cursor_line >= line[1]:
            session.rollback()
            continue
        try:
            _job_chunk(session, job_id, partner_id, [line])
        except Exception as error:  # noqa: BLE001 - any failure of one line is that line's result
            session.rollback()
            log.warning("sync job %s line %s failed: %r", job_id, line[1], error)
            if _lock_job(session, job_id) is None:
                session.rollback()
                return
            reason = _("This line could not be processed (%(error)s).", error=type(error).__name__)
            _record_failed_line(session, job_id, line, reason)


def _record_failed_line(session: Session, job_id: int, line: Any, reason: str) -> None:
    result = _invalid_line(reason)
    table = ListingSyncJobLine.__table__
    session.execute(table.update().where(table.c.id == line[0])
                    .values(status=result["status"], code=result["code"], errors=result["errors"]))
    job = session.get(ListingSyncJob, job_id)
    counts = dict(job.counts or {})
    counts["error"] = counts.get("error", 0) + 1
    job.counts, job.processed, job.cursor_line = counts, job.processed + 1, line[1]
    job.status = JobStatus.RUNNING
    job.started_at = job.started_at or now()
    if job.processed >= job.total:
        job.status, job.finished_at = JobStatus.COMPLETED, now()
    session.commit()


def _fail_job(session: Session, job_id: int, reason: str) -> None:
    session.rollback()
    job = _lock_job(session, job_id)
    if job is not None and job.status in (JobStatus.PENDING, JobStatus.RUNNING):
        job.status, job.error, job.finished_at = JobStatus.FAILED, reason[:1000], now()
        job.started_at = job.started_at or job.finished_at
    session.commit()


def process_sync_jobs(session: Session, chunk_size: int | None = None) -> int:
    """Worker job: the next chunk of the oldest unfinished sync job, committed with its progress.

    Returns the number of lines processed (0 when no job waits). A line that cannot be a listing, or whose
    processing fails, gets `invalid_line` with the reason and the job goes on; a job that cannot go on at
    all is marked `failed` with the reason, so it never holds up the jobs queued behind it (any partner's)."""
    chunk_size = chunk_size or current_app.config.get("PARTNER_JOB_CHUNK", 1000)
    query = (select(ListingSyncJob).where(ListingSyncJob.status.in_([JobStatus.PENDING, JobStatus.RUNNING]))
             .order_by(ListingSyncJob.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = session.scalar(query)
    if job is None:
        session.commit()
        return 0
    job_id, partner_id, cursor_line = job.id, job.partner_id, job.cursor_line
    try:
        lines = session.execute(select(ListingSyncJobLine.id, ListingSyncJobLine.line, ListingSyncJobLine.payload)
                                .where(ListingSyncJobLine.job_id == job_id, ListingSyncJobLine.line > cursor_line)
                                .order_by(ListingSyncJobLine.line).limit(chunk_size)).all()
        if not lines:
            job.status, job.finished_at = JobStatus.COMPLETED, now()
            job.started_at = job.started_at or job.finished_at
            session.commit()
            return 0
        try:
            _job_chunk(session, job_id, partner_id, lines)
        except Exception as error:  # noqa: BLE001 - find the line(s) at fault instead of failing every pass
            session.rollback()
            log.warning("sync job %s: a chunk failed (%r); processing it line by line", job_id, error)
            _job_line_by_line(session, job_id, partner_id, lines)
        return len(lines)
    except Exception as error:  # noqa: BLE001 - this job cannot go on; the others must
        log.exception("sync job %s failed", job_id)
        try:
            _fail_job(session, job_id, _("The job stopped: %(error)s.", error=type(error).__name__))
        except Exception:  # noqa: BLE001 - e.g. the database itself is gone: the worker logs it and retries
            session.rollback()
            raise
        return 1
