"""Builders for valid objects in one line (through services or the HTTP API)."""
from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from stdnum import luhn
from stdnum.br import cnpj
from stdnum.cn import uscc
from stdnum.ru import inn

from marketplace.accounts import services as accounts
from marketplace.kernel.extensions import db
from marketplace.kernel.i18n import COUNTRY_CODES
from marketplace.rates import feeds
from marketplace.rates import services as rates

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)

PHONES = {
    "BR": "+55 11 91234-5678", "RU": "+7 495 123-45-67", "IN": "+91 98765 43210", "CN": "+86 138 0013 8000",
    "ZA": "+27 21 123 4567", "EG": "+20 100 123 4567", "ET": "+251 91 123 4567", "IR": "+98 912 345 6789",
    "AE": "+971 50 123 4567", "ID": "+62 812 3456 7890",
}
CURRENCIES = {"BR": "BRL", "RU": "RUB", "IN": "INR", "CN": "CNY", "ZA": "ZAR", "EG": "EGP", "ET": "ETB",
              "IR": "IRR", "AE": "AED", "ID": "IDR"}


def tax_id(country: str, n: int | None = None) -> str:
    """A valid, unique tax ID for `country` (check digits from python-stdnum)."""
    n = next(_counter) if n is None else n
    if country == "BR":
        base = f"{n:08d}0001"
        return base + cnpj.calc_check_digits(base)
    if country == "RU":
        base = f"77{n:07d}"
        return base + inn.calc_company_check_digit(base)
    if country == "IN":
        letters = "".join("ABCDEFGHJKLMNPQRSTUVWXYZ"[(n // 24 ** i) % 24] for i in range(3))
        return f"{letters}FA{n % 10000:04d}Z"  # a firm's PAN (PAN has no check digit)
    if country == "CN":
        base = f"91110000{n:09d}"
        return base + uscc.calc_check_digit(base)
    if country == "ZA":
        base = f"0{n:08d}"
        return base + luhn.calc_check_digit(base)
    if country == "AE":
        return f"100{n:012d}"
    if country == "ET":
        return f"{n:010d}"
    if country == "IR":
        return f"41{n:010d}"
    raise ValueError(f"no test tax ID generator for {country}")


def disclosures(country: str = "IN") -> dict[str, Any]:
    """Complete seller disclosures (address, customer care, grievance officer, return policy) for `country`."""
    return {
        "address": {"line1": "12 Market Road", "city": "Capital City", "postal_code": "10001", "country": country},
        "customer_care": {"email": "care@example.com", "phone": PHONES[country]},
        "grievance_officer": {"name": "Grievance Officer", "email": "grievance@example.com"},
        "return_policy": {"window_days": 14},
    }


def vendor_payload(country: str = "IN", **overrides: Any) -> dict[str, Any]:
    currency = CURRENCIES[country]
    payload: dict[str, Any] = {
        "legal_name": f"Test Enterprise {country} {next(_counter)}",
        "display_name": f"Test {country}",
        "country": country,
        "tax_id": tax_id(country),
        "contact_email": "sales@example.com",
        "phone": PHONES[country],
        "sector": "manufacturing",
        "employees": 12,
        "annual_turnover": {"amount": "5000000.00" if currency != "IRR" else "5000000", "currency": currency},
    }
    if country == "IN":
        payload["investment"] = {"amount": "1000000.00", "currency": "INR"}
    payload.update(disclosures(country))
    payload.update(overrides)
    return payload


def worldwide_shipping(vendor: dict[str, Any]) -> list[dict[str, Any]]:
    """A shipping profile's zones covering every country, one free standard service (in the vendor's currency)."""
    countries = sorted(COUNTRY_CODES)
    rate = {"service": "standard", "price": {"amount": "0", "currency": vendor["currency"]}, "min_days": 5,
            "max_days": 12}
    return [{"countries": countries[i:i + 60], "rates": [rate]} for i in range(0, len(countries), 60)]


class Factory:
    def __init__(self, app, client) -> None:
        self.app, self.client = app, client

    def user(self, role: str = "shopper", email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        email = email or f"{role}{next(_counter)}@example.com"
        with self.app.app_context():
            user = accounts.create_user(db.session, email, password, role)
            token, _ttl = accounts.issue_token(db.session, user, timedelta(hours=1))
            info = {"id": user.id, "email": email, "password": password, "role": role, "token": token,
                    "headers": {"Authorization": f"Bearer {token}"}}
            db.session.remove()
        return info

    def rates(self) -> None:
        """Load the bundled ECB, CBR and manual snapshots, as seed-demo does."""
        with self.app.app_context():
            for source, name in (("ecb", "ecb-eurofxref-daily.xml"), ("cbr", "cbr-XML_daily.xml"),
                                 ("manual", "manual.json")):
                rates.store_quotes(db.session, feeds.parse(source, feeds.snapshot_path(name).read_bytes()))
            db.session.remove()

    def vendor(self, country: str = "IN", approved: bool = True, owner: dict | None = None, shipping: bool = True,
               **overrides: Any) -> dict[str, Any]:
        """A vendor created through the API (and approved by an admin unless approved=False), shipping free
        everywhere unless shipping=False (its tests set their own rates)."""
        owner = owner or self.user("vendor")
        response = self.client.post("/api/v1/vendors", json=vendor_payload(country, **overrides),
                                    headers=owner["headers"])
        assert response.status_code == 201, response.get_json()
        vendor = response.get_json()
        if approved:
            admin = self.user("admin")
            response = self.client.post(f"/api/v1/vendors/{vendor['id']}/approve", json={}, headers=admin["headers"])
            assert response.status_code == 200, response.get_json()
            vendor = response.get_json()
        vendor["owner"] = owner
        if shipping:
            response = self.client.put("/api/v1/vendor/shipping-profile", json={"zones": worldwide_shipping(vendor)},
                                       headers=owner["headers"])
            assert response.status_code == 200, response.get_json()
        return vendor

    def partner(self, name: str | None = None, scopes: list[str] | None = None,
                vendors: tuple[dict, ...] | list[dict] = ()) -> dict[str, Any]:
        """A partner with an API key (all scopes unless `scopes`), authorized through the API by each of
        `vendors` (dicts from `vendor()`). Gives {"id", "name", "key", "headers"}."""
        from marketplace.partners import keys as partners

        with self.app.app_context():
            partner, key = partners.create_partner(db.session, name or f"Partner {next(_counter)}", scopes)
            info = {"id": partner.id, "name": partner.name, "key": key,
                    "headers": {"Authorization": f"Bearer {key}"}}
            db.session.remove()
        for vendor in vendors:
            response = self.client.post(f"/api/v1/vendors/{vendor['id']}/partners", json={"partner_id": info["id"]},
                                        headers=vendor["owner"]["headers"])
            assert response.status_code in (200, 201), response.get_json()
        return info
