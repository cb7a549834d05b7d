"""A campaign's results. Sales are checkout's to know: checkout registers a source of them on the app
(`register_sales_source`), and the report asks it, instead of promotions reaching up into orders."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask, current_app
from sqlalchemy.orm import Session

from marketplace.kernel.money import Money

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
