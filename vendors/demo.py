"""Seller disclosures of the demo vendors (one per founding member), as seed-demo states them."""
from __future__ import annotations

from typing import Any

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
