"""A vendor's shipping profile: the destination countries it ships to, grouped in zones, and each zone's
services with their rate — a flat `price`, or `base` + `per_kg` of the parcel's weight — delivery estimate
and optional free-shipping threshold, all in the vendor's currency.

A vendor without a zone for a country cannot sell there. `options_for` lists what a parcel costs to a
country (pure: plain values in, `ShippingOption`s out); the parcel's weight is its exact weight in kilograms
(no rounding up to whole kilograms), and the price is rounded by the money rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.kernel.errors import Invalid, NotFound
from marketplace.kernel.money import Money
from vendors.errors import VendorErrorCode
from vendors.models import ShippingProfile, Vendor
from vendors.services import caller_vendor, find_vendor

MAX_ZONES = 20
MAX_RATES = 6


@dataclass(frozen=True)
class ShippingOption:
    service: str
    price: Money          # in the vendor's currency
    min_days: int
    max_days: int
    free: bool            # the free-shipping threshold was reached


def _money(raw: dict[str, str]) -> Money:
    return Money(Decimal(raw["amount"]), raw["currency"])


def _stored(money: Money) -> dict[str, str]:
    return {"amount": str(money.amount), "currency": money.currency}


def _problem(field: str, message: str) -> Invalid:
    return Invalid(VendorErrorCode.INVALID_SHIPPING_PROFILE, message, field=field)


def _check(vendor: Vendor, zones: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The zones as stored; 422 naming the field for what the schema cannot see (a country in two zones, a
    service twice in a zone, a rate in another currency, a rate with both or neither kind of price)."""
    seen: dict[str, int] = {}
    stored = []
    for z, zone in enumerate(zones):
        for c, country in enumerate(zone["countries"]):
            if country in seen:
                raise _problem(f"zones.{z}.countries.{c}",
                               _("%(country)s is already in zone %(zone)s.", country=country, zone=seen[country]))
            seen[country] = z
        services = set()
        rates = []
        for r, rate in enumerate(zone["rates"]):
            where = f"zones.{z}.rates.{r}"
            if rate["service"] in services:
                raise _problem(f"{where}.service", _("Each service appears once in a zone."))
            services.add(rate["service"])
            flat, weighted = "price" in rate, ("per_kg" in rate or "base" in rate)
            if flat == weighted or (weighted and not ("per_kg" in rate and "base" in rate)):
                raise _problem(where, _("A rate has either a price, or a base and a per_kg price."))
            for name in ("price", "per_kg", "base", "free_above"):
                if name in rate and rate[name].currency != vendor.currency:
                    raise _problem(f"{where}.{name}.currency",
                                   _("Shipping rates are in your currency (%(currency)s).", currency=vendor.currency))
            if rate["max_days"] < rate["min_days"]:
                raise _problem(f"{where}.max_days", _("max_days cannot be less than min_days."))
            rates.append({**{k: v for k, v in rate.items() if not isinstance(v, Money)},
                          **{k: _stored(v) for k, v in rate.items() if isinstance(v, Money)}})
        stored.append({"countries": list(zone["countries"]), "rates": rates})
    return stored


def set_profile(session: Session, user: User, zones: list[dict[str, Any]]) -> ShippingProfile:
    vendor = caller_vendor(session, user)
    profile = session.get(ShippingProfile, vendor.id) or ShippingProfile(vendor_id=vendor.id)
    profile.zones = _check(vendor, zones)
    session.add(profile)
    session.commit()
    return profile


def my_profile(session: Session, user: User) -> ShippingProfile:
    return profile_of(session, caller_vendor(session, user).id)


def public_profile(session: Session, vendor_id: int) -> ShippingProfile:
    vendor = find_vendor(session, vendor_id)
    if not vendor.is_public:
        raise NotFound(VendorErrorCode.NOT_FOUND, _("No such vendor."))
    return profile_of(session, vendor.id)


def profile_of(session: Session, vendor_id: int) -> ShippingProfile:
    profile = session.get(ShippingProfile, vendor_id)
    if profile is None:
        raise NotFound(VendorErrorCode.NOT_FOUND, _("This vendor has no shipping profile yet."))
    return profile


def shown(profile: ShippingProfile) -> dict[str, Any]:
    """The profile with its amounts as Money (for the response schema)."""
    return {"vendor_id": profile.vendor_id, "updated_at": profile.updated_at, "zones": [
        {"countries": zone["countries"], "rates": [
            {k: (_money(v) if isinstance(v, dict) else v) for k, v in rate.items()} for rate in zone["rates"]]}
        for zone in profile.zones]}


def options_for(zones: list[dict[str, Any]] | None, country: str, weight_g: int, goods: Money) -> list[ShippingOption]:
    """What a parcel of `weight_g` grams and `goods` value (the vendor's currency) costs to ship to `country`,
    cheapest first; empty when no zone covers the country (the vendor does not sell there)."""
    zone = next((z for z in zones or () if country in z["countries"]), None)
    if zone is None:
        return []
    options = []
    for rate in zone["rates"]:
        if "price" in rate:
            price = _money(rate["price"])
        else:
            price = _money(rate["base"]) + _money(rate["per_kg"]) * (Decimal(weight_g) / 1000)
        free = "free_above" in rate and goods >= _money(rate["free_above"])
        options.append(ShippingOption(rate["service"], Money.zero(price.currency) if free else price,
                                      rate["min_days"], rate["max_days"], free))
    return sorted(options, key=lambda o: (o.price.amount, o.max_days, o.service))
