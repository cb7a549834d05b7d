"""Landed cost: what a cart costs delivered to an address, per vendor — the goods as the cart prices them
(campaign offers applied), the vendor's shipping to that country (`vendors.shipping`), and the destination's
duties and import taxes on the value actually paid (`marketplace.duties`) — all in the shopper's currency.

A vendor order to the vendor's own country is a domestic sale: no duties. A destination rule that collects
(DDP) adds its charges to the total; one that only estimates (DAP) shows them without adding them.
China's cross-border retail imports need the buyer's customs identity, whose name must be the payer's (the
shipping address's name), and count every parcel of the cart towards the per-transaction and annual limits.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.models import Product
from marketplace.accounts import customs
from marketplace.accounts.models import User
from marketplace.checkout import cart as carts
from marketplace.checkout.errors import CheckoutErrorCode
from marketplace.duties import calculation, rules as duty_rules
from marketplace.kernel.clock import now
from marketplace.kernel.errors import Conflict, Invalid
from marketplace.kernel.money import Money, sum_money
from marketplace.rates import services as rates
from marketplace.rates.conversion import RateTable
from vendors import shipping
from vendors.models import ShippingProfile

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


def _identity_check(session: Session, user: User, address: dict[str, Any]) -> str:
    """The digest the buyer's imports are counted under; 422 when there is no identity or it is not the
    payer's."""
    identity = customs.identity_of(session, user.id)
    if identity is None:
        raise Invalid(CheckoutErrorCode.CUSTOMS_IDENTITY_REQUIRED,
                      _("Imports to China need the buyer's customs identity: declare it at "
                        "PUT /api/v1/me/customs-identity."), field="customs_identity")
    if customs.normalize_name(customs.name_of(identity)) != customs.normalize_name(address["name"]):
        raise Invalid(CheckoutErrorCode.CUSTOMS_IDENTITY_MISMATCH,
                      _("The shipping address's name must be the name on the buyer's customs identity."),
                      field="shipping_address.name")
    return identity.id_number_digest


def quote(session: Session, user: User, data: dict[str, Any], locale: str,
          annual_used: Money | None = None) -> dict[str, Any]:
    """The landed cost of the caller's cart for checkout's body (`currency`, `shipping_address`, optional
    `shipping`: {vendor id: service}); raises what checkout would refuse. `annual_used`: what the buyer's
    customs identity already imported this year, for China's annual limit (RMB)."""
    currency, address = data["currency"], data["shipping_address"]
    country, region = address["country"], address.get("region")
    view = carts.view(session, user, currency, locale)
    _refuse_problems(view)
    table = rates.current_table(session)
    products, profiles = _products(session, view), _profiles(session, view)
    rule = duty_rules.rule_for(country, now().date())
    chosen_services = {str(k): v for k, v in (data.get("shipping") or {}).items()}
    if rule.kind in IDENTITY_RULES and any(g["vendor"]["country"] != country for g in view["groups"]):
        _identity_check(session, user, address)
    used = annual_used
    parts = []
    for group in view["groups"]:
        vendor_id = group["vendor"]["id"]
        vendor = products[group["lines"][0]["product_id"]].vendor
        weight = _weight(group["lines"], products)
        if weight is None:
            missing = next(line for line in group["lines"] if products[line["product_id"]].weight_g is None)
            raise Invalid(CheckoutErrorCode.WEIGHT_REQUIRED,
                          _("%(sku)s has no shipping weight yet; its vendor must add one.", sku=missing["sku"]),
                          field="cart", product_id=missing["product_id"])
        options = _options(profiles.get(vendor_id), country, weight, group["subtotal"], vendor.currency, currency,
                           table)
        if not options:
            raise Invalid(CheckoutErrorCode.SHIPPING_UNAVAILABLE,
                          _("%(vendor)s does not ship to %(country)s.", vendor=vendor.display_name, country=country),
                          field=f"shipping.{vendor_id}", vendor_id=vendor_id)
        wanted = chosen_services.pop(str(vendor_id), None)
        option = next((o for o in options if o["service"] == wanted), None) if wanted else options[0]
        if option is None:
            raise Invalid(CheckoutErrorCode.UNKNOWN_SHIPPING_SERVICE,
                          _("This vendor ships to %(country)s by: %(services)s.", country=country,
                            services=", ".join(o["service"] for o in options)),
                          field=f"shipping.{vendor_id}")
        duty = None
        if vendor.country != country:  # a domestic sale pays no import duties
            parcel = calculation.Parcel(country, region, tuple(
                calculation.Item(products[line["product_id"]].hs_code, line["line_total"], line["quantity"])
                for line in group["lines"]), option["price"])
            try:
                duty = calculation.quote(rule, parcel, table, used)
            except calculation.DutyError as refused:
                raise Invalid(refused.code, refused.message, field=refused.field, vendor_id=vendor_id,
                              **refused.extra) from None
            if duty.quota_value is not None:
                used = (used or Money.zero(duty.quota_value.currency)) + duty.quota_value
        collected = duty.total if duty is not None and duty.collected else Money.zero(currency)
        parts.append({
            "vendor_id": vendor_id, "vendor": group["vendor"], "goods": group["subtotal"],
            "shipping": option["price"], "shipping_service": option["service"],
            "delivery": {"min_days": option["min_days"], "max_days": option["max_days"]},
            "shipping_options": options,
            "duties_and_taxes": [{"kind": c.kind, "base": c.base, "rate": c.rate, "amount": c.amount,
                                  "deduction": c.deduction, "rule": duty.rule.reference}
                                 for c in duty.charges] if duty is not None else [],
            "incoterm": duty.incoterm if duty is not None else None,
            "duties_collected": collected,
            "duties_estimate": duty.total if duty is not None and not duty.collected else None,
            "customs_value": duty.customs_value if duty is not None else None,
            "total": group["subtotal"] + option["price"] + collected,
        })
    if chosen_services:
        stray = next(iter(chosen_services))
        raise Invalid(CheckoutErrorCode.UNKNOWN_SHIPPING_SERVICE, _("That vendor has nothing in your cart."),
                      field=f"shipping.{stray}")
    return {"currency": currency, "shipping_country": country, "vendor_orders": parts,
            "total": sum_money([p["total"] for p in parts], currency)}
