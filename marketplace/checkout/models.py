from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import ExactDecimal, UtcDateTime
from marketplace.kernel.extensions import db
from marketplace.kernel.money import Money, sum_money


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class VendorOrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class Cart(db.Model):
    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now, onupdate=now)

    items: Mapped[list["CartItem"]] = relationship(back_populates="cart", cascade="all, delete-orphan",
                                                   order_by="CartItem.id")


class CartItem(db.Model):
    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("cart_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)

    cart: Mapped[Cart] = relationship(back_populates="items")


class Order(db.Model):
    """What the shopper bought, with every price and rate locked in at checkout."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True, default=OrderStatus.AWAITING_PAYMENT)
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    refunded_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4), default=Decimal(0))
    email: Mapped[str | None] = mapped_column(String(254))
    shipping_address: Mapped[dict] = mapped_column(JSON)
    #: Rates used: [{"from", "to", "rate", "source", "as_of"}], as strings.
    rates: Mapped[list] = mapped_column(JSON, default=list)
    payment_provider: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    reserved_until: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now, onupdate=now)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    vendor_orders: Mapped[list["VendorOrder"]] = relationship(back_populates="order", order_by="VendorOrder.id",
                                                              cascade="all, delete-orphan")
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                    cascade="all, delete-orphan")
    payment: Mapped["Payment | None"] = relationship(back_populates="order", uselist=False)
    refunds: Mapped[list["Refund"]] = relationship(back_populates="order", order_by="Refund.id")

    @property
    def total(self) -> Money:
        return Money(self.total_amount, self.currency)

    @property
    def goods(self) -> Money:
        return sum_money([v.subtotal for v in self.vendor_orders], self.currency)

    @property
    def shipping(self) -> Money:
        return sum_money([v.shipping for v in self.vendor_orders], self.currency)

    @property
    def duties_and_taxes(self) -> Money:
        return sum_money([v.duties_collected for v in self.vendor_orders], self.currency)

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_amount, self.currency)


class VendorOrder(db.Model):
    """One vendor's part of an order, with its money in the shopper's and the vendor's currency."""

    __tablename__ = "vendor_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=VendorOrderStatus.AWAITING_PAYMENT)
    subtotal_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))          # shopper's currency
    refunded_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4), default=Decimal(0))  # shopper's
    vendor_currency: Mapped[str] = mapped_column(String(3))
    vendor_subtotal_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))   # vendor's currency
    commission_rate: Mapped[Decimal] = mapped_column(ExactDecimal(6, 4))
    commission_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    net_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal(38, 18))                    # shopper -> vendor currency
    rate_source: Mapped[str] = mapped_column(String(32))
    rate_as_of: Mapped[str | None] = mapped_column(String(10))
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: An open dispute holds this vendor order's payout credit: `payouts.transfer_payouts` skips it until then.
    payout_held: Mapped[bool] = mapped_column(default=False, server_default=false())
    # -- landed cost, frozen at checkout (shopper's currency unless named otherwise) --
    shipping_service: Mapped[str | None] = mapped_column(String(32))
    shipping_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4), default=Decimal(0), server_default="0")
    vendor_shipping_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4), default=Decimal(0),
                                                            server_default="0")   # vendor's currency
    delivery_min_days: Mapped[int | None] = mapped_column(Integer)
    delivery_max_days: Mapped[int | None] = mapped_column(Integer)
    customs_value_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 4))
    #: The duties and import taxes quoted: [{kind, base, rate, deduction, amount}] (amounts as strings).
    duties: Mapped[list | None] = mapped_column(JSON)
    duties_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4), default=Decimal(0),
                                                   server_default="0")   # collected (DDP), in the total
    duties_estimate_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 4))  # DAP: shown, not charged
    incoterm: Mapped[str | None] = mapped_column(String(3))
    duty_rule: Mapped[dict | None] = mapped_column(JSON)   # {id, effective_from, source}
    #: China's retail imports: what this parcel counts towards the buyer's annual limit (RMB), and under whose
    #: identity (the keyed digest of the identity number, never the number).
    cbec_quota_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 4))
    customs_identity_digest: Mapped[str | None] = mapped_column(String(64), index=True)

    order: Mapped[Order] = relationship(back_populates="vendor_orders")
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="vendor_order", order_by="OrderLine.id")

    @property
    def subtotal(self) -> Money:
        return Money(self.subtotal_amount, self.order.currency)

    @property
    def paid_amount(self) -> Decimal:
        """What the shopper pays for this part (its share of the order total): goods + shipping + the duties
        and import taxes collected at checkout."""
        return self.subtotal_amount + (self.shipping_amount or 0) + (self.duties_amount or 0)

    @property
    def total(self) -> Money:
        return Money(self.paid_amount, self.order.currency)

    @property
    def shipping(self) -> Money:
        return Money(self.shipping_amount or 0, self.order.currency)

    @property
    def duties_collected(self) -> Money:
        return Money(self.duties_amount or 0, self.order.currency)

    @property
    def duties_estimate(self) -> Money | None:
        return (Money(self.duties_estimate_amount, self.order.currency)
                if self.duties_estimate_amount is not None else None)

    @property
    def customs_value(self) -> Money | None:
        return (Money(self.customs_value_amount, self.order.currency)
                if self.customs_value_amount is not None else None)

    @property
    def duties_and_taxes(self) -> list[dict]:
        """The quoted charges as Money, each with the rule it follows."""
        currency = self.order.currency
        return [{"kind": c["kind"], "base": Money(Decimal(c["base"]), currency), "rate": Decimal(c["rate"]),
                 "amount": Money(Decimal(c["amount"]), currency),
                 "deduction": Money(Decimal(c["deduction"]), currency) if c.get("deduction") else None,
                 "rule": self.duty_rule} for c in self.duties or ()]

    @property
    def delivery(self) -> dict | None:
        if self.delivery_min_days is None:
            return None
        return {"min_days": self.delivery_min_days, "max_days": self.delivery_max_days}

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_amount, self.order.currency)

    @property
    def vendor_subtotal(self) -> Money:
        return Money(self.vendor_subtotal_amount, self.vendor_currency)

    @property
    def commission(self) -> Money:
        return Money(self.commission_amount, self.vendor_currency)

    @property
    def net(self) -> Money:
        return Money(self.net_amount, self.vendor_currency)


class OrderLine(db.Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    vendor_order_id: Mapped[int] = mapped_column(ForeignKey("vendor_orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))    # shopper's currency, what was paid
    list_price_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))    # shopper's currency, before discount
    line_total_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    original_price_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))  # as the vendor listed it
    original_currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal(38, 18))                # original -> shopper currency
    rate_source: Mapped[str] = mapped_column(String(32))
    rate_as_of: Mapped[str | None] = mapped_column(String(10))
    campaign: Mapped[dict | None] = mapped_column(JSON)
    #: The campaign whose price the line got (also in `campaign`), indexed for the campaign's results.
    campaign_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Where the goods were made, as the product said at checkout (None on lines older than the column).
    origin_country: Mapped[str | None] = mapped_column(String(2))
    #: What the customs declaration needs, as the product said at checkout.
    hs_code: Mapped[str | None] = mapped_column(String(6))
    customs_description: Mapped[str | None] = mapped_column(String(200))
    weight_g: Mapped[int | None] = mapped_column(Integer)   # per unit

    order: Mapped[Order] = relationship(back_populates="lines")
    vendor_order: Mapped[VendorOrder] = relationship(back_populates="lines")

    @property
    def unit_price(self) -> Money:
        return Money(self.unit_price_amount, self.order.currency)

    @property
    def list_price(self) -> Money:
        return Money(self.list_price_amount, self.order.currency)

    @property
    def line_total(self) -> Money:
        return Money(self.line_total_amount, self.order.currency)

    @property
    def original_price(self) -> Money:
        return Money(self.original_price_amount, self.original_currency)


class Payment(db.Model):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(24))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    currency: Mapped[str] = mapped_column(String(3))
    client_secret: Mapped[str | None] = mapped_column(String(255))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now, onupdate=now)

    order: Mapped[Order] = relationship(back_populates="payment")

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class Refund(db.Model):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    vendor_order_id: Mapped[int | None] = mapped_column(ForeignKey("vendor_orders.id"))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(255), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    #: What the refund gives back of goods, shipping, and duties and taxes: {"goods", "shipping",
    #: "duties_and_taxes"} as decimal strings (None on refunds older than the column).
    parts: Mapped[dict | None] = mapped_column(JSON)

    order: Mapped[Order] = relationship(back_populates="refunds")

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def shown_parts(self) -> dict | None:
        if self.parts is None:
            return None
        return {name: Money(Decimal(value), self.currency) for name, value in self.parts.items()}


class PayoutEntry(db.Model):
    """The vendor payout ledger: credits for paid vendor orders, debits for refunds, in the vendor's currency."""

    __tablename__ = "payout_entries"
    __table_args__ = (UniqueConstraint("vendor_order_id", "kind", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    vendor_order_id: Mapped[int] = mapped_column(ForeignKey("vendor_orders.id"))
    kind: Mapped[str] = mapped_column(String(16))          # credit | refund
    reference: Mapped[str] = mapped_column(String(64))     # what caused it (the order, a refund id)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))   # signed
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))        # pending | transferred | settled_outside
    transfer_ref: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class ProcessedWebhookEvent(db.Model):
    """Provider events already applied: a redelivered event is recognised and skipped."""

    __tablename__ = "processed_webhook_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
