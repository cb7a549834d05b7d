"""Search documents: what an engine stores for a public product (see engine.py)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from catalog.models import Product
from marketplace.kernel.money import CONTEXT, Money
from marketplace.rates.conversion import NoRate, RateTable
from promotions.pricing import campaign_index, price_for

MICROS = Decimal(10) ** 6


def base_micros(money: Money, table: RateTable, base: str) -> int | None:
    """`money` in the base currency, in millionths, as an integer (the engines' sort and filter key)."""
    try:
        rate = table.rate(money.currency, base).rate
    except NoRate:
        return None
    with localcontext(CONTEXT):
        return int((money.amount * rate * MICROS).to_integral_value(rounding=ROUND_HALF_UP))


def build_document(session, product: Product, table: RateTable, base: str) -> dict:
    """The product as engines store it; price, boost and campaigns as of now (campaign discounts included,
    so price filters and sorts see the festival price)."""
    vendor, category = product.vendor, product.category
    index = campaign_index(session)
    boost, campaigns = index.boosts.get(product.id, (1.0, []))
    try:
        quote = price_for(product.price, base, table, index.offers.get(product.id))
        # without a discount, the exact list price (not rounded to base cents, so that a price bound
        # equal to the price shown in another currency still includes the product)
        price_micros = base_micros(quote.price if quote.discount else product.price, table, base)
    except NoRate:
        price_micros = None
    return {
        "id": product.id,
        "version": product.version,
        "sku": product.sku,
        "status": product.status,
        "vendor_id": vendor.id,
        "vendor_name": vendor.display_name,
        "vendor_country": vendor.country,
        "origin_country": product.origin_country or vendor.country,
        "category": category.slug,
        "category_path": category.path,
        "original_locale": product.original_locale,
        "translations": product.translations,
        "price": {"amount": str(product.price_amount), "currency": product.price_currency},
        "price_base_micros": price_micros,
        "stock": product.stock,
        "in_stock": product.stock > 0,
        "hs_code": product.hs_code,
        "attributes": product.attributes or {},
        "images": product.images or [],
        "created_at": product.created_at.isoformat(),
        "updated_at": product.updated_at.isoformat(),
        "boost": boost,
        "campaigns": campaigns,
        # published reviews: the average as a one-decimal string (None while there are none), and how many
        "rating_average": str(product.rating_average) if product.rating_average is not None else None,
        "rating_count": product.rating_count or 0,
        "weight_g": product.weight_g,
        "dimensions": ({"length_mm": product.length_mm, "width_mm": product.width_mm, "height_mm": product.height_mm}
                       if product.length_mm else None),
        "customs": {"description": product.customs_description} if product.customs_description else None,
    }
