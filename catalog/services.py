"""Catalog use cases: vendors list products; everyone reads public ones."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from catalog.errors import CatalogErrorCode
from catalog.models import Category, Product, ProductStatus
from catalog.topics import SEARCH_PRODUCT_TOPIC
from marketplace.kernel import outbox
from marketplace.accounts.models import Role, User
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.kernel.money import Money
from marketplace.kernel.pagination import paginate
from marketplace.rates import services as rates
from vendors.errors import VendorErrorCode
from vendors.models import Vendor
from vendors.services import caller_vendor, can_see_private


# -- reading helpers ---------------------------------------------------------

def categories_by_slug(session: Session) -> dict[str, Category]:
    """All categories (reference data), loaded once per request."""
    if has_app_context() and "categories" in g:
        return g.categories
    categories = {c.slug: c for c in session.scalars(select(Category).options(joinedload(Category.parent)))}
    if has_app_context():
        g.categories = categories
    return categories


def category_tree(session: Session, locale: str) -> list[dict[str, Any]]:
    categories = sorted(categories_by_slug(session).values(), key=lambda c: (c.position, c.slug))

    def node(category: Category) -> dict[str, Any]:
        return {"slug": category.slug, "name": category.name(locale),
                "parent": category.parent.slug if category.parent else None,
                "children": [node(c) for c in categories if c.parent_id == category.id]}

    return [node(c) for c in categories if c.parent_id is None]


# -- ownership ---------------------------------------------------------------

def can_manage(product: Product, user: User | None) -> bool:
    return user is not None and (user.role == Role.ADMIN or product.vendor.owner_id == user.id)


def find_product(session: Session, product_id: int, lock: bool = False) -> Product:
    """The product (404 if none). `lock`: its row is locked first (PostgreSQL; SQLite's writing transactions
    hold the database's write lock already) and read afresh, so concurrent writers apply one after another."""
    if lock:
        session.execute(select(Product.id).where(Product.id == product_id).with_for_update())
    product = session.get(Product, product_id, options=[joinedload(Product.vendor), joinedload(Product.category)],
                          populate_existing=lock)
    if product is None:
        raise NotFound(CatalogErrorCode.PRODUCT_NOT_FOUND, _("No such product."))
    return product


def get_product(session: Session, product_id: int, viewer: User | None) -> Product:
    """A public product for anyone; any product for its vendor and admins; otherwise 404."""
    product = find_product(session, product_id)
    if not product.is_public and not can_manage(product, viewer):
        raise NotFound(CatalogErrorCode.PRODUCT_NOT_FOUND, _("No such product."))
    return product


def _owned_product(session: Session, product_id: int, user: User) -> Product:
    product = find_product(session, product_id, lock=True)
    if product.vendor.owner_id != user.id:
        if product.is_public:
            raise Forbidden(CatalogErrorCode.NOT_PRODUCT_OWNER, _("Only the product's vendor may change it."))
        raise NotFound(CatalogErrorCode.PRODUCT_NOT_FOUND, _("No such product."))
    return product


# -- writing -----------------------------------------------------------------

def category_by_slug(session: Session, slug: str) -> Category:
    category = categories_by_slug(session).get(slug)
    if category is None:
        raise Invalid(CatalogErrorCode.UNKNOWN_CATEGORY,
                      _("Unknown category %(slug)s; see GET /api/v1/categories.", slug=slug), field="category")
    return category


def change_stock(session: Session, product_id: int, delta: int) -> bool:
    """The one way stock moves: `delta` units back in (positive) or out (negative, only when that many are
    left, atomically: never oversells). False when the units were not there (or the product is gone)."""
    query = update(Product).where(Product.id == product_id)
    if delta < 0:
        query = query.where(Product.stock >= -delta)
    moved = session.execute(query.values(stock=Product.stock + delta, version=Product.version + 1, updated_at=now()))
    return moved.rowcount == 1


def record_search_change(session: Session, product: Product) -> None:
    outbox.record(session, SEARCH_PRODUCT_TOPIC, product.id)


SEARCH_EVENT_BATCH = 1000


def record_search_changes(session: Session, product_ids: Iterable[int]) -> None:
    """`record_search_change` for many products (bulk writes): one event per up to SEARCH_EVENT_BATCH
    products, its payload listing their ids."""
    ids = sorted(set(product_ids))
    for start in range(0, len(ids), SEARCH_EVENT_BATCH):
        chunk = ids[start:start + SEARCH_EVENT_BATCH]
        if len(chunk) == 1:
            outbox.record(session, SEARCH_PRODUCT_TOPIC, chunk[0])
        else:
            outbox.record(session, SEARCH_PRODUCT_TOPIC, f"{chunk[0]}..{chunk[-1]}", {"product_ids": chunk})


def changed_product_ids(event: outbox.OutboxEvent) -> list[int]:
    """The products a `search.product` event is about (one by its key, or a batch in its payload)."""
    batch = (event.payload or {}).get("product_ids")
    return list(batch) if batch else [int(event.key)]


def check_convertible(session: Session, price: Money) -> None:
    """A price must convert into the base currency (pages show it, search sorts and filters on it);
    checked before anything is stored, so a write never answers 422 after committing."""
    rates.cross_rate(session, price.currency, current_app.config["BASE_CURRENCY"], field="price.currency")


def origin_problem(country: str) -> Invalid | None:
    """Why `country` cannot be a product's origin (None: it can): goods come from a BRICS member, the countries
    vendors may onboard from (ELIGIBLE_COUNTRIES)."""
    eligible = current_app.config["ELIGIBLE_COUNTRIES"]
    if country in eligible:
        return None
    return Invalid(VendorErrorCode.COUNTRY_NOT_ELIGIBLE,
                   _("Goods made in %(country)s cannot be listed; origin countries: %(list)s.",
                     country=country, list=", ".join(eligible)), field="origin_country")


def _apply(session: Session, product: Product, data: dict[str, Any]) -> None:
    if "translations" in data:
        merged = dict(product.translations or {})
        for locale, text in data["translations"].items():
            if text is None:
                merged.pop(locale, None)
            else:
                merged[locale] = {"title": text["title"], "description": text.get("description", "")}
        if not merged:
            raise Invalid(CatalogErrorCode.LAST_TRANSLATION, _("A product keeps at least one translation."),
                          field="translations")
        product.translations = merged
        if product.original_locale not in merged:
            product.original_locale = next(iter(merged))
    if "original_locale" in data:
        if data["original_locale"] not in product.translations:
            raise Invalid(CatalogErrorCode.INVALID_ORIGINAL_LOCALE,
                          _("original_locale must be one of the product's translations."), field="original_locale")
        product.original_locale = data["original_locale"]
    if "category" in data:
        product.category = category_by_slug(session, data["category"])
    if "price" in data:
        check_convertible(session, data["price"])
        product.price = data["price"]
    if "origin_country" in data:
        problem = origin_problem(data["origin_country"])
        if problem is not None:
            raise problem
        product.origin_country = data["origin_country"]
    elif product.origin_country is None:  # a new product: made where its vendor is, unless it says otherwise
        product.origin_country = product.vendor.country
    for name in ("sku", "stock", "hs_code", "attributes", "images", "status", "weight_g"):
        if name in data:
            setattr(product, name, data[name])
    if "dimensions" in data:
        dimensions = data["dimensions"] or {}
        product.length_mm, product.width_mm, product.height_mm = (
            dimensions.get("length_mm"), dimensions.get("width_mm"), dimensions.get("height_mm"))
    if "customs" in data:
        product.customs_description = (data["customs"] or {}).get("description")


def _commit(session: Session, flush_only: bool = False) -> None:
    """Commit (or only flush); a unique-SKU violation, a race the SKU pre-check lost, is a 409."""
    try:
        if flush_only:
            session.flush()
        else:
            session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(CatalogErrorCode.SKU_TAKEN, _("You already have a product with this SKU."), field="sku") from None


def _sku_free(session: Session, vendor_id: int, sku: str, product_id: int | None = None) -> None:
    query = select(func.count()).select_from(Product).where(Product.vendor_id == vendor_id, Product.sku == sku)
    if product_id is not None:
        query = query.where(Product.id != product_id)
    if session.scalar(query):
        raise Conflict(CatalogErrorCode.SKU_TAKEN, _("You already have a product with this SKU."), field="sku")


def create_product(session: Session, user: User, data: dict[str, Any]) -> Product:
    vendor = caller_vendor(session, user, detail=_("Create your vendor profile before listing products."))
    _sku_free(session, vendor.id, data["sku"])
    product = Product(vendor=vendor, translations={}, original_locale=data.get("original_locale")
                      or next(iter(data["translations"])), version=1)
    _apply(session, product, {k: v for k, v in data.items() if k != "original_locale"})
    session.add(product)
    _commit(session, flush_only=True)  # assigns the id the outbox event names
    record_search_change(session, product)
    _commit(session)
    return product


def update_product(session: Session, user: User, product_id: int, data: dict[str, Any]) -> Product:
    product = _owned_product(session, product_id, user)
    if "sku" in data:
        _sku_free(session, product.vendor_id, data["sku"], product.id)
    _apply(session, product, data)
    if session.is_modified(product):
        product.version += 1
        product.updated_at = now()
        record_search_change(session, product)
    _commit(session)
    return product


def archive_product(session: Session, user: User, product_id: int) -> None:
    product = _owned_product(session, product_id, user)
    if product.status != ProductStatus.ARCHIVED:
        product.status = ProductStatus.ARCHIVED
        product.version += 1
        product.updated_at = now()
        record_search_change(session, product)
    session.commit()


def set_rating(session: Session, product_id: int, average: Decimal | None, count: int) -> None:
    """The product's published rating (average rounded to one decimal, None when `count` is 0), marked as a
    change like any product write (version, updated_at, the search event) when it moved. The caller locks the
    product first (`find_product(lock=True)`) before counting what it sets, and commits."""
    product = session.get(Product, product_id)
    if product is None or (product.rating_average, product.rating_count) == (average, count):
        return
    product.rating_average, product.rating_count = average, count
    product.version += 1
    product.updated_at = now()
    record_search_change(session, product)


def vendor_products(session: Session, vendor_id: int, viewer: User | None, status: str | None,
                    page: int, per_page: int) -> dict[str, Any]:
    """A page of the vendor's products (`paginate`): active ones for everyone, all (or those of `status`) for
    the vendor and admins."""
    vendor = session.get(Vendor, vendor_id)
    manager = vendor is not None and can_see_private(vendor, viewer)
    if vendor is None or (not vendor.is_public and not manager):
        raise NotFound(CatalogErrorCode.PRODUCT_NOT_FOUND, _("No such vendor."))
    query = select(Product).where(Product.vendor_id == vendor_id)
    if not manager:
        query = query.where(Product.status == ProductStatus.ACTIVE)
    elif status:
        query = query.where(Product.status == status)
    return paginate(session, query.options(joinedload(Product.vendor), joinedload(Product.category))
                    .order_by(Product.id), page, per_page)


