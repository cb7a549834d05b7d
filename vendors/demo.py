"""Seller disclosures of the demo vendors (one per founding member), as seed-demo states them."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from marketplace.kernel.money import Money

_ADDRESSES = {
    "BR": {"line1": "Rua Coronel Pedro Alves 120", "city": "Santo Antônio do Amparo", "region": "MG",
           "postal_code": "37262-000", "country": "BR"},
    "RU": {"line1": "ul. Kalinina 10", "city": "Pavlovsky Posad", "region": "Moscow Oblast",
           "postal_code": "142500", "country": "RU"},
    "IN": {"line1": "14 Lal Chowk", "line2": "Residency Road", "city": "Srinagar", "region": "Jammu and Kashmir",
           "postal_code": "190001", "country": "IN"},
    "CN": {"line1": "云南省普洱市思茅区振兴大道 88 号", "city": "Pu'er", "region": "Yunnan", "postal_code": "665000",
           "country": "CN"},
    "ZA": {"line1": "12 Voortrekker Road", "city": "Clanwilliam", "region": "Western Cape", "postal_code": "8135",
           "country": "ZA"},
}
#: The countries of the demo vendors.
DEMO_COUNTRIES = frozenset(_ADDRESSES)
_GRIEVANCE_OFFICERS = {"BR": "Mariana Costa", "RU": "Elena Smirnova", "IN": "Asha Rao", "CN": "Li Wei",
                       "ZA": "Thandiwe Nkosi"}
_CONDITIONS = {
    "en": "Unused goods in their original packaging; food, tea and cosmetics only if unopened.",
    "pt": "Produtos sem uso na embalagem original; alimentos, chá e cosméticos somente se fechados.",
}


def demo_disclosures(country: str, phone: str) -> dict[str, Any]:
    """Complete disclosures for the demo vendor of `country` (its business phone for customer care)."""
    code = country.lower()
    return {
        "address": dict(_ADDRESSES[country]),
        "customer_care": {"email": f"care-{code}@buybrics.example", "phone": phone},
        "grievance_officer": {"name": _GRIEVANCE_OFFICERS[country], "email": f"grievance-{code}@buybrics.example"},
        "return_policy": {"window_days": 30 if country == "IN" else 14, "conditions": dict(_CONDITIONS)},
    }


#: BRICS members the demo vendors ship to (the founding five and the members that joined since).
BRICS_MEMBERS = ("BR", "RU", "IN", "CN", "ZA", "EG", "ET", "IR", "AE", "ID")
#: Per demo vendor, in its currency: domestic standard; abroad standard, express (base + per kg) and the
#: goods value above which standard shipping abroad is free.
_RATES = {
    "BR": ("19.90", "89.00", ("120.00", "60.00"), "600.00"),
    "RU": ("390.00", "1900.00", ("2900.00", "900.00"), "15000.00"),
    "IN": ("99.00", "900.00", ("1200.00", "400.00"), "15000.00"),
    "CN": ("12.00", "60.00", ("120.00", "40.00"), "1200.00"),
    "ZA": ("99.00", "320.00", ("450.00", "150.00"), "3000.00"),
}


def demo_shipping(country: str, currency: str) -> list[dict[str, Any]]:
    """The demo vendor's shipping profile: a domestic zone, and one for the other BRICS members."""
    domestic, abroad, (base, per_kg), free_above = _RATES[country]

    def money(amount: str) -> Money:
        return Money(Decimal(amount), currency)

    return [
        {"countries": [country], "rates": [
            {"service": "standard", "price": money(domestic), "min_days": 2, "max_days": 5}]},
        {"countries": [c for c in BRICS_MEMBERS if c != country], "rates": [
            {"service": "standard", "price": money(abroad), "min_days": 10, "max_days": 25,
             "free_above": money(free_above)},
            {"service": "express", "base": money(base), "per_kg": money(per_kg), "min_days": 4, "max_days": 8}]},
    ]
