"""The catalog's bulk path: rows and content writes for many products (partner sync), without a database."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from catalog import bulk
from catalog.models import Product
from marketplace.kernel.money import Money

STAMP = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CONTENT = {"vendor_id": 9, "sku": "TEA-1", "translations": {"en": {"title": "Tea", "description": ""}},
           "original_locale": "en", "price": ["650.00", "INR"], "stock": 4, "category": "tea", "hs_code": "090230",
           "attributes": {"grade": "A"}, "images": [], "status": "active", "origin_country": "ET"}


def test_a_new_product_row_holds_the_content_at_version_one_and_ignores_other_keys():
    row = bulk.product_row(7, CONTENT, 3, Money(Decimal("650.00"), "INR"), STAMP)
    assert row == {"vendor_id": 7, "sku": "TEA-1", "translations": CONTENT["translations"], "original_locale": "en",
                   "price_amount": Decimal("650.00"), "price_currency": "INR", "stock": 4, "category_id": 3,
                   "hs_code": "090230", "attributes": {"grade": "A"}, "images": [], "status": "active",
                   "origin_country": "ET", "version": 1, "created_at": STAMP, "updated_at": STAMP,
                   # no customs data in the content: none on the row
                   "weight_g": None, "length_mm": None, "width_mm": None, "height_mm": None,
                   "customs_description": None}


def test_writing_content_replaces_every_field_and_bumps_the_version_once():
    product = Product(vendor_id=7, sku="OLD", translations={"ru": {"title": "Чай"}}, original_locale="ru",
                      price_amount=Decimal("1"), price_currency="RUB", stock=0, category_id=1, hs_code="000000",
                      attributes={}, images=["x"], status="draft", version=4)
    bulk.write_content(product, CONTENT, 3, Money(Decimal("650.00"), "INR"), STAMP)
    assert (product.sku, product.original_locale, product.stock, product.category_id, product.status) == (
        "TEA-1", "en", 4, 3, "active")
    assert product.price == Money(Decimal("650.00"), "INR") and product.images == []
    assert product.origin_country == "ET"
    assert product.version == 5 and product.updated_at == STAMP


def test_stock_and_price_change_only_what_is_given():
    product = Product(stock=5, price_amount=Decimal("10.00"), price_currency="USD", version=2)
    bulk.set_stock_and_price(product, stock=0)
    assert product.stock == 0 and product.price == Money(Decimal("10.00"), "USD") and product.version == 2
    bulk.set_stock_and_price(product, price=Money(Decimal("12.50"), "USD"))
    assert product.stock == 0 and product.price == Money(Decimal("12.50"), "USD")
    bulk.touch(product, STAMP)
    assert product.version == 3 and product.updated_at == STAMP
