"""Campaigns refuse what they cannot honour and never answer 200 for a change that did not happen:
a slug PATCHed to a taken one is a 409, eligibility names only real categories and ISO 3166 countries,
state changes check the state they start from (racing requests: one wins, the others get a 409), and
enrollment, approval and withdrawal reach the search campaign filter and festival price at once."""
from __future__ import annotations

import pytest

from tests.api.test_campaign_pricing import ids, search, worker
from tests.api.test_campaigns import CAMPAIGNS, Festival, assert_problem
from tests.api.test_products import create_product
from tests.api.test_vendor_identity_review import at_once


@pytest.fixture
def fest(make, client, app) -> Festival:
    return Festival(make, client, app)


def enrollments(fest: Festival, campaign: dict) -> str:
    return f"{CAMPAIGNS}/{campaign['id']}/enrollments"


# -- slugs -----------------------------------------------------------------------------------------

def test_patching_a_slug_to_a_taken_one_is_a_conflict_naming_the_slug(fest, client):
    taken = fest.create(slug="diwali-2031")
    campaign = fest.create()

    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"slug": "diwali-2031"},
                            headers=fest.manager["headers"])

    assert_problem(response, 409, code="campaign_slug_taken", field="slug")
    assert fest.get(campaign)["slug"] == campaign["slug"]
    assert fest.get(taken)["id"] == taken["id"]


def test_patching_a_campaign_to_its_own_slug_is_fine(fest, client):
    campaign = fest.create()
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"slug": campaign["slug"], "boost": "2"},
                            headers=fest.manager["headers"])
    assert response.status_code == 200, response.get_json()


# -- eligibility -----------------------------------------------------------------------------------

@pytest.mark.parametrize("categories", [["no-such-category"], ["tea", "unicorn-horns"]])
def test_eligibility_naming_an_unknown_category_is_refused_naming_the_field(fest, client, categories):
    response = client.post(CAMPAIGNS, json=fest.payload(eligibility={"categories": categories}),
                           headers=fest.manager["headers"])
    body = assert_problem(response, 422, code="unknown_category", field="eligibility.categories")
    assert categories[-1] in body["detail"]
    listed = client.get(CAMPAIGNS, headers=fest.manager["headers"]).get_json()
    assert listed["total"] == 0


def test_patching_eligibility_to_an_unknown_category_is_refused_and_changes_nothing(fest, client):
    campaign = fest.create(eligibility={"categories": ["tea"]})
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"eligibility": {"categories": ["tea", "nope"]}},
                            headers=fest.manager["headers"])
    assert_problem(response, 422, code="unknown_category", field="eligibility.categories")
    assert fest.get(campaign)["eligibility"]["categories"] == ["tea"]


def test_a_parent_category_is_a_known_category(fest):
    campaign = fest.create(eligibility={"categories": ["food-beverages", "shawls-scarves"]})
    assert campaign["eligibility"]["categories"] == ["food-beverages", "shawls-scarves"]


@pytest.mark.parametrize("country", ["ZZ", "XX", "EU", "UN", "QO", "AA", "UK"])
def test_eligibility_naming_a_code_that_is_not_an_iso_country_is_refused(fest, client, country):
    response = client.post(CAMPAIGNS, json=fest.payload(eligibility={"origin_countries": ["BR", country]}),
                           headers=fest.manager["headers"])
    assert_problem(response, 422, field="eligibility.origin_countries")


def test_patching_eligibility_to_an_unknown_country_is_refused(fest, client):
    campaign = fest.create(eligibility={"origin_countries": ["BR"]})
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"eligibility": {"origin_countries": ["ZZ"]}},
                            headers=fest.manager["headers"])
    assert_problem(response, 422, field="eligibility.origin_countries")
    assert fest.get(campaign)["eligibility"]["origin_countries"] == ["BR"]


def test_any_real_country_may_be_named_not_only_members(fest):
    campaign = fest.create(eligibility={"origin_countries": ["AE", "ET", "IR", "KZ", "GB", "US"]})
    assert campaign["eligibility"]["origin_countries"] == ["AE", "ET", "IR", "KZ", "GB", "US"]


# -- state changes check where they start ------------------------------------------------------------

def test_launching_a_campaign_from_several_requests_at_once_launches_it_once(fest, app):
    campaign = fest.create()
    headers = fest.manager["headers"]

    results = at_once(app, *[lambda c: c.post(f"{CAMPAIGNS}/{campaign['id']}/launch", headers=headers)] * 4)

    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    assert {r.get_json()["code"] for r in results if r.status_code == 409} == {"invalid_campaign_transition"}


def test_approving_and_rejecting_one_enrollment_at_once_decides_it_once(fest, app):
    campaign = fest.create(requires_approval=True)
    fest.act(campaign, "launch")
    (pending,) = fest.enroll(campaign, fest.cn, fest.tea)
    base = f"{enrollments(fest, campaign)}/{pending['enrollment_id']}"
    other = fest.make.user("campaign_manager")

    results = at_once(app,
                      lambda c: c.post(f"{base}/approve", json={}, headers=fest.manager["headers"]),
                      lambda c: c.post(f"{base}/reject", json={"reason": "Blurry photos"}, headers=other["headers"]))

    assert sorted(r.status_code for r in results) == [200, 409], [r.get_json() for r in results]
    winner = next(r for r in results if r.status_code == 200).get_json()
    (listed,) = fest.client.get(enrollments(fest, campaign), headers=fest.manager["headers"]).get_json()["items"]
    assert listed["status"] == winner["status"]


def test_withdrawing_twice_is_a_conflict_the_second_time(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")
    (enrolled,) = fest.enroll(campaign, fest.cn, fest.tea)
    address = f"{enrollments(fest, campaign)}/{enrolled['enrollment_id']}"

    assert client.delete(address, headers=fest.cn["owner"]["headers"]).status_code == 200
    assert_problem(client.delete(address, headers=fest.cn["owner"]["headers"]), 409,
                   code="invalid_campaign_transition")


def test_a_rejected_enrollment_cannot_be_withdrawn(fest, client):
    campaign = fest.create(eligibility={"origin_countries": ["IN"]})
    fest.act(campaign, "launch")
    (rejected,) = fest.enroll(campaign, fest.cn, fest.tea)
    assert rejected["status"] == "rejected"
    response = client.delete(f"{enrollments(fest, campaign)}/{rejected['enrollment_id']}",
                             headers=fest.cn["owner"]["headers"])
    assert_problem(response, 409, code="invalid_campaign_transition")


def test_withdrawing_twice_at_once_withdraws_once(fest, app):
    campaign = fest.create()
    fest.act(campaign, "launch")
    (enrolled,) = fest.enroll(campaign, fest.cn, fest.tea)
    address = f"{enrollments(fest, campaign)}/{enrolled['enrollment_id']}"
    headers = fest.cn["owner"]["headers"]

    results = at_once(app, *[lambda c: c.delete(address, headers=headers)] * 3)

    assert sorted(r.status_code for r in results) == [200, 409, 409]


# -- search follows enrollment at once -----------------------------------------------------------------

def test_a_product_enrolled_after_the_start_is_in_the_campaign_filter_at_once(fest, client, runner):
    campaign = fest.running((fest.cn, fest.tea))
    worker(runner)                                                    # the start is announced
    late = create_product(client, fest.cn, sku="LATE-1", translations={"en": {"title": "Late oolong"}},
                          price={"amount": "100.00", "currency": "CNY"})

    (result,) = fest.enroll(campaign, fest.cn, late)                  # no worker run after this

    assert result["status"] == "enrolled"
    assert sorted(ids(search(client, campaign=campaign["slug"]))) == sorted([fest.tea["id"], late["id"]])
    (item,) = [i for i in search(client, currency="CNY")["items"] if i["id"] == late["id"]]
    assert item["price"]["amount"] == "85.00" and item["campaign"]["slug"] == campaign["slug"]


def test_an_approved_enrollment_is_in_the_campaign_filter_at_once(fest, client, runner):
    campaign = fest.running(requires_approval=True)
    worker(runner)
    (pending,) = fest.enroll(campaign, fest.cn, fest.tea)
    assert ids(search(client, campaign=campaign["slug"])) == []

    response = client.post(f"{enrollments(fest, campaign)}/{pending['enrollment_id']}/approve", json={},
                           headers=fest.manager["headers"])

    assert response.status_code == 200, response.get_json()
    assert ids(search(client, campaign=campaign["slug"])) == [fest.tea["id"]]
    assert fest.tea["id"] in ids(search(client, currency="CNY", price_max="170"))


def test_a_product_enrolled_before_the_start_is_in_the_filter_once_the_worker_sees_the_start(fest, client, runner):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.cn, fest.tea)
    fest.at(fest.INSIDE)
    worker(runner)
    assert ids(search(client, campaign=campaign["slug"])) == [fest.tea["id"]]
