"""A campaign's results: orders, units, GMV, discount and refunds, per currency and converted, by origin
country and vendor, as JSON or CSV. Sales are checkout's to know: checkout registers a source of them on
the app (`register_sales_source`), and the report asks it, instead of promotions reaching up into orders."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.kernel.money import Money
from marketplace.rates.conversion import RateTable
from promotions.campaigns import find, require_manager
from vendors.models import Vendor

SALES_SOURCE = "promotions.campaign_sales"


@dataclass(frozen=True)
class CampaignSale:
    """One order line sold at a campaign's price, in a counted (paid or later) order."""

    order_id: int
    vendor_id: int
    quantity: int
    gmv: Money          # what the line charged (order currency)
    discount: Money     # (list price - unit price) x quantity
    refunded: Money     # the line's share of its vendor order's refunds


SalesSource = Callable[[Session, int], list[CampaignSale]]


def register_sales_source(app: Flask, source: SalesSource) -> None:
    app.extensions[SALES_SOURCE] = source


def campaign_sales(session: Session, campaign_id: int) -> list[CampaignSale]:
    return current_app.extensions[SALES_SOURCE](session, campaign_id)


def report(session: Session, user: User, campaign_id: int, currency: str, table: RateTable) -> dict[str, Any]:
    """Orders, units, GMV, discount given and refunds: per currency and in `currency`, by country and vendor.

    `gmv` is what paid orders charged for the campaign's lines; `refunded` is the part of it given back
    (a vendor order's refunds spread over its lines pro rata, rounded half up), `net_gmv` the rest."""
    require_manager(user)
    campaign = find(session, campaign_id)
    sales = campaign_sales(session, campaign.id)
    vendors = {v.id: v for v in session.scalars(select(Vendor).where(Vendor.id.in_({s.vendor_id for s in sales})))}
    zero = Money.zero(currency)

    def bucket(**keys: Any) -> dict[str, Any]:
        money = Money.zero(keys.get("currency", currency))
        return {**keys, "orders": set(), "units": 0, "gmv": money, "discount": money, "refunded": money,
                "net_gmv": money}

    totals = bucket()
    per_currency: dict[str, dict[str, Any]] = {}
    by_country: dict[str, dict[str, Any]] = {}
    by_vendor: dict[int, dict[str, Any]] = {}
    msme_gmv = zero
    for sale in sales:
        vendor = vendors[sale.vendor_id]
        vendor_id, vendor_name, country, msme_class = vendor.id, vendor.display_name, vendor.country, vendor.msme_class
        order_id, quantity, order_currency = sale.order_id, sale.quantity, sale.gmv.currency
        amounts = {"gmv": sale.gmv, "discount": sale.discount, "refunded": sale.refunded,
                   "net_gmv": sale.gmv - sale.refunded}
        converted = {name: table.convert(value, currency) for name, value in amounts.items()}
        slot = per_currency.setdefault(order_currency, bucket(currency=order_currency))
        for target in (totals, slot,
                       by_country.setdefault(country, bucket(origin_country=country)),
                       by_vendor.setdefault(vendor_id, bucket(vendor_id=vendor_id, vendor=vendor_name,
                                                              origin_country=country, msme_class=msme_class))):
            target["orders"].add(order_id)
            target["units"] += quantity
            for name, value in (amounts if target is slot else converted).items():
                target[name] = target[name] + value
        if msme_class in ("micro", "small", "medium"):
            msme_gmv = msme_gmv + converted["gmv"]

    def finish(bucket: dict[str, Any]) -> dict[str, Any]:
        return {**bucket, "orders": len(bucket["orders"])}

    share = (msme_gmv.amount / totals["gmv"].amount).quantize(Decimal("0.0001")) if totals["gmv"].amount else None
    return {
        "campaign": {"id": campaign.id, "slug": campaign.slug, "status": campaign.status()},
        "currency": currency,
        "totals": finish(totals),
        "per_currency": [finish(b) for b in per_currency.values()],
        "by_origin_country": sorted((finish(b) for b in by_country.values()), key=lambda b: -b["gmv"].amount),
        "by_vendor": sorted((finish(b) for b in by_vendor.values()), key=lambda b: -b["gmv"].amount),
        "msme_share": share,
        "budget": campaign.budget, "budget_spent": campaign.spent,
    }


def report_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "orders", "units", "gmv", "discount", "currency", "refunded", "net_gmv"])

    def write(section: str, key: str, row: dict[str, Any], row_currency: str) -> None:
        writer.writerow([section, key, row["orders"], row["units"], row["gmv"].amount, row["discount"].amount,
                         row_currency, row["refunded"].amount, row["net_gmv"].amount])

    write("total", "", data["totals"], data["currency"])
    for row in data["per_currency"]:
        write("currency", row["currency"], row, row["currency"])
    for row in data["by_origin_country"]:
        write("origin_country", row["origin_country"], row, data["currency"])
    for row in data["by_vendor"]:
        write("vendor", f"{row['vendor_id']} {row['vendor']}", row, data["currency"])
    writer.writerow(["msme_share", "", "", "", data["msme_share"] if data["msme_share"] is not None else "", "", "",
                     "", ""])
    return out.getvalue()


def report_currency(requested: str | None) -> str:
    return requested or current_app.config["BASE_CURRENCY"]

