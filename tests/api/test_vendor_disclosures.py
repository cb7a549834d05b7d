"""Seller disclosures through the HTTP API: set on create and update, validated field by field, shown publicly
on the vendor, required before approval (existing vendors keep their status and see what is missing), and the
return window helper."""
from __future__ import annotations

import pytest

from marketplace.kernel.extensions import db
from tests.api.test_products import assert_problem
from tests.factories import disclosures, vendor_payload
from vendors.models import Vendor
from vendors.services import return_window_days

VENDORS = "/api/v1/vendors"
ALL_MISSING = ["address", "customer_care", "grievance_officer"]


def without_disclosures(country: str = "IN", **overrides) -> dict:
    payload = vendor_payload(country, **overrides)
    for part in ("address", "customer_care", "grievance_officer", "return_policy"):
        payload.pop(part)
    return payload


def create(client, make, payload: dict) -> dict:
    owner = make.user("vendor")
    response = client.post(VENDORS, json=payload, headers=owner["headers"])
    assert response.status_code == 201, response.get_json()
    return {**response.get_json(), "owner": owner}


def test_disclosures_are_public_on_the_vendor_with_phones_normalized(client, make):
    vendor = make.vendor("IN", address={"line1": "14 Lal Chowk", "line2": "Near the clock tower", "city": "Srinagar",
                                        "region": "Jammu and Kashmir", "postal_code": "190001", "country": "IN"},
                         customer_care={"email": "care@zafran.example", "phone": "098765 43210"},
                         grievance_officer={"name": "Asha Rao", "email": "grievance@zafran.example",
                                            "phone": "+91 98765 43211"},
                         return_policy={"window_days": 10, "conditions": {"en": "Unworn, with tags.",
                                                                         "hi": "बिना पहने, टैग के साथ।"}})

    body = client.get(f"{VENDORS}/{vendor['id']}").get_json()   # anyone, no token

    assert body["address"] == {"line1": "14 Lal Chowk", "line2": "Near the clock tower", "city": "Srinagar",
                               "region": "Jammu and Kashmir", "postal_code": "190001", "country": "IN"}
    assert body["customer_care"] == {"email": "care@zafran.example", "phone": "+919876543210"}
    assert body["grievance_officer"] == {"name": "Asha Rao", "email": "grievance@zafran.example",
                                         "phone": "+919876543211"}
    assert body["return_policy"] == {"window_days": 10, "conditions": {"en": "Unworn, with tags.",
                                                                       "hi": "बिना पहने, टैग के साथ।"}}
    assert "disclosures_missing" not in body and "tax_id" not in body


def test_the_return_window_defaults_to_14_days(app, client, make):
    vendor = make.vendor("BR", return_policy={})
    body = client.get(f"{VENDORS}/{vendor['id']}").get_json()
    assert body["return_policy"] == {"window_days": 14, "conditions": {}}
    bare = create(client, make, without_disclosures("ZA"))
    custom = make.vendor("CN", return_policy={"window_days": 30})
    with app.app_context():
        assert return_window_days(db.session.get(Vendor, vendor["id"])) == 14
        assert return_window_days(db.session.get(Vendor, bare["id"])) == 14
        assert return_window_days(db.session.get(Vendor, custom["id"])) == 30


def test_a_vendor_without_disclosures_cannot_be_approved_until_it_completes_them(client, make):
    vendor = create(client, make, without_disclosures("IN"))
    assert vendor["disclosures_missing"] == ALL_MISSING and vendor["address"] is None
    admin = make.user("admin")

    body = assert_problem(client.post(f"{VENDORS}/{vendor['id']}/approve", json={}, headers=admin["headers"]),
                          409, "disclosures_missing")
    assert body["disclosures_missing"] == ALL_MISSING and set(body["errors"]) == set(ALL_MISSING)
    mine = client.get(f"{VENDORS}/{vendor['id']}", headers=vendor["owner"]["headers"]).get_json()
    assert mine["status"] == "pending_review" and mine["disclosures_missing"] == ALL_MISSING

    parts = disclosures("IN")
    response = client.patch(f"{VENDORS}/{vendor['id']}", json={"address": parts["address"]},
                            headers=vendor["owner"]["headers"])
    assert response.status_code == 200 and response.get_json()["disclosures_missing"] == ["customer_care",
                                                                                         "grievance_officer"]
    body = assert_problem(client.post(f"{VENDORS}/{vendor['id']}/approve", json={}, headers=admin["headers"]),
                          409, "disclosures_missing")
    assert body["disclosures_missing"] == ["customer_care", "grievance_officer"]

    response = client.patch(f"{VENDORS}/{vendor['id']}", json={"customer_care": parts["customer_care"],
                                                               "grievance_officer": parts["grievance_officer"]},
                            headers=vendor["owner"]["headers"])
    assert response.get_json()["disclosures_missing"] == []
    approved = client.post(f"{VENDORS}/{vendor['id']}/approve", json={}, headers=admin["headers"])
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"


def test_an_existing_approved_vendor_keeps_its_status_and_is_asked_to_complete(app, client, make):
    vendor = make.vendor("BR")
    with app.app_context():   # a vendor approved before disclosures existed
        row = db.session.get(Vendor, vendor["id"])
        row.address = row.customer_care = row.grievance_officer = row.return_policy = None
        db.session.commit()
        db.session.remove()

    public = client.get(f"{VENDORS}/{vendor['id']}").get_json()
    assert public["status"] == "approved" and public["address"] is None
    mine = client.get(f"{VENDORS}/{vendor['id']}", headers=vendor["owner"]["headers"]).get_json()
    assert mine["status"] == "approved" and mine["disclosures_missing"] == ALL_MISSING
    completed = client.patch(f"{VENDORS}/{vendor['id']}", json=disclosures("BR"), headers=vendor["owner"]["headers"])
    assert completed.get_json()["disclosures_missing"] == [] and completed.get_json()["status"] == "approved"


def test_a_part_sent_again_replaces_the_old_one_whole(client, make):
    vendor = make.vendor("IN")
    response = client.patch(f"{VENDORS}/{vendor['id']}", json={"customer_care": {"email": "new@example.com"}},
                            headers=vendor["owner"]["headers"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["customer_care"] == {"email": "new@example.com"}
    assert response.get_json()["address"] == disclosures("IN")["address"]


@pytest.mark.parametrize("change, field", [
    ({"address": {"line1": "x", "city": "y", "country": "IN"}}, "address.postal_code"),
    ({"address": {"line1": "x", "city": "y", "postal_code": "1", "country": "IN"}}, "address.postal_code"),
    ({"address": {"line1": "x", "city": "y", "postal_code": "190001", "country": "XX"}}, "address.country"),
    ({"address": {"line1": "", "city": "y", "postal_code": "190001", "country": "IN"}}, "address.line1"),
    ({"address": {"line1": "x", "city": "y", "postal_code": "190001", "country": "IN", "floor": 3}}, "address.floor"),
    ({"customer_care": {"phone": "+91 98765 43210"}}, "customer_care.email"),
    ({"customer_care": {"email": "not-an-email"}}, "customer_care.email"),
    ({"customer_care": {"email": "a@example.com", "phone": "12345"}}, "customer_care.phone"),
    ({"grievance_officer": {"email": "g@example.com"}}, "grievance_officer.name"),
    ({"grievance_officer": {"name": "G", "email": "g@example.com", "phone": "+91 1"}}, "grievance_officer.phone"),
    ({"return_policy": {"window_days": 0}}, "return_policy.window_days"),
    ({"return_policy": {"window_days": 366}}, "return_policy.window_days"),
    ({"return_policy": {"window_days": "14"}}, "return_policy.window_days"),
    ({"return_policy": {"conditions": {"fr": "Non"}}}, "return_policy.conditions.fr.key"),
    ({"return_policy": {"days": 7}}, "return_policy.days"),
    ({"address": None}, "address"),
])
def test_bad_disclosures_are_refused_naming_the_field(client, make, change, field):
    vendor = make.vendor("IN")
    response = client.patch(f"{VENDORS}/{vendor['id']}", json=change, headers=vendor["owner"]["headers"])
    assert_problem(response, 422, field=field)
    owner = make.user("vendor")
    assert_problem(client.post(VENDORS, json=vendor_payload("IN", **change), headers=owner["headers"]),
                   422, field=field)
    assert client.get(f"{VENDORS}/{vendor['id']}").get_json()["address"] == disclosures("IN")["address"]


def test_only_the_owner_changes_the_disclosures(client, make):
    vendor = make.vendor("IN")
    other = make.vendor("BR")
    response = client.patch(f"{VENDORS}/{vendor['id']}", json={"customer_care": {"email": "evil@example.com"}},
                            headers=other["owner"]["headers"])
    assert_problem(response, 403)
    assert client.get(f"{VENDORS}/{vendor['id']}").get_json()["customer_care"]["email"] == "care@example.com"
