"""A shopper's customs identity (sealed, masked) and a vendor's shipping profile, through the HTTP API."""
from __future__ import annotations

from sqlalchemy import text

from marketplace.kernel.extensions import db
from tests.api.test_accounts import assert_problem

IDENTITY = "/api/v1/me/customs-identity"
PROFILE = "/api/v1/vendor/shipping-profile"
VALID_RIC = "11010519491231002X"  # a well-formed PRC resident identity number (check digit X)


def money(amount: str, currency: str = "INR") -> dict:
    return {"amount": amount, "currency": currency}


# -- customs identity ----------------------------------------------------------------------------------

def test_a_shopper_declares_a_customs_identity_kept_sealed_and_shown_masked(app, client, make):
    shopper = make.user()
    assert client.get(IDENTITY, headers=shopper["headers"]).status_code == 404

    saved = client.put(IDENTITY, json={"name": "Zhang Wei", "id_number": VALID_RIC}, headers=shopper["headers"])
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert body["name"] == "Zhang Wei" and body["country"] == "CN"
    assert body["id_number"] == "110*************2X" and VALID_RIC not in saved.get_data(as_text=True)
    assert client.get(IDENTITY, headers=shopper["headers"]).get_json() == body

    with app.app_context():  # at rest: neither the name nor the number in the clear
        row = db.session.execute(text("SELECT * FROM customs_identities")).mappings().one()
        db.session.remove()
    assert VALID_RIC not in str(dict(row)) and "Zhang Wei" not in str(dict(row))

    other = make.user()  # nobody else sees it
    assert client.get(IDENTITY, headers=other["headers"]).status_code == 404
    assert client.delete(IDENTITY, headers=shopper["headers"]).status_code == 204
    assert client.get(IDENTITY, headers=shopper["headers"]).status_code == 404


def test_an_invalid_identity_number_is_refused_naming_the_field(client, make):
    shopper = make.user()
    for number in ("110105194912310021", "12345", "11010519491331002X"):  # bad check digit, short, bad date
        response = client.put(IDENTITY, json={"name": "Zhang Wei", "id_number": number},
                              headers=shopper["headers"])
        assert_problem(response, 422, "invalid_identity_number", field="id_number")
        assert number not in response.get_data(as_text=True)
    unknown = client.put(IDENTITY, json={"name": "Zhang Wei", "id_number": VALID_RIC, "passport": "x"},
                         headers=shopper["headers"])
    assert unknown.status_code == 422
    assert client.put(IDENTITY, json={"name": "Zhang Wei", "id_number": VALID_RIC}).status_code == 401


# -- shipping profile ----------------------------------------------------------------------------------

ZONES = [{"countries": ["BR", "CN"], "rates": [
    {"service": "standard", "price": money("900.00"), "min_days": 8, "max_days": 15, "free_above": money("20000.00")},
    {"service": "express", "base": money("1200.00"), "per_kg": money("400.00"), "min_days": 3, "max_days": 5}]},
    {"countries": ["ZA"], "rates": [{"service": "standard", "price": money("700.00"), "min_days": 6, "max_days": 12}]}]


def test_a_vendor_sets_its_shipping_profile_and_anyone_can_read_it(client, make):
    vendor = make.vendor("IN", shipping=False)
    owner = vendor["owner"]["headers"]
    assert client.get(PROFILE, headers=owner).status_code == 404

    saved = client.put(PROFILE, json={"zones": ZONES}, headers=owner)
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert body["vendor_id"] == vendor["id"] and [z["countries"] for z in body["zones"]] == [["BR", "CN"], ["ZA"]]
    express = body["zones"][0]["rates"][1]
    assert express["per_kg"]["amount"] == "400.00" and express["per_kg"]["formatted"]
    assert "price" not in express
    assert client.get(PROFILE, headers=owner).get_json() == body
    public = client.get(f"/api/v1/vendors/{vendor['id']}/shipping-profile")
    assert public.status_code == 200 and public.get_json()["zones"] == body["zones"]


def test_a_shipping_profile_is_checked_field_by_field(client, make):
    vendor = make.vendor("IN", shipping=False)
    owner = vendor["owner"]["headers"]
    rate = {"service": "standard", "price": money("900.00"), "min_days": 8, "max_days": 15}
    cases = [
        ([{"countries": ["BR"], "rates": [rate]}, {"countries": ["BR"], "rates": [rate]}], "zones.1.countries.0"),
        ([{"countries": ["BR"], "rates": [rate, rate]}], "zones.0.rates.1.service"),
        ([{"countries": ["BR"], "rates": [{**rate, "price": money("9.00", "USD")}]}], "zones.0.rates.0.price.currency"),
        ([{"countries": ["BR"], "rates": [{**rate, "base": money("1.00")}]}], "zones.0.rates.0"),
        ([{"countries": ["BR"], "rates": [{k: v for k, v in rate.items() if k != "price"}]}], "zones.0.rates.0"),
        ([{"countries": ["BR"], "rates": [{**rate, "max_days": 2}]}], "zones.0.rates.0.max_days"),
    ]
    for zones, field in cases:
        response = client.put(PROFILE, json={"zones": zones}, headers=owner)
        assert_problem(response, 422, field=field)
    for zones in ([{"countries": ["XX"], "rates": [rate]}], [{"countries": ["BR"], "rates": [{**rate, "speed": 1}]}],
                  [{"countries": ["BR"], "rates": [{**rate, "service": "Next Day!"}]}], []):
        response = client.put(PROFILE, json={"zones": zones}, headers=owner)
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert client.get(PROFILE, headers=owner).status_code == 404  # nothing was stored


def test_only_vendors_have_a_shipping_profile(client, make):
    shopper = make.user()
    assert client.put(PROFILE, json={"zones": ZONES}, headers=shopper["headers"]).status_code == 403
    pending = make.vendor("IN", approved=False, shipping=False)
    assert client.put(PROFILE, json={"zones": ZONES}, headers=pending["owner"]["headers"]).status_code == 200
    assert client.get(f"/api/v1/vendors/{pending['id']}/shipping-profile").status_code == 404  # not public yet
