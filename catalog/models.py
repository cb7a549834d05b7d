from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.kernel.clock import now
from marketplace.kernel.db_types import ExactDecimal, UtcDateTime
from marketplace.kernel.extensions import db
from marketplace.kernel.money import Money
from vendors.models import Vendor, VendorStatus


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Category(db.Model):
    """The category tree; rows are seeded by a migration, names translated per locale."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    position: Mapped[int] = mapped_column(default=0)
    names: Mapped[dict] = mapped_column(JSON)

    parent: Mapped["Category | None"] = relationship(remote_side="Category.id", back_populates="children")
    children: Mapped[list["Category"]] = relationship(back_populates="parent", order_by="Category.position")

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("en") or self.slug

    @property
    def path(self) -> list[str]:
        """Slugs from the root down to this category."""
        node, slugs = self, []
        while node is not None:
            slugs.append(node.slug)
            node = node.parent
        return slugs[::-1]


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("vendor_id", "sku"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    translations: Mapped[dict] = mapped_column(JSON)
    original_locale: Mapped[str] = mapped_column(String(5))
    price_amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 4))
    price_currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer, default=0)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    hs_code: Mapped[str] = mapped_column(String(6))
    #: Where the goods were made (a BRICS member's ISO code); the vendor's country unless it says otherwise.
    #: Nullable in the database only so the column could be added without rebuilding the table.
    origin_country: Mapped[str] = mapped_column(String(2), nullable=True)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    images: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=ProductStatus.DRAFT, index=True)
    #: Bumped on every change; search engines never let an older version overwrite a newer one.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=now, index=True)
    #: Published reviews' average rating, rounded half up to one decimal (None while there is none), and
    #: their count; set only by `services.set_rating`.
    rating_average: Mapped[Decimal | None] = mapped_column(ExactDecimal(3, 1))
    rating_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: What shipping and customs need: the weight in grams (a product without one cannot be shipped), the
    #: packed dimensions in millimetres (optional), and a plain description fit for a customs declaration.
    weight_g: Mapped[int | None] = mapped_column(Integer)
    length_mm: Mapped[int | None] = mapped_column(Integer)
    width_mm: Mapped[int | None] = mapped_column(Integer)
    height_mm: Mapped[int | None] = mapped_column(Integer)
    customs_description: Mapped[str | None] = mapped_column(String(200))

    vendor: Mapped[Vendor] = relationship()
    category: Mapped[Category] = relationship()

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.price_currency)

    @price.setter
    def price(self, money: Money) -> None:
        self.price_amount, self.price_currency = money.amount, money.currency

    @property
    def is_public(self) -> bool:
        return self.status == ProductStatus.ACTIVE and self.vendor.status == VendorStatus.APPROVED

    def text(self, locale: str) -> tuple[str, dict]:
        """(served locale, {title, description}): the asked locale, else the original."""
        if locale in self.translations:
            return locale, self.translations[locale]
        return self.original_locale, self.translations[self.original_locale]
