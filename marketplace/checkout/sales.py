"""What checkout sold at a campaign's price: the source of campaign results (`promotions.report`)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.checkout.models import Order, OrderLine, OrderStatus, VendorOrder
from marketplace.kernel.money import Money
from promotions.report import CampaignSale

#: Orders whose campaign lines count as sold (paid, or refunded after being paid).
COUNTED = (OrderStatus.PAID, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


def campaign_sales(session: Session, campaign_id: int) -> list[CampaignSale]:
    """Every line sold at the campaign's price in a counted order. A vendor order's refunds are spread
    over what was paid for it (its lines, shipping and duties) pro rata: a line's share is its total's."""
    rows = session.execute(
        select(OrderLine.order_id, OrderLine.quantity, OrderLine.line_total_amount, OrderLine.list_price_amount,
               OrderLine.unit_price_amount, Order.currency, VendorOrder.vendor_id, VendorOrder.subtotal_amount,
               VendorOrder.refunded_amount, VendorOrder.shipping_amount, VendorOrder.duties_amount)
        .join(Order, Order.id == OrderLine.order_id)
        .join(VendorOrder, VendorOrder.id == OrderLine.vendor_order_id)
        .where(Order.status.in_(COUNTED), OrderLine.campaign_id == campaign_id)).all()
    sales = []
    for (order_id, quantity, line_total, list_price, unit_price, currency, vendor_id, subtotal,
         refunded_total, shipping, duties) in rows:
        paid = subtotal + (shipping or 0) + (duties or 0)
        refunded = (Money(line_total * min(refunded_total, paid) / paid, currency)
                    if paid and refunded_total else Money.zero(currency))
        sales.append(CampaignSale(order_id=order_id, vendor_id=vendor_id, quantity=quantity,
                                  gmv=Money(line_total, currency),
                                  discount=Money((list_price - unit_price) * quantity, currency),
                                  refunded=refunded))
    return sales
