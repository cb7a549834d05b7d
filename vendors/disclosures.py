"""Seller disclosures: what consumer-protection rules require a marketplace to show of each seller.

India's Consumer Protection (E-Commerce) Rules, 2020 require a marketplace to show, for each seller, its
geographic address and customer care number (rule 5(3)(a)), and the seller to give it the name and contact
details of its grievance officer and its return, refund and exchange policy for display (rule 6). They are business contact
details made public on purpose: every vendor states them, and a vendor is approved only once it has.

- `address` {"line1", "line2"?, "city", "region"?, "postal_code", "country"}
- `customer_care` {"email", "phone"?}
- `grievance_officer` {"name", "email", "phone"?}
- `return_policy` {"window_days" (1..365, default 14), "conditions"?: {locale -> text}}; a vendor that never
  stated one has the default (14 days, no conditions), so it is never missing.

Phones are normalized to E.164 with `normalize_phone` (the address's country, else the vendor's, as the
region of national numbers). Each part is replaced whole when sent again.
"""
from __future__ import annotations

from typing import Any

from vendors.models import Vendor

#: The parts a vendor must state before it is approved, in the order they are reported.
REQUIRED = ("address", "customer_care", "grievance_officer")
PARTS = REQUIRED + ("return_policy",)
#: The return window when the vendor states none (days after delivery).
DEFAULT_RETURN_WINDOW_DAYS = 14


def missing_disclosures(vendor: Vendor) -> list[str]:
    """The required parts the vendor has not stated yet (empty when it may be approved)."""
    return [name for name in REQUIRED if not getattr(vendor, name)]


def return_policy(vendor: Vendor) -> dict[str, Any]:
    """The vendor's return policy as shown: the stated one, or the default."""
    stated = vendor.return_policy or {}
    return {"window_days": int(stated.get("window_days") or DEFAULT_RETURN_WINDOW_DAYS),
            "conditions": dict(stated.get("conditions") or {})}


def return_window_days(vendor: Vendor) -> int:
    """How many days after delivery a shopper may ask this vendor for a return (default 14)."""
    return return_policy(vendor)["window_days"]
