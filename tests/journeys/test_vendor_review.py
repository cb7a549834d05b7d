"""A vendor's identity stays reviewed, on the running system.

An approved MSME in an MSME-only festival grows into a large enterprise: its product leaves the
festival at once (price, campaign filter, a shopper's cart) and the vendor is told why. It then
changes its legal name and its payout account: it goes back to review (out of search meanwhile),
the reviewed payout account stays until an admin approves the change.
"""
from __future__ import annotations

import random
import string
from datetime import datetime, timedelta, timezone

import pytest

from tests.journeys.support import ok, product_body, unique


@pytest.fixture(scope="module")
def word():
    return "".join(random.choice(string.ascii_lowercase) for _ in range(9))


def test_a_vendor_that_grows_large_or_changes_its_identity_leaves_the_festival_and_goes_back_to_review(system,
                                                                                                         word):
    admin, manager = system.login("admin@buybrics.example"), system.login("manager@buybrics.example")
    email = f"{unique('grower')}@journey.example"
    vendor = system.register(email, "a-growing-business-passphrase", "vendor")
    profile = ok(vendor.post("/vendors", json={
        "legal_name": "Growing Looms LLP", "display_name": "Growing Looms", "country": "IN",
        "tax_id": "".join(random.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3)) + f"FA{random.randrange(10000):04d}Z",
        "contact_email": email, "phone": "+91 98765 43210", "sector": "manufacturing", "employees": 20,
        "annual_turnover": {"amount": "20000000.00", "currency": "INR"},
        "investment": {"amount": "5000000.00", "currency": "INR"},
        "stripe_account_id": "acct_reviewedOne",
        "address": {"line1": "3 Polo View", "city": "Srinagar", "postal_code": "190001", "country": "IN"},
        "customer_care": {"email": email}, "grievance_officer": {"name": "Mir Farooq", "email": email}}), 201)
    assert profile["msme_class"] in ("micro", "small")
    ok(admin.post(f"/vendors/{profile['id']}/approve", json={}))
    product = ok(vendor.post("/products", json=product_body(
        translations={"en": {"title": f"{word.capitalize()} silk scarf"}}, category="shawls-scarves",
        hs_code="621410", price={"amount": "1500.00", "currency": "INR"})), 201)

    now = datetime.now(timezone.utc).replace(microsecond=0)
    slug = unique("msme-only")
    campaign = ok(manager.post("/campaigns", json={
        "slug": slug, "name": {"en": "MSME week"}, "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(), "discount": {"type": "percent", "value": "10"},
        "eligibility": {"origin_countries": [], "categories": [], "msme_classes": ["micro", "small", "medium"]}}),
        201)
    ok(manager.post(f"/campaigns/{campaign['id']}/launch"))
    enrolled = ok(vendor.post(f"/campaigns/{campaign['id']}/enrollments", json={"product_ids": [product["id"]]}))
    assert [r["status"] for r in enrolled["results"]] == ["enrolled"]
    shopper = system.new_shopper()
    ok(shopper.post("/cart/items", json={"product_id": product["id"], "quantity": 1}), 201)
    params = {"campaign": slug, "currency": "INR"}
    assert [p["id"] for p in ok(shopper.get("/search", params=params))["items"]] == [product["id"]]
    assert ok(shopper.get("/cart", params={"currency": "INR"}))["total"]["amount"] == "1350.00"

    # 1. it grows large: the MSME-only festival price goes, everywhere, at once
    grown = ok(vendor.patch(f"/vendors/{profile['id']}", json={
        "employees": 900, "annual_turnover": {"amount": "9000000000.00", "currency": "INR"},
        "investment": {"amount": "2000000000.00", "currency": "INR"}}))
    assert grown["msme_class"] == "large"
    assert ok(shopper.get("/search", params=params))["items"] == []
    page = ok(shopper.get(f"/products/{product['id']}", params={"currency": "INR"}))
    assert page["price"]["amount"] == "1500.00" and page["campaign"] is None
    assert ok(shopper.get("/cart", params={"currency": "INR"}))["total"]["amount"] == "1500.00"
    mine = ok(vendor.get(f"/campaigns/{campaign['id']}/enrollments"))["items"]
    assert [e["status"] for e in mine if e["product_id"] == product["id"]] != ["enrolled"], mine
    assert all(e.get("reason") for e in mine if e["product_id"] == product["id"]), mine  # told why

    # 2. it changes its legal name and payout account: back to review, out of search, old account kept
    changed = ok(vendor.patch(f"/vendors/{profile['id']}", json={"legal_name": "Grown Looms Private Limited",
                                                                 "stripe_account_id": "acct_unreviewedTwo"}))
    assert changed["status"] == "pending_review", changed
    assert changed["stripe_account_id"] == "acct_reviewedOne"
    assert product["id"] not in [p["id"] for p in ok(system.client().get("/search", params={"q": word}))["items"]]
    history = ok(vendor.get(f"/vendors/{profile['id']}/history"))["items"]
    assert (history[-1]["from_status"], history[-1]["to_status"]) == ("approved", "pending_review")

    # an admin reviews it: approved again, with the new account, and back in search
    approved = ok(admin.post(f"/vendors/{profile['id']}/approve", json={"reason": "New deed checked"}))
    assert approved["status"] == "approved" and approved["stripe_account_id"] == "acct_unreviewedTwo"
    assert product["id"] in [p["id"] for p in ok(system.client().get("/search", params={"q": word}))["items"]]
