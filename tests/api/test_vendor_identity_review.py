"""A vendor's identity stays reviewed: changing its legal name, tax ID, country or payout account sends an
approved vendor back to review (its products leave search, payouts wait, the reviewed payout account stays
until an admin approves the new one); growing out of a campaign's MSME classes takes its products out of
that campaign at once (price, search, cart) with the reason shown to the vendor; two admins deciding at
once: one wins, the other gets a 409."""
from __future__ import annotations

import threading
from typing import Any, Callable

import pytest

from marketplace.kernel.extensions import db
from tests.api.test_campaign_pricing import ids, search, worker
from tests.api.test_campaigns import CAMPAIGNS, Festival, cart_lines
from tests.api.test_products import create_product
from tests.api.test_vendors import assert_problem, history_of, patch, url
from vendors import services as vendor_services
from vendors.models import Vendor

MSME_ONLY = {"origin_countries": [], "categories": [], "msme_classes": ["micro", "small", "medium"]}
#: An Indian enterprise this size is `large` under the Udyam rule.
LARGE_IN = {"annual_turnover": {"amount": "90000000000.00", "currency": "INR"},
            "investment": {"amount": "9000000000.00", "currency": "INR"}}


@pytest.fixture
def admin(make) -> dict:
    return make.user("admin")


@pytest.fixture
def fest(make, client, app) -> Festival:
    return Festival(make, client, app)


def at_once(app, *calls: Callable[[Any], Any]) -> list[Any]:
    """Run each call(client) in its own thread with its own test client, released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[Any], Any]) -> None:
        client = app.test_client()
        barrier.wait()
        results[index] = call(client)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def payouts_allowed(app, vendor: dict) -> bool:
    with app.app_context():
        allowed = vendor_services.payouts_allowed(db.session.get(Vendor, vendor["id"]))
        db.session.remove()
    return allowed


# -- identity changes go back to review -----------------------------------------------------------

def test_changing_the_legal_name_sends_an_approved_vendor_back_to_review_and_out_of_search(client, make, admin):
    make.rates()
    vendor = make.vendor("IN")
    product = create_product(client, vendor)
    assert product["id"] in ids(search(client))

    response = patch(client, vendor, {"legal_name": "Someone Else Entirely Pvt Ltd"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "pending_review"
    last = history_of(client, admin, vendor)[-1]
    assert (last["from_status"], last["to_status"]) == ("approved", "pending_review")
    assert "legal_name" in last["reason"]
    assert product["id"] not in ids(search(client))          # at once: no worker run
    assert_problem(client.get(url(vendor)), 404)

    assert client.post(url(vendor, "approve"), json={}, headers=admin["headers"]).status_code == 200
    assert product["id"] in ids(search(client))


def test_resending_the_same_legal_name_keeps_the_vendor_approved(client, make, admin):
    vendor = make.vendor("IN")
    response = patch(client, vendor, {"legal_name": vendor["legal_name"], "display_name": "Renamed shop"})
    assert response.status_code == 200 and response.get_json()["status"] == "approved"


def test_a_new_payout_account_waits_for_review_beside_the_reviewed_one(app, client, make, admin):
    vendor = make.vendor("IN", stripe_account_id="acct_Reviewed1")
    assert payouts_allowed(app, vendor)

    response = patch(client, vendor, {"stripe_account_id": "acct_Proposed2"})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending_review"
    assert (body["stripe_account_id"], body["pending_stripe_account_id"]) == ("acct_Reviewed1", "acct_Proposed2")
    assert "stripe_account_id" in history_of(client, admin, vendor)[-1]["reason"]
    shown = client.get(url(vendor), headers=admin["headers"]).get_json()
    assert (shown["stripe_account_id"], shown["pending_stripe_account_id"]) == ("acct_Reviewed1", "acct_Proposed2")
    assert not payouts_allowed(app, vendor)                  # held while in review

    approved = client.post(url(vendor, "approve"), json={}, headers=admin["headers"]).get_json()

    assert (approved["stripe_account_id"], approved["pending_stripe_account_id"]) == ("acct_Proposed2", None)
    assert payouts_allowed(app, vendor)


def test_a_rejected_payout_account_never_replaces_the_reviewed_one(app, client, make, admin):
    vendor = make.vendor("IN", stripe_account_id="acct_Reviewed1")
    patch(client, vendor, {"stripe_account_id": "acct_Attacker9"})

    response = client.post(url(vendor, "reject"), json={"reason": "Not the vendor's bank"}, headers=admin["headers"])

    assert response.status_code == 200
    assert response.get_json()["stripe_account_id"] == "acct_Reviewed1"
    assert not payouts_allowed(app, vendor)


def test_a_first_payout_account_of_an_approved_vendor_is_reviewed_too(app, client, make, admin):
    vendor = make.vendor("IN")
    body = patch(client, vendor, {"stripe_account_id": "acct_First1"}).get_json()
    assert body["status"] == "pending_review"
    assert (body["stripe_account_id"], body["pending_stripe_account_id"]) == (None, "acct_First1")
    assert not payouts_allowed(app, vendor)


def test_removing_the_payout_account_needs_no_review(app, client, make):
    vendor = make.vendor("IN", stripe_account_id="acct_Reviewed1")
    body = patch(client, vendor, {"stripe_account_id": None}).get_json()
    assert body["status"] == "approved" and body["stripe_account_id"] is None
    assert not payouts_allowed(app, vendor)


def test_the_payout_account_is_private(client, make):
    vendor = make.vendor("IN", stripe_account_id="acct_Reviewed1")
    public = client.get(url(vendor)).get_json()
    assert "stripe_account_id" not in public and "pending_stripe_account_id" not in public


# -- growing out of an MSME-only campaign ---------------------------------------------------------

def test_a_vendor_grown_large_leaves_an_msme_only_campaign_at_once(fest, client, runner):
    campaign = fest.running((fest.india, fest.shawl), (fest.cn, fest.tea), eligibility=MSME_ONLY)
    worker(runner)
    slug = campaign["slug"]
    assert sorted(ids(search(client, campaign=slug))) == sorted([fest.shawl["id"], fest.tea["id"]])
    list_price = fest.product(fest.shawl, "INR")["list_price"]
    assert fest.product(fest.shawl, "INR")["price"] != list_price
    fest.add(fest.shopper, fest.shawl)

    response = client.patch(url(fest.india), json=LARGE_IN, headers=fest.india["owner"]["headers"])

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["msme_class"] == "large"
    assert response.get_json()["status"] == "approved"      # size is not identity: no review
    mine = client.get(f"{CAMPAIGNS}/{campaign['id']}/enrollments", headers=fest.india["owner"]["headers"]).get_json()
    (enrollment,) = mine["items"]
    assert enrollment["status"] == "removed"
    assert enrollment["reason"].startswith("msme_class: large is not among")
    page = fest.product(fest.shawl, "INR")
    assert page["campaign"] is None and page["price"] == list_price
    assert ids(search(client, campaign=slug)) == [fest.tea["id"]]   # at once, no worker run
    (line,) = cart_lines(fest.cart(fest.shopper, "INR"))
    assert line["campaign"] is None and line["unit_price"] == list_price
    # the other vendor's enrollment is untouched
    assert fest.product(fest.tea, "CNY")["campaign"]["slug"] == slug


def test_a_size_change_that_keeps_the_class_keeps_the_enrollment(fest, client):
    campaign = fest.running((fest.india, fest.shawl), eligibility=MSME_ONLY)
    response = client.patch(url(fest.india), json={"employees": 14}, headers=fest.india["owner"]["headers"])
    assert response.status_code == 200 and response.get_json()["msme_class"] == fest.india["msme_class"]
    assert fest.product(fest.shawl, "INR")["campaign"]["slug"] == campaign["slug"]


def test_a_removed_product_may_enroll_again_once_eligible(fest, client):
    campaign = fest.create(eligibility=MSME_ONLY)
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.india, fest.shawl)
    client.patch(url(fest.india), json=LARGE_IN, headers=fest.india["owner"]["headers"])
    (again,) = fest.enroll(campaign, fest.india, fest.shawl)
    assert again["status"] == "rejected" and again["reason"].startswith("msme_class:")

    small = {"annual_turnover": {"amount": "5000000.00", "currency": "INR"},
             "investment": {"amount": "1000000.00", "currency": "INR"}}
    assert client.patch(url(fest.india), json=small, headers=fest.india["owner"]["headers"]).status_code == 200
    (back,) = fest.enroll(campaign, fest.india, fest.shawl)
    assert back["status"] == "enrolled"


def test_a_pending_enrollment_of_a_vendor_grown_large_is_removed_too(fest, client):
    campaign = fest.create(eligibility=MSME_ONLY, requires_approval=True)
    fest.act(campaign, "launch")
    (pending,) = fest.enroll(campaign, fest.india, fest.shawl)
    assert pending["status"] == "pending_approval"
    client.patch(url(fest.india), json=LARGE_IN, headers=fest.india["owner"]["headers"])

    response = client.post(f"{CAMPAIGNS}/{campaign['id']}/enrollments/{pending['enrollment_id']}/approve",
                           json={}, headers=fest.manager["headers"])

    assert_problem(response, 409, code="invalid_campaign_transition")


def test_moving_country_sends_the_vendor_to_review_but_its_goods_keep_their_origin_and_enrollment(fest, client,
                                                                                                   make):
    # A South African tax reference is also a well-formed Ethiopian TIN: only the country changes. Campaigns
    # read each product's own origin country, which the vendor's move does not change.
    cape = make.vendor("ZA", display_name="Cape Rooibos")
    rooibos = create_product(client, cape, sku="ROOIBOS-1", price={"amount": "90.00", "currency": "ZAR"})
    campaign = fest.running((cape, rooibos), eligibility={"origin_countries": ["ZA"]})

    response = client.patch(url(cape), json={"country": "ET"}, headers=cape["owner"]["headers"])

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "pending_review"
    (enrollment,) = client.get(f"{CAMPAIGNS}/{campaign['id']}/enrollments",
                               headers=cape["owner"]["headers"]).get_json()["items"]
    assert enrollment["status"] == "enrolled"
    assert client.get(f"/api/v1/products/{rooibos['id']}", headers=cape["owner"]["headers"]).get_json()[
        "origin_country"] == "ZA"


# -- races -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("round_", range(3))
def test_two_admins_deciding_one_vendor_at_once_one_wins_the_other_gets_409(app, make, round_):
    vendor = make.vendor("IN", approved=False)
    first, second = make.user("admin"), make.user("admin")

    results = at_once(
        app,
        lambda c: c.post(url(vendor, "approve"), json={}, headers=first["headers"]),
        lambda c: c.post(url(vendor, "reject"), json={"reason": "Documents unreadable"}, headers=second["headers"]),
    )

    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 409], [r.get_json() for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.get_json()["code"] == "invalid_status_transition"
    winner = next(r for r in results if r.status_code == 200).get_json()
    history = app.test_client().get(url(vendor, "history"), headers=first["headers"]).get_json()["items"]
    assert [h["to_status"] for h in history] == ["pending_review", winner["status"]]


def test_two_admins_approving_at_once_record_one_approval(app, make):
    vendor = make.vendor("IN", approved=False)
    admins = [make.user("admin") for _ in range(4)]

    results = at_once(app, *[lambda c, a=a: c.post(url(vendor, "approve"), json={}, headers=a["headers"])
                             for a in admins])

    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    history = app.test_client().get(url(vendor, "history"), headers=admins[0]["headers"]).get_json()["items"]
    assert [h["to_status"] for h in history] == ["pending_review", "approved"]


@pytest.mark.parametrize("round_", range(3))
def test_an_enrollment_racing_a_growth_out_of_msme_never_leaves_a_large_vendor_enrolled(fest, app, round_):
    campaign = fest.create(eligibility=MSME_ONLY)
    fest.act(campaign, "launch")
    fest.at(fest.INSIDE)
    headers = fest.india["owner"]["headers"]

    results = at_once(app,
                      lambda c: c.patch(url(fest.india), json=LARGE_IN, headers=headers),
                      lambda c: c.post(f"{CAMPAIGNS}/{campaign['id']}/enrollments",
                                       json={"product_ids": [fest.shawl["id"]]}, headers=headers))

    assert [r.status_code for r in results] == [200, 200], [r.get_json() for r in results]
    (enrollment,) = fest.client.get(f"{CAMPAIGNS}/{campaign['id']}/enrollments", headers=headers).get_json()["items"]
    assert enrollment["status"] in ("removed", "rejected")
    assert fest.product(fest.shawl, "INR")["campaign"] is None
