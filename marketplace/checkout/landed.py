"""Landed cost: what a cart costs delivered to an address, per vendor — the goods as the cart prices them
(campaign offers applied), the vendor's shipping to that country (`vendors.shipping`), and the destination's
duties and import taxes on the value actually paid (`marketplace.duties`) — all in the shopper's currency.

A vendor order to the vendor's own country is a domestic sale: no duties. A destination rule that collects
(DDP) adds its charges to the total; one that only estimates (DAP) shows them without adding them.
China's cross-border retail imports need the buyer's customs identity, whose name must be the payer's (the
shipping address's name), and count every parcel of the cart towards the per-transaction and annual limits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.models import Product
from marketplace.accounts import customs
from marketplace.accounts.models import User
from marketplace.checkout import cart as carts
from marketplace.checkout.errors import CheckoutErrorCode
from marketplace.checkout.models import Order, OrderStatus, VendorOrder
from marketplace.duties import calculation, rules as duty_rules
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Invalid
from marketplace.kernel.money import Money, sum_money
from marketplace.rates import services as rates
from marketplace.rates.conversion import RateTable
from vendors import shipping
from vendors.models import ShippingProfile, Vendor

#: Destinations whose rule needs the buyer's customs identity.
IDENTITY_RULES = ("cn_cbec",)


def _options(profile: ShippingProfile | None, country: str, weight_g: int, goods: Money, vendor_currency: str,
             currency: str, table: RateTable) -> list[dict[str, Any]]:
    """The vendor's services to `country`, cheapest first, priced in the shopper's currency."""
    found = shipping.options_for(profile.zones if profile else None, country, weight_g,
                                 table.convert(goods, vendor_currency))
    return [{"service": o.service, "price": table.convert(o.price, currency), "min_days": o.min_days,
             "max_days": o.max_days, "free": o.free} for o in found]


def _weight(lines: list[dict[str, Any]], products: dict[int, Product]) -> int | None:
    """The parcel's weight in grams; None when a product has none (it cannot be shipped yet)."""
    weights = [products[line["product_id"]].weight_g for line in lines]
    if any(w is None for w in weights):
        return None
    return sum(w * line["quantity"] for w, line in zip(weights, lines))


def annotate_shipping(session: Session, view: dict[str, Any], country: str) -> dict[str, Any]:
    """The cart `view` with, per vendor group, its shipping options to `country` and the chosen one (the
    cheapest); a vendor that does not ship there, or a product without a weight, is flagged on its group."""
    table = rates.current_table(session)
    products = _products(session, view)
    profiles = _profiles(session, view)
    for group in view["groups"]:
        weight = _weight(group["lines"], products)
        vendor = products[group["lines"][0]["product_id"]].vendor
        options = [] if weight is None else _options(profiles.get(vendor.id), country, weight, group["subtotal"],
                                                     vendor.currency, view["currency"], table)
        group["shipping_options"] = options
        group["shipping"] = options[0] if options else None
        group["shipping_problems"] = (["weight_missing"] if weight is None else
                                      [] if options else ["does_not_ship_to_country"])
        if group["shipping_problems"]:
            view["has_problems"] = True
    view["shipping_country"] = country
    return view


def _products(session: Session, view: dict[str, Any]) -> dict[int, Product]:
    ids = [line["product_id"] for group in view["groups"] for line in group["lines"]]
    return {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids))
                                             .options(joinedload(Product.vendor)))} if ids else {}


def _profiles(session: Session, view: dict[str, Any]) -> dict[int, ShippingProfile]:
    ids = [group["vendor"]["id"] for group in view["groups"]]
    return {p.vendor_id: p for p in session.scalars(
        select(ShippingProfile).where(ShippingProfile.vendor_id.in_(ids)))} if ids else {}


def _refuse_problems(view: dict[str, Any]) -> None:
    """A cart checkout would refuse is refused the same way here."""
    if not view["groups"]:
        raise Invalid(CheckoutErrorCode.CART_EMPTY, _("Your cart is empty."), field="cart")
    for group in view["groups"]:
        for line in group["lines"]:
            if "unavailable" in line["problems"]:
                raise Conflict(CheckoutErrorCode.PRODUCT_UNAVAILABLE,
                               _("A product in your cart is no longer available."), product_id=line["product_id"])
            if "insufficient_stock" in line["problems"]:
                raise Conflict(CheckoutErrorCode.INSUFFICIENT_STOCK,
                               _("Not enough stock left for %(sku)s.", sku=line["sku"]), product_id=line["product_id"])


@dataclass
class Goods:
    """One vendor's part of a cart, priced: (product, quantity, line total in the shopper's currency)."""

    vendor: Vendor
    lines: list[tuple[Product, int, Money]]

    def total(self, currency: str) -> Money:
        return sum_money([line_total for _p, _q, line_total in self.lines], currency)


@dataclass
class ParcelCost:
    """What one vendor's parcel costs delivered: goods, the chosen shipping, the duties quote (None for a
    domestic sale)."""

    vendor: Vendor
    goods: Money
    option: dict[str, Any]
    options: list[dict[str, Any]]
    duty: calculation.DutyQuote | None

    @property
    def shipping(self) -> Money:
        return self.option["price"]

    @property
    def collected(self) -> Money:
        return self.duty.total if self.duty is not None and self.duty.collected else Money.zero(self.goods.currency)

    @property
    def total(self) -> Money:
        return self.goods + self.shipping + self.collected


@dataclass
class LandedCost:
    parcels: list[ParcelCost]
    identity_digest: str | None    # China: the identity the parcels count under

    def total(self, currency: str) -> Money:
        return sum_money([p.total for p in self.parcels], currency)


def _identity_check(session: Session, user: User, address: dict[str, Any], lock: bool) -> str:
    """The digest the buyer's imports are counted under; 422 when there is no identity or it is not the
    payer's. `lock`: the identity row stays locked until the caller commits (two checkouts of one buyer
    count the annual limit one after the other)."""
    identity = customs.identity_of(session, user.id, lock=lock)
    if identity is None:
        raise Invalid(CheckoutErrorCode.CUSTOMS_IDENTITY_REQUIRED,
                      _("Imports to China need the buyer's customs identity: declare it at "
                        "PUT /api/v1/me/customs-identity."), field="customs_identity")
    if customs.normalize_name(customs.name_of(identity)) != customs.normalize_name(address["name"]):
        raise Invalid(CheckoutErrorCode.CUSTOMS_IDENTITY_MISMATCH,
                      _("The shipping address's name must be the name on the buyer's customs identity."),
                      field="shipping_address.name")
    return identity.id_number_digest


def annual_used(session: Session, digest: str, currency: str, year: int) -> Money:
    """What an identity has imported this year through this marketplace's orders (not cancelled), in RMB
    (summed here, not in SQL: SQLite keeps exact decimals as text)."""
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    amounts = session.scalars(select(VendorOrder.cbec_quota_amount).join(Order, Order.id == VendorOrder.order_id)
                              .where(VendorOrder.customs_identity_digest == digest,
                                     Order.status != OrderStatus.CANCELLED, Order.created_at >= start,
                                     Order.created_at < start.replace(year=year + 1)))
    return sum_money([Money(a, currency) for a in amounts if a is not None], currency)


def cost(session: Session, user: User, address: dict[str, Any], parts: list[Goods], currency: str,
         table: RateTable, chosen: dict[str, str] | None, lock_identity: bool = False) -> LandedCost:
    """Shipping and duties of each vendor's parcel to `address`; raises what checkout refuses (a vendor that
    does not ship there, a product without a weight, an unknown service, a parcel the destination's rule
    refuses, a missing or mismatched customs identity)."""
    country, region = address["country"], address.get("region")
    today = now().date()
    rule = duty_rules.rule_for(country, today)
    wanted = {str(k): v for k, v in (chosen or {}).items()}
    digest, used = None, None
    if rule.kind in IDENTITY_RULES and any(part.vendor.country != country for part in parts):
        digest = _identity_check(session, user, address, lock_identity)
        used = annual_used(session, digest, rule.params["currency"], today.year)
    profiles = {p.vendor_id: p for p in session.scalars(
        select(ShippingProfile).where(ShippingProfile.vendor_id.in_([part.vendor.id for part in parts])))}
    parcels = []
    for part in parts:
        vendor, goods = part.vendor, part.total(currency)
        missing = next((product for product, _q, _t in part.lines if product.weight_g is None), None)
        if missing is not None:
            raise Invalid(CheckoutErrorCode.WEIGHT_REQUIRED,
                          _("%(sku)s has no shipping weight yet; its vendor must add one.", sku=missing.sku),
                          field="cart", product_id=missing.id)
        weight = sum(product.weight_g * quantity for product, quantity, _t in part.lines)
        options = _options(profiles.get(vendor.id), country, weight, goods, vendor.currency, currency, table)
        if not options:
            raise Invalid(CheckoutErrorCode.SHIPPING_UNAVAILABLE,
                          _("%(vendor)s does not ship to %(country)s.", vendor=vendor.display_name, country=country),
                          field=f"shipping.{vendor.id}", vendor_id=vendor.id)
        service = wanted.pop(str(vendor.id), None)
        option = next((o for o in options if o["service"] == service), None) if service else options[0]
        if option is None:
            raise Invalid(CheckoutErrorCode.UNKNOWN_SHIPPING_SERVICE,
                          _("This vendor ships to %(country)s by: %(services)s.", country=country,
                            services=", ".join(o["service"] for o in options)), field=f"shipping.{vendor.id}")
        duty = None
        if vendor.country != country:  # a domestic sale pays no import duties
            parcel = calculation.Parcel(country, region, tuple(
                calculation.Item(product.hs_code, line_total, quantity) for product, quantity, line_total in part.lines),
                option["price"])
            try:
                duty = calculation.quote(rule, parcel, table, used)
            except calculation.DutyError as refused:
                raise Invalid(refused.code, refused.message, field=refused.field, vendor_id=vendor.id,
                              **refused.extra) from None
            if duty.quota_value is not None:  # the cart's parcels count together
                used = (used or Money.zero(duty.quota_value.currency)) + duty.quota_value
        parcels.append(ParcelCost(vendor, goods, option, options, duty))
    if wanted:
        raise Invalid(CheckoutErrorCode.UNKNOWN_SHIPPING_SERVICE, _("That vendor has nothing in your cart."),
                      field=f"shipping.{next(iter(wanted))}")
    return LandedCost(parcels, digest)


def charges_of(duty: calculation.DutyQuote | None) -> list[dict[str, Any]]:
    """A duties quote's charges as the order keeps them (amounts as strings) and the API shows them."""
    if duty is None:
        return []
    return [{"kind": c.kind, "base": str(c.base.amount), "rate": str(c.rate), "amount": str(c.amount.amount),
             "deduction": str(c.deduction.amount) if c.deduction is not None else None} for c in duty.charges]


def quote(session: Session, user: User, data: dict[str, Any], locale: str) -> dict[str, Any]:
    """The landed cost of the caller's cart for checkout's body (`currency`, `shipping_address`, optional
    `shipping`: {vendor id: service}); raises what checkout would refuse."""
    currency = data["currency"]
    view = carts.view(session, user, currency, locale)
    _refuse_problems(view)
    table = rates.current_table(session)
    products = _products(session, view)
    parts = [Goods(products[group["lines"][0]["product_id"]].vendor,
                   [(products[line["product_id"]], line["quantity"], line["line_total"]) for line in group["lines"]])
             for group in view["groups"]]
    landed = cost(session, user, data["shipping_address"], parts, currency, table, data.get("shipping"))
    vendor_orders = []
    for group, parcel in zip(view["groups"], landed.parcels):
        duty = parcel.duty
        vendor_orders.append({
            "vendor_id": parcel.vendor.id, "vendor": group["vendor"], "goods": parcel.goods,
            "shipping": parcel.shipping, "shipping_service": parcel.option["service"],
            "delivery": {"min_days": parcel.option["min_days"], "max_days": parcel.option["max_days"]},
            "shipping_options": parcel.options,
            "duties_and_taxes": [{"kind": c.kind, "base": c.base, "rate": c.rate, "amount": c.amount,
                                  "deduction": c.deduction, "rule": duty.rule.reference}
                                 for c in duty.charges] if duty is not None else [],
            "incoterm": duty.incoterm if duty is not None else None,
            "duties_collected": parcel.collected,
            "duties_estimate": duty.total if duty is not None and not duty.collected else None,
            "customs_value": duty.customs_value if duty is not None else None,
            "total": parcel.total,
        })
    return {"currency": currency, "shipping_country": data["shipping_address"]["country"],
            "vendor_orders": vendor_orders, "total": landed.total(currency)}


def cbec_quota(session: Session, user: User, year: int) -> dict[str, Any]:
    """What the caller's customs identity may still import to China in `year` under the rule in force now:
    the annual limit, what its orders here have counted (whichever account placed them), what is left."""
    rule = duty_rules.rule_for("CN", now().date())
    currency = rule.params["currency"]
    identity = customs.identity_of(session, user.id)
    if identity is None:
        raise Invalid(CheckoutErrorCode.CUSTOMS_IDENTITY_REQUIRED,
                      _("Declare your customs identity first: PUT /api/v1/me/customs-identity."),
                      field="customs_identity")
    limit = Money(rule.decimal("annual_limit"), currency)
    used = annual_used(session, identity.id_number_digest, currency, year)
    remaining = limit - used if limit > used else Money.zero(currency)
    return {"year": year, "limit": limit, "used": used, "remaining": remaining, "rule": rule.reference}
