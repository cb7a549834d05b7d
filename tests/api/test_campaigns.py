"""Festival campaigns through the HTTP API: creation and validation, a lifecycle that follows the
clock (no cron), what a live campaign may still change, public listing, vendor enrollment with
eligibility rules and approval, and the results report (JSON and CSV).

Prices under campaigns are in tests/api/test_campaign_pricing.py; budgets, stock caps and
per-customer limits at checkout in tests/integration/test_campaign_limits.py. The helpers at the
top are shared with both.

Time: every test freezes the clock at T0 (the real now, so that tokens issued by make.user stay
valid) and campaigns run from T0 + 10 min to T0 + 40 min: BEFORE is T0, INSIDE T0 + 20 min, AFTER
T0 + 45 min, all inside the tokens' one-hour lifetime.
"""
from __future__ import annotations

import csv
import io
import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from marketplace.kernel import clock
from marketplace.kernel.money import Money
from marketplace.rates.services import load_table
from tests.api.test_checkout import (
    checkout_body,
    confirm_payment,
    dec,
    new_key,
)
from tests.api.test_products import assert_problem as _assert_problem
from tests.api.test_products import create_product

CAMPAIGNS = "/api/v1/campaigns"
SEARCH = "/api/v1/search"
CART = "/api/v1/cart"
CART_ITEMS = "/api/v1/cart/items"
CHECKOUT = "/api/v1/checkout"
ORDERS = "/api/v1/orders"

_slugs = itertools.count(1)


# -- helpers (also used by the pricing and limits tests) ------------------------

def assert_problem(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """An RFC 9457 problem with `status` (and `code`); `field` is named in `errors`, itself or as the
    prefix of a nested field (discount.value)."""
    body = _assert_problem(response, status, code)
    if field is not None:
        errors = body.get("errors", {})
        assert any(key == field or key.startswith(field + ".") for key in errors), body
    return body


def iso(moment: datetime) -> str:
    return moment.isoformat()


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Festival:
    """Rates loaded, the clock frozen at T0, a campaign manager, a Chinese tea house (CNY) and an
    Indian shawl maker (INR), one product each, and a shopper."""

    def __init__(self, make, client, app) -> None:
        self.make, self.client, self.app = make, client, app
        self.t0 = datetime.now(timezone.utc).replace(microsecond=0)
        clock.freeze(self.t0)
        self.starts_at = self.t0 + timedelta(minutes=10)
        self.ends_at = self.t0 + timedelta(minutes=40)
        self.BEFORE, self.INSIDE, self.AFTER = self.t0, self.t0 + timedelta(minutes=20), self.t0 + timedelta(minutes=45)
        make.rates()
        self.manager = make.user("campaign_manager")
        self.cn = make.vendor("CN", display_name="Yunnan Tea House")
        self.india = make.vendor("IN", display_name="Kashmir Looms")
        self.tea = create_product(client, self.cn, sku="PUER-1",
                                  translations={"en": {"title": "Yunnan Pu'er tea cake"}},
                                  price={"amount": "200.00", "currency": "CNY"}, category="tea", stock=50)
        self.shawl = create_product(client, self.india, sku="PASHMINA-1",
                                    translations={"en": {"title": "Kashmir pashmina shawl"}},
                                    price={"amount": "2500.00", "currency": "INR"}, category="shawls-scarves",
                                    hs_code="621410", stock=50)
        self.shopper = make.user("shopper")

    # time
    def at(self, moment: datetime) -> None:
        clock.freeze(moment)

    # campaigns
    def payload(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "slug": f"buy-brics-{next(_slugs)}",
            "name": {"en": "Buy BRICS Double 11", "zh": "金砖好物双十一", "pt": "Compre BRICS 11.11"},
            "description": {"en": "BRICS products for the Online Shopping Festival."},
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "discount": {"type": "percent", "value": "15"},
            "eligibility": {"origin_countries": [], "categories": [], "msme_classes": []},
        }
        body.update(overrides)
        return body

    def create(self, by: dict | None = None, **overrides: Any) -> dict[str, Any]:
        response = self.client.post(CAMPAIGNS, json=self.payload(**overrides), headers=(by or self.manager)["headers"])
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def act(self, campaign: dict, action: str, expect: int = 200) -> dict[str, Any]:
        response = self.client.post(f"{CAMPAIGNS}/{campaign['id']}/{action}", headers=self.manager["headers"])
        assert response.status_code == expect, response.get_json()
        return response.get_json()

    def get(self, campaign: dict, viewer: dict | None = None, **params: Any) -> dict[str, Any]:
        response = self.client.get(f"{CAMPAIGNS}/{campaign['slug']}", query_string=params,
                                   headers=(viewer or self.manager)["headers"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def enroll(self, campaign: dict, vendor: dict, *products: dict) -> list[dict[str, Any]]:
        response = self.client.post(f"{CAMPAIGNS}/{campaign['id']}/enrollments",
                                    json={"product_ids": [p["id"] for p in products]},
                                    headers=vendor["owner"]["headers"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()["results"]

    def running(self, *enrolled: tuple[dict, dict], **overrides: Any) -> dict[str, Any]:
        """A launched campaign with `enrolled` ([(vendor, product)]) enrolled before the start; the clock
        is left INSIDE its window."""
        campaign = self.create(**overrides)
        self.act(campaign, "launch")
        for vendor, product in enrolled:
            (result,) = self.enroll(campaign, vendor, product)
            assert result["status"] == "enrolled", result
        self.at(self.INSIDE)
        return campaign

    # shopping
    def product(self, product: dict, currency: str | None = None, viewer: dict | None = None) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/products/{product['id']}",
                                   query_string={"currency": currency} if currency else None,
                                   headers=viewer["headers"] if viewer else None)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def cart(self, shopper: dict, currency: str = "CNY") -> dict[str, Any]:
        response = self.client.get(CART, query_string={"currency": currency}, headers=shopper["headers"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def add(self, shopper: dict, product: dict, quantity: int = 1) -> None:
        response = self.client.post(CART_ITEMS, json={"product_id": product["id"], "quantity": quantity},
                                    headers=shopper["headers"])
        assert response.status_code == 201, response.get_json()

    def checkout(self, shopper: dict, currency: str = "CNY", client=None) -> dict[str, Any]:
        headers = {**shopper["headers"], "Idempotency-Key": new_key()}
        response = (client or self.client).post(CHECKOUT, json=checkout_body(currency), headers=headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["order"]

    def buy(self, shopper: dict, items: list[tuple[dict, int]], currency: str = "CNY", pay: bool = False) -> dict:
        for product, quantity in items:
            self.add(shopper, product, quantity)
        order = self.checkout(shopper, currency)
        if pay:
            order = confirm_payment(self.client, shopper, order["id"])
        return order

    def rate_table(self):
        with self.app.app_context():
            from marketplace.kernel.extensions import db

            table = load_table(db.session)
            db.session.remove()
        return table

    def convert(self, amount: str, frm: str, to: str) -> Money:
        return self.rate_table().convert(Money(Decimal(amount), frm), to)


@pytest.fixture
def fest(make, client, app) -> Festival:
    return Festival(make, client, app)


def cart_lines(cart: dict) -> list[dict]:
    return [line for group in cart["groups"] for line in group["lines"]]


# -- creating --------------------------------------------------------------------

def test_a_campaign_manager_creates_a_draft_campaign(fest, client):
    response = client.post(CAMPAIGNS, json=fest.payload(
        slug="ciie-2025", discount={"type": "fixed", "amounts": {"CNY": "20.00", "INR": "250.00"}},
        eligibility={"origin_countries": ["CN", "IN"], "categories": ["tea"], "msme_classes": ["micro", "small"],
                     "min_price": {"amount": "50.00", "currency": "CNY"}},
        budget={"amount": "10000.00", "currency": "CNY"}, max_uses_per_customer=2, stock_cap=100, boost="2",
        requires_approval=True), headers=fest.manager["headers"])

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "draft" and body["slug"] == "ciie-2025" and isinstance(body["id"], int)
    assert body["name"] == "Buy BRICS Double 11"
    assert body["names"]["zh"] == "金砖好物双十一"
    assert body["description"] == "BRICS products for the Online Shopping Festival."
    assert when(body["starts_at"]) == fest.starts_at and when(body["ends_at"]) == fest.ends_at
    assert body["discount"] == {"type": "fixed", "amounts": {"CNY": "20.00", "INR": "250.00"}}
    assert body["eligibility"]["origin_countries"] == ["CN", "IN"]
    assert body["eligibility"]["min_price"] == {"amount": "50.00", "currency": "CNY"}
    assert body["budget"]["amount"] == "10000.00" and body["budget"]["currency"] == "CNY"
    assert dec(body["budget_spent"]) == 0
    assert body["max_uses_per_customer"] == 2 and body["stock_cap"] == 100
    assert Decimal(body["boost"]) == 2 and body["requires_approval"] is True


@pytest.mark.parametrize("value", ["12.5", "30", "100", "0.0001"])
def test_a_percent_discount_is_returned_as_sent(fest, value):
    campaign = fest.create(discount={"type": "percent", "value": value})
    assert campaign["discount"] == {"type": "percent", "value": value}
    assert campaign["budget"] is None and campaign["stock_cap"] is None and campaign["requires_approval"] is False


def test_an_admin_may_create_a_campaign_too(fest, make):
    campaign = fest.create(by=make.user("admin"))
    assert campaign["status"] == "draft"


@pytest.mark.parametrize("role", ["shopper", "vendor"])
def test_only_campaign_managers_and_admins_create_campaigns(fest, client, make, role):
    response = client.post(CAMPAIGNS, json=fest.payload(), headers=make.user(role)["headers"])
    assert_problem(response, 403)


def test_creating_a_campaign_needs_a_token(fest, client):
    assert_problem(client.post(CAMPAIGNS, json=fest.payload()), 401)


def test_a_window_given_in_china_standard_time_comes_back_in_utc(fest, client):
    campaign = fest.create(starts_at="2031-11-11T00:00:00+08:00", ends_at="2031-11-12T00:00:00+08:00")
    assert campaign["starts_at"].startswith("2031-11-10T16:00:00")
    assert when(campaign["starts_at"]).utcoffset() == timedelta(0)
    assert when(campaign["ends_at"]) == datetime(2031, 11, 11, 16, tzinfo=timezone.utc)
    assert fest.get(campaign)["starts_at"] == campaign["starts_at"]


@pytest.mark.parametrize("overrides, field", [
    ({"starts_at": "2031-11-11T00:00:00"}, "starts_at"),                        # naive
    ({"ends_at": "2031-11-12T00:00:00"}, "ends_at"),                            # naive
    ({"starts_at": "next Tuesday"}, "starts_at"),
    ({"starts_at": "2031-11-12T00:00:00+00:00", "ends_at": "2031-11-11T00:00:00+00:00"}, "ends_at"),
    ({"starts_at": "2031-11-11T00:00:00+00:00", "ends_at": "2031-11-11T00:00:00+00:00"}, "ends_at"),
    ({"starts_at": "2031-11-11T08:00:00+08:00", "ends_at": "2031-11-11T00:00:00+00:00"}, "ends_at"),  # same instant
    ({"discount": {"type": "percent", "value": "0"}}, "discount"),
    ({"discount": {"type": "percent", "value": "100.01"}}, "discount"),
    ({"discount": {"type": "percent", "value": 15}}, "discount"),                 # a JSON number
    ({"discount": {"type": "percent", "value": "12.34567"}}, "discount"),         # over 4 decimal places
    ({"discount": {"type": "percent"}}, "discount"),
    ({"discount": {"type": "percent", "value": "10", "amounts": {"CNY": "5.00"}}}, "discount"),
    ({"discount": {"type": "fixed"}}, "discount"),
    ({"discount": {"type": "fixed", "amounts": {}}}, "discount"),
    ({"discount": {"type": "fixed", "amounts": {"CNY": "-5.00"}}}, "discount"),
    ({"discount": {"type": "fixed", "amounts": {"CNY": "5.001"}}}, "discount"),
    ({"discount": {"type": "fixed", "amounts": {"XYZ": "5.00"}}}, "discount"),
    ({"discount": {"type": "bogo"}}, "discount"),
    ({"slug": "Buy BRICS!"}, "slug"),
    ({"name": {}}, "name"),
    ({"name": {"xx": "Festival"}}, "name"),
    ({"eligibility": {"origin_countries": ["china"]}}, "eligibility"),
    ({"eligibility": {"msme_classes": ["tiny"]}}, "eligibility"),
    ({"budget": {"amount": "-1.00", "currency": "CNY"}}, "budget"),
    ({"stock_cap": 0}, "stock_cap"),
    ({"max_uses_per_customer": 0}, "max_uses_per_customer"),
    ({"boost": "0.5"}, "boost"),
    ({"status": "active"}, "status"),                                           # not settable
])
def test_invalid_campaigns_are_refused_naming_the_field(fest, client, overrides, field):
    response = client.post(CAMPAIGNS, json=fest.payload(**overrides), headers=fest.manager["headers"])
    assert_problem(response, 422, field=field)


@pytest.mark.parametrize("missing", ["slug", "name", "starts_at", "ends_at", "discount"])
def test_required_campaign_fields(fest, client, missing):
    payload = fest.payload()
    del payload[missing]
    assert_problem(client.post(CAMPAIGNS, json=payload, headers=fest.manager["headers"]), 422, field=missing)


def test_a_taken_slug_is_a_conflict(fest, client):
    fest.create(slug="double-11")
    response = client.post(CAMPAIGNS, json=fest.payload(slug="double-11"), headers=fest.manager["headers"])
    assert_problem(response, 409, code="campaign_slug_taken")


# -- lifecycle: the status follows the clock ---------------------------------------

def test_the_status_follows_the_clock_before_inside_and_after_the_window(fest, client):
    campaign = fest.create()
    assert fest.act(campaign, "launch")["status"] == "scheduled"
    assert fest.get(campaign)["status"] == "scheduled"

    fest.at(fest.starts_at - timedelta(microseconds=1))
    assert fest.get(campaign)["status"] == "scheduled"
    fest.at(fest.starts_at)                                    # the window includes its start
    assert fest.get(campaign)["status"] == "active"
    fest.at(fest.INSIDE)
    assert fest.get(campaign)["status"] == "active"
    fest.at(fest.ends_at - timedelta(microseconds=1))
    assert fest.get(campaign)["status"] == "active"
    fest.at(fest.ends_at)                                      # ... and excludes its end
    assert fest.get(campaign)["status"] == "ended"
    fest.at(fest.AFTER)
    assert fest.get(campaign)["status"] == "ended"


def test_the_list_filters_by_the_status_at_this_instant(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")

    def slugs(status: str) -> list[str]:
        response = client.get(CAMPAIGNS, query_string={"status": status}, headers=fest.manager["headers"])
        assert response.status_code == 200, response.get_json()
        return [c["slug"] for c in response.get_json()["items"]]

    assert slugs("scheduled") == [campaign["slug"]] and slugs("active") == []
    fest.at(fest.INSIDE)
    assert slugs("active") == [campaign["slug"]] and slugs("scheduled") == []
    fest.at(fest.AFTER)
    assert slugs("ended") == [campaign["slug"]] and slugs("active") == []


def test_a_campaign_launched_inside_its_window_is_active_at_once(fest):
    campaign = fest.create()
    fest.at(fest.INSIDE)
    assert fest.act(campaign, "launch")["status"] == "active"


def test_pause_and_resume_inside_the_window(fest):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.at(fest.INSIDE)
    assert fest.act(campaign, "pause")["status"] == "paused"
    assert fest.get(campaign)["status"] == "paused"
    assert fest.act(campaign, "resume")["status"] == "active"


def test_a_campaign_paused_before_its_start_resumes_as_scheduled(fest):
    campaign = fest.create()
    fest.act(campaign, "launch")
    assert fest.act(campaign, "pause")["status"] == "paused"
    assert fest.act(campaign, "resume")["status"] == "scheduled"


def test_a_paused_campaign_still_ends_when_its_window_is_over(fest):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.at(fest.INSIDE)
    fest.act(campaign, "pause")
    fest.at(fest.AFTER)
    assert fest.get(campaign)["status"] == "ended"
    fest.act(campaign, "resume", expect=409)


def test_ending_a_campaign_early_ends_it_now(fest):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.at(fest.INSIDE)
    ended = fest.act(campaign, "end")
    assert ended["status"] == "ended" and when(ended["ends_at"]) == fest.INSIDE
    fest.at(fest.INSIDE + timedelta(minutes=1))
    assert fest.get(campaign)["status"] == "ended"


def test_ending_a_scheduled_campaign_cancels_it(fest):
    campaign = fest.create()
    fest.act(campaign, "launch")
    assert fest.act(campaign, "end")["status"] == "ended"
    fest.at(fest.INSIDE)
    assert fest.get(campaign)["status"] == "ended"


@pytest.mark.parametrize("steps, action", [
    ([], "pause"),                          # a draft is not running
    ([], "resume"),
    ([], "end"),
    (["launch"], "launch"),                 # twice
    (["launch"], "resume"),                 # not paused
    (["launch", "pause"], "pause"),
    (["launch", "end"], "launch"),          # ended is final
    (["launch", "end"], "resume"),
    (["launch", "end"], "pause"),
    (["launch", "end"], "end"),
])
def test_invalid_transitions_are_conflicts(fest, client, steps, action):
    campaign = fest.create()
    for step in steps:
        fest.act(campaign, step)
    response = client.post(f"{CAMPAIGNS}/{campaign['id']}/{action}", headers=fest.manager["headers"])
    body = assert_problem(response, 409, code="invalid_campaign_transition")
    assert body["current_status"] == fest.get(campaign)["status"]


def test_a_campaign_whose_window_is_over_cannot_be_launched(fest, client):
    campaign = fest.create()
    fest.at(fest.AFTER)
    assert_problem(client.post(f"{CAMPAIGNS}/{campaign['id']}/launch", headers=fest.manager["headers"]), 409)
    assert fest.get(campaign)["status"] == "draft"


@pytest.mark.parametrize("role", ["shopper", "vendor"])
def test_only_managers_move_a_campaign_through_its_lifecycle(fest, client, make, role):
    campaign = fest.create()
    user = make.user(role)
    for action in ("launch", "pause", "resume", "end"):
        assert_problem(client.post(f"{CAMPAIGNS}/{campaign['id']}/{action}", headers=user["headers"]), 403)
    assert_problem(client.post(f"{CAMPAIGNS}/{campaign['id']}/launch"), 401)
    assert fest.get(campaign)["status"] == "draft"


def test_an_unknown_campaign_is_not_found(fest, client):
    assert_problem(client.post(f"{CAMPAIGNS}/999999/launch", headers=fest.manager["headers"]), 404)
    assert_problem(client.patch(f"{CAMPAIGNS}/999999", json={"boost": "2"}, headers=fest.manager["headers"]), 404)
    assert_problem(client.get(f"{CAMPAIGNS}/no-such-campaign"), 404)


# -- changing a campaign: everything while a draft, only what is safe once live ------

def test_a_draft_may_change_anything(fest, client):
    campaign = fest.create()
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", headers=fest.manager["headers"], json={
        "discount": {"type": "percent", "value": "30"}, "eligibility": {"origin_countries": ["BR"]},
        "starts_at": iso(fest.starts_at + timedelta(minutes=1)), "stock_cap": 5})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["discount"] == {"type": "percent", "value": "30"} and body["stock_cap"] == 5
    assert body["eligibility"]["origin_countries"] == ["BR"] and body["status"] == "draft"


@pytest.mark.parametrize("moment", ["BEFORE", "INSIDE"])
@pytest.mark.parametrize("change, field", [
    ({"discount": {"type": "percent", "value": "50"}}, "discount"),
    ({"eligibility": {"origin_countries": ["BR"]}}, "eligibility"),
    ({"starts_at": "2020-01-01T00:00:00+00:00"}, "starts_at"),
    ({"stock_cap": 1000}, "stock_cap"),
    ({"slug": "another-slug"}, "slug"),
    ({"requires_approval": True}, "requires_approval"),
])
def test_a_live_campaign_refuses_unsafe_changes_naming_the_field(fest, client, moment, change, field):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.at(getattr(fest, moment))
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", json=change, headers=fest.manager["headers"])
    assert_problem(response, 422, code="unsafe_campaign_change", field=field)
    assert fest.get(campaign)["discount"] == {"type": "percent", "value": "15"}


def test_a_live_campaign_may_change_its_name_end_budget_and_boost(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.at(fest.INSIDE)
    later = fest.ends_at + timedelta(hours=2)
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", headers=fest.manager["headers"], json={
        "name": {"en": "Buy BRICS: extended!"}, "ends_at": iso(later), "boost": "3",
        "budget": {"amount": "5000.00", "currency": "CNY"}, "max_uses_per_customer": 3})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "Buy BRICS: extended!" and when(body["ends_at"]) == later
    assert body["status"] == "active" and body["budget"]["amount"] == "5000.00"
    fest.at(fest.AFTER)
    assert fest.get(campaign)["status"] == "active"     # the window was extended


def test_a_live_campaign_cannot_end_in_the_past_through_patch(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.at(fest.INSIDE)
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"ends_at": iso(fest.INSIDE - timedelta(minutes=1))},
                            headers=fest.manager["headers"])
    assert_problem(response, 422, field="ends_at")
    assert fest.get(campaign)["status"] == "active"


def test_a_draft_cannot_be_patched_to_end_before_it_starts(fest, client):
    campaign = fest.create()
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"ends_at": iso(fest.starts_at - timedelta(minutes=1))},
                            headers=fest.manager["headers"])
    assert_problem(response, 422, field="ends_at")
    assert when(fest.get(campaign)["ends_at"]) == fest.ends_at


def test_an_incomplete_discount_in_a_patch_is_refused_not_a_server_error(fest, client):
    campaign = fest.create()
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"discount": {"value": "20"}},
                            headers=fest.manager["headers"])
    assert_problem(response, 422, field="discount")


def test_an_ended_campaign_cannot_change(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.at(fest.AFTER)
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"name": {"en": "Renamed"}},
                            headers=fest.manager["headers"])
    assert_problem(response, 409)


def test_only_managers_change_campaigns(fest, client, make):
    campaign = fest.create()
    response = client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"name": {"en": "Mine"}},
                            headers=fest.cn["owner"]["headers"])
    assert_problem(response, 403)


# -- public reading ------------------------------------------------------------------

def test_drafts_are_hidden_from_the_public_but_not_from_managers(fest, client, make):
    draft = fest.create()
    launched = fest.create()
    fest.act(launched, "launch")

    public = client.get(CAMPAIGNS).get_json()
    assert [c["slug"] for c in public["items"]] == [launched["slug"]] and public["total"] == 1
    shopper_view = client.get(CAMPAIGNS, headers=fest.shopper["headers"]).get_json()
    assert [c["slug"] for c in shopper_view["items"]] == [launched["slug"]]
    managed = client.get(CAMPAIGNS, headers=fest.manager["headers"]).get_json()
    assert {c["slug"] for c in managed["items"]} == {draft["slug"], launched["slug"]}

    assert_problem(client.get(f"{CAMPAIGNS}/{draft['slug']}"), 404)
    assert_problem(client.get(f"{CAMPAIGNS}/{draft['slug']}", headers=fest.shopper["headers"]), 404)
    assert client.get(f"{CAMPAIGNS}/{draft['slug']}", headers=fest.manager["headers"]).status_code == 200
    assert client.get(f"{CAMPAIGNS}/{launched['slug']}").status_code == 200


def test_active_campaigns_are_listed_with_their_name_in_the_asked_locale(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.at(fest.INSIDE)

    def names(**params: Any) -> list[str]:
        response = client.get(CAMPAIGNS, query_string={"status": "active", **params})
        assert response.status_code == 200, response.get_json()
        return [c["name"] for c in response.get_json()["items"]]

    assert names(locale="zh") == ["金砖好物双十一"]
    assert names(locale="pt") == ["Compre BRICS 11.11"]
    assert names(locale="ru") == ["Buy BRICS Double 11"]          # no Russian name: English
    assert names() == ["Buy BRICS Double 11"]
    body = client.get(f"{CAMPAIGNS}/{campaign['slug']}", query_string={"locale": "zh"}).get_json()
    assert body["name"] == "金砖好物双十一" and body["status"] == "active"


def test_the_campaign_list_is_paginated(fest, client):
    for _ in range(3):
        fest.act(fest.create(), "launch")
    body = client.get(CAMPAIGNS, query_string={"per_page": 2, "page": 2}).get_json()
    assert body["total"] == 3 and len(body["items"]) == 1 and body["page"] == 2


def test_an_unknown_status_filter_is_refused(fest, client):
    assert_problem(client.get(CAMPAIGNS, query_string={"status": "running"}), 422, field="status")


# -- enrollment ------------------------------------------------------------------------

def test_a_vendor_enrolls_its_eligible_products(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")
    second = create_product(client, fest.cn, sku="LONGJING-1", price={"amount": "120.00", "currency": "CNY"})
    results = fest.enroll(campaign, fest.cn, fest.tea, second)
    assert [(r["product_id"], r["status"], r["reason"]) for r in results] == [
        (fest.tea["id"], "enrolled", None), (second["id"], "enrolled", None)]
    assert all(isinstance(r["enrollment_id"], int) for r in results)

    listed = client.get(f"{CAMPAIGNS}/{campaign['id']}/enrollments", headers=fest.manager["headers"]).get_json()
    assert {(e["product_id"], e["status"], e["vendor_id"]) for e in listed["items"]} == {
        (fest.tea["id"], "enrolled", fest.cn["id"]), (second["id"], "enrolled", fest.cn["id"])}


@pytest.mark.parametrize("eligibility, rule", [
    ({"origin_countries": ["CN", "BR"]}, "origin_country"),
    ({"categories": ["tea", "coffee"]}, "category"),
    ({"msme_classes": ["large"]}, "msme_class"),
    ({"min_price": {"amount": "500.00", "currency": "CNY"}}, "min_price"),   # 2,500 INR is far less
])
def test_an_ineligible_product_is_rejected_with_the_rule_named(fest, eligibility, rule):
    campaign = fest.create(eligibility=eligibility)
    fest.act(campaign, "launch")
    (result,) = fest.enroll(campaign, fest.india, fest.shawl)
    assert result["status"] == "rejected"
    assert result["reason"].startswith(f"{rule}:"), result


def test_every_failed_rule_is_named(fest):
    campaign = fest.create(eligibility={"origin_countries": ["CN"], "categories": ["tea"], "msme_classes": ["large"],
                                        "min_price": {"amount": "10000.00", "currency": "INR"}})
    fest.act(campaign, "launch")
    (result,) = fest.enroll(campaign, fest.india, fest.shawl)
    rules = [part.split(":")[0] for part in result["reason"].split("; ")]
    assert rules == ["origin_country", "category", "msme_class", "min_price"]


def test_eligible_and_ineligible_products_get_their_own_results(fest, client):
    campaign = fest.create(eligibility={"categories": ["food-beverages"]})   # tea is a subcategory
    fest.act(campaign, "launch")
    silk = create_product(client, fest.cn, sku="SILK-1", category="fabrics", hs_code="500720",
                          price={"amount": "300.00", "currency": "CNY"})
    results = fest.enroll(campaign, fest.cn, fest.tea, silk)
    assert [r["status"] for r in results] == ["enrolled", "rejected"]
    assert results[1]["reason"].startswith("category:")


def test_a_product_at_exactly_the_minimum_price_qualifies(fest):
    campaign = fest.create(eligibility={"min_price": {"amount": "200.00", "currency": "CNY"}})
    fest.act(campaign, "launch")
    assert fest.enroll(campaign, fest.cn, fest.tea)[0]["status"] == "enrolled"


def test_the_minimum_price_compares_across_currencies(fest):
    shawl_in_cny = fest.convert("2500.00", "INR", "CNY")
    just_above = fest.create(eligibility={"min_price": {"amount": str(shawl_in_cny.amount + Decimal("0.01")),
                                                        "currency": "CNY"}})
    just_below = fest.create(eligibility={"min_price": {"amount": str(shawl_in_cny.amount - Decimal("0.01")),
                                                        "currency": "CNY"}})
    for campaign in (just_above, just_below):
        fest.act(campaign, "launch")
    assert fest.enroll(just_above, fest.india, fest.shawl)[0]["status"] == "rejected"
    assert fest.enroll(just_below, fest.india, fest.shawl)[0]["status"] == "enrolled"


def test_msme_class_eligibility_follows_the_vendors_class(fest, make, client):
    large = make.vendor("IN", employees=5000, annual_turnover={"amount": "90000000000.00", "currency": "INR"},
                        investment={"amount": "9000000000.00", "currency": "INR"})
    assert large["msme_class"] == "large" and fest.india["msme_class"] != "large"
    big_shawl = create_product(client, large, sku="MILL-1", category="shawls-scarves", hs_code="621410",
                               price={"amount": "900.00", "currency": "INR"})
    campaign = fest.create(eligibility={"msme_classes": ["micro", "small", "medium"]})
    fest.act(campaign, "launch")
    assert fest.enroll(campaign, fest.india, fest.shawl)[0]["status"] == "enrolled"
    (result,) = fest.enroll(campaign, large, big_shawl)
    assert result["status"] == "rejected" and result["reason"].startswith("msme_class:")


def test_enrolling_again_keeps_the_existing_enrollment(fest):
    campaign = fest.create()
    fest.act(campaign, "launch")
    (first,) = fest.enroll(campaign, fest.cn, fest.tea)
    (again,) = fest.enroll(campaign, fest.cn, fest.tea)
    assert again["status"] == "enrolled" and again["enrollment_id"] == first["enrollment_id"]


def test_a_vendor_cannot_enroll_another_vendors_products(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")
    response = client.post(f"{CAMPAIGNS}/{campaign['id']}/enrollments",
                           json={"product_ids": [fest.tea["id"], fest.shawl["id"]]},
                           headers=fest.cn["owner"]["headers"])
    body = assert_problem(response, 403, code="not_product_owner")
    assert body["product_ids"] == [fest.shawl["id"]]
    listed = client.get(f"{CAMPAIGNS}/{campaign['id']}/enrollments", headers=fest.manager["headers"]).get_json()
    assert listed["items"] == []                              # nothing enrolled, not even the own product


@pytest.mark.parametrize("role", ["shopper", "campaign_manager"])
def test_only_vendors_enroll_products(fest, client, make, role):
    campaign = fest.create()
    fest.act(campaign, "launch")
    response = client.post(f"{CAMPAIGNS}/{campaign['id']}/enrollments", json={"product_ids": [fest.tea["id"]]},
                           headers=make.user(role)["headers"])
    assert_problem(response, 403)


def test_a_vendor_cannot_enroll_in_a_draft_or_an_ended_campaign(fest, client):
    draft = fest.create()
    body = {"product_ids": [fest.tea["id"]]}
    headers = fest.cn["owner"]["headers"]
    assert_problem(client.post(f"{CAMPAIGNS}/{draft['id']}/enrollments", json=body, headers=headers), 404)
    launched = fest.create()
    fest.act(launched, "launch")
    fest.at(fest.AFTER)
    assert_problem(client.post(f"{CAMPAIGNS}/{launched['id']}/enrollments", json=body, headers=headers), 409)


def test_with_approval_enrollments_wait_for_a_manager(fest, client):
    campaign = fest.create(requires_approval=True)
    fest.act(campaign, "launch")
    second = create_product(client, fest.cn, sku="LONGJING-1", price={"amount": "120.00", "currency": "CNY"})
    first, other = fest.enroll(campaign, fest.cn, fest.tea, second)
    assert first["status"] == other["status"] == "pending_approval"

    base = f"{CAMPAIGNS}/{campaign['id']}/enrollments"
    approved = client.post(f"{base}/{first['enrollment_id']}/approve", json={}, headers=fest.manager["headers"])
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "enrolled" and approved.get_json()["decided_at"]
    rejected = client.post(f"{base}/{other['enrollment_id']}/reject", json={"reason": "Not a festival product."},
                           headers=fest.manager["headers"])
    assert rejected.status_code == 200, rejected.get_json()
    assert rejected.get_json()["status"] == "rejected" and rejected.get_json()["reason"] == "Not a festival product."

    # decided is final
    again = client.post(f"{base}/{first['enrollment_id']}/reject", json={}, headers=fest.manager["headers"])
    assert_problem(again, 409)
    mine = client.get(base, headers=fest.cn["owner"]["headers"]).get_json()["items"]
    assert {e["id"]: e["status"] for e in mine} == {first["enrollment_id"]: "enrolled",
                                                    other["enrollment_id"]: "rejected"}


def test_an_ineligible_product_is_rejected_even_when_approval_is_required(fest):
    campaign = fest.create(requires_approval=True, eligibility={"origin_countries": ["CN"]})
    fest.act(campaign, "launch")
    (result,) = fest.enroll(campaign, fest.india, fest.shawl)
    assert result["status"] == "rejected" and result["reason"].startswith("origin_country:")


def test_vendors_cannot_decide_enrollments(fest, client):
    campaign = fest.create(requires_approval=True)
    fest.act(campaign, "launch")
    (result,) = fest.enroll(campaign, fest.cn, fest.tea)
    response = client.post(f"{CAMPAIGNS}/{campaign['id']}/enrollments/{result['enrollment_id']}/approve", json={},
                           headers=fest.cn["owner"]["headers"])
    assert_problem(response, 403)


def test_an_enrollment_of_another_campaign_is_not_found(fest, client):
    one, two = fest.create(), fest.create(requires_approval=True)
    for campaign in (one, two):
        fest.act(campaign, "launch")
    (result,) = fest.enroll(two, fest.cn, fest.tea)
    response = client.post(f"{CAMPAIGNS}/{one['id']}/enrollments/{result['enrollment_id']}/approve", json={},
                           headers=fest.manager["headers"])
    assert_problem(response, 404)


def test_a_vendor_withdraws_before_the_start_but_not_after(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")
    second = create_product(client, fest.cn, sku="LONGJING-1", price={"amount": "120.00", "currency": "CNY"})
    first, other = fest.enroll(campaign, fest.cn, fest.tea, second)
    base = f"{CAMPAIGNS}/{campaign['id']}/enrollments"

    response = client.delete(f"{base}/{first['enrollment_id']}", headers=fest.cn["owner"]["headers"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "withdrawn"

    fest.at(fest.starts_at)
    response = client.delete(f"{base}/{other['enrollment_id']}", headers=fest.cn["owner"]["headers"])
    assert_problem(response, 409)
    statuses = {e["id"]: e["status"] for e in client.get(base, headers=fest.manager["headers"]).get_json()["items"]}
    assert statuses == {first["enrollment_id"]: "withdrawn", other["enrollment_id"]: "enrolled"}


def test_a_withdrawn_product_may_enroll_again(fest):
    campaign = fest.create()
    fest.act(campaign, "launch")
    (first,) = fest.enroll(campaign, fest.cn, fest.tea)
    fest.client.delete(f"{CAMPAIGNS}/{campaign['id']}/enrollments/{first['enrollment_id']}",
                       headers=fest.cn["owner"]["headers"])
    (again,) = fest.enroll(campaign, fest.cn, fest.tea)
    assert again["status"] == "enrolled"


def test_another_vendor_cannot_withdraw_an_enrollment(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")
    (result,) = fest.enroll(campaign, fest.cn, fest.tea)
    response = client.delete(f"{CAMPAIGNS}/{campaign['id']}/enrollments/{result['enrollment_id']}",
                             headers=fest.india["owner"]["headers"])
    assert_problem(response, 404)


def test_a_vendor_lists_only_its_own_enrollments(fest, client):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.cn, fest.tea)
    fest.enroll(campaign, fest.india, fest.shawl)
    base = f"{CAMPAIGNS}/{campaign['id']}/enrollments"
    mine = client.get(base, headers=fest.india["owner"]["headers"]).get_json()["items"]
    assert [e["product_id"] for e in mine] == [fest.shawl["id"]]
    assert len(client.get(base, headers=fest.manager["headers"]).get_json()["items"]) == 2
    assert_problem(client.get(base, headers=fest.shopper["headers"]), 403)


# -- results -----------------------------------------------------------------------------

def _rows(report: dict, section: str, key: str) -> dict:
    return {row[key]: row for row in report[section]}


def test_the_report_counts_paid_orders_per_currency_converted_by_country_and_vendor(fest, client, make):
    campaign = fest.running((fest.cn, fest.tea), (fest.india, fest.shawl))   # 15 % off
    ana, ivan, unpaid = make.user("shopper"), make.user("shopper"), make.user("shopper")
    fest.buy(ana, [(fest.tea, 2), (fest.shawl, 1)], currency="CNY", pay=True)
    fest.buy(ivan, [(fest.tea, 1)], currency="INR", pay=True)
    fest.buy(unpaid, [(fest.tea, 5)], currency="CNY")                        # never paid: not counted

    response = client.get(f"{CAMPAIGNS}/{campaign['id']}/report", query_string={"currency": "CNY"},
                          headers=fest.manager["headers"])
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["currency"] == "CNY" and report["campaign"]["slug"] == campaign["slug"]

    table = fest.rate_table()
    tea_cny, shawl_cny = Money(Decimal("200.00"), "CNY"), table.convert(Money(Decimal("2500.00"), "INR"), "CNY")
    tea_inr = table.convert(Money(Decimal("200.00"), "CNY"), "INR")

    def festival(price: Money) -> Money:
        return price - price * Decimal("0.15")

    # per currency: exact amounts as charged
    per_currency = _rows(report, "per_currency", "currency")
    assert set(per_currency) == {"CNY", "INR"}
    cny, inr = per_currency["CNY"], per_currency["INR"]
    assert (cny["orders"], cny["units"]) == (1, 3) and (inr["orders"], inr["units"]) == (1, 1)
    assert dec(cny["gmv"]) == (festival(tea_cny) * 2 + festival(shawl_cny)).amount
    assert dec(cny["discount"]) == (tea_cny * Decimal("0.15") * 2 + shawl_cny * Decimal("0.15")).amount
    assert dec(inr["gmv"]) == festival(tea_inr).amount and inr["gmv"]["currency"] == "INR"

    # totals: everything converted to the reporting currency
    totals = report["totals"]
    assert (totals["orders"], totals["units"]) == (2, 4)
    ivan_gmv_cny = table.convert(festival(tea_inr), "CNY")
    assert dec(totals["gmv"]) == dec(cny["gmv"]) + ivan_gmv_cny.amount
    assert totals["gmv"]["currency"] == "CNY"

    # by origin country and by vendor
    countries = _rows(report, "by_origin_country", "origin_country")
    assert set(countries) == {"CN", "IN"}
    assert countries["CN"]["units"] == 3 and countries["CN"]["orders"] == 2
    assert countries["IN"]["units"] == 1 and dec(countries["IN"]["gmv"]) == festival(shawl_cny).amount
    vendors = _rows(report, "by_vendor", "vendor_id")
    assert vendors[fest.cn["id"]]["vendor"] == "Yunnan Tea House" and vendors[fest.india["id"]]["units"] == 1
    assert sum(dec(v["gmv"]) for v in vendors.values()) == dec(totals["gmv"])
    assert sum(dec(c["discount"]) for c in countries.values()) == dec(totals["discount"])

    # both test vendors are MSMEs
    assert fest.cn["msme_class"] in ("micro", "small", "medium")
    assert Decimal(report["msme_share"]) == 1


def test_the_report_in_another_currency_converts_the_same_sales(fest, client, make):
    campaign = fest.running((fest.cn, fest.tea))
    fest.buy(make.user("shopper"), [(fest.tea, 2)], currency="CNY", pay=True)
    url = f"{CAMPAIGNS}/{campaign['id']}/report"
    in_cny = client.get(url, query_string={"currency": "CNY"}, headers=fest.manager["headers"]).get_json()
    in_usd = client.get(url, query_string={"currency": "USD"}, headers=fest.manager["headers"]).get_json()
    assert in_usd["currency"] == "USD" and in_usd["totals"]["gmv"]["currency"] == "USD"
    expected = fest.convert(in_cny["totals"]["gmv"]["amount"], "CNY", "USD")
    assert dec(in_usd["totals"]["gmv"]) == expected.amount
    assert in_usd["per_currency"] == in_cny["per_currency"]                  # per currency: never converted


def test_the_report_counts_only_this_campaigns_lines(fest, client, make):
    campaign = fest.running((fest.cn, fest.tea))                             # the shawl is not enrolled
    fest.buy(make.user("shopper"), [(fest.tea, 1), (fest.shawl, 4)], currency="CNY", pay=True)
    report = client.get(f"{CAMPAIGNS}/{campaign['id']}/report", query_string={"currency": "CNY"},
                        headers=fest.manager["headers"]).get_json()
    assert report["totals"]["units"] == 1 and report["totals"]["orders"] == 1
    assert [c["origin_country"] for c in report["by_origin_country"]] == ["CN"]


def test_the_msme_share_is_the_share_of_gmv_from_msme_vendors(fest, client, make):
    large = make.vendor("IN", employees=5000, annual_turnover={"amount": "90000000000.00", "currency": "INR"},
                        investment={"amount": "9000000000.00", "currency": "INR"})
    assert large["msme_class"] == "large"
    mill_shawl = create_product(client, large, sku="MILL-1", category="shawls-scarves", hs_code="621410",
                                price={"amount": "2500.00", "currency": "INR"})
    campaign = fest.running((fest.india, fest.shawl), (large, mill_shawl))
    fest.buy(make.user("shopper"), [(fest.shawl, 3), (mill_shawl, 1)], currency="INR", pay=True)
    report = client.get(f"{CAMPAIGNS}/{campaign['id']}/report", query_string={"currency": "INR"},
                        headers=fest.manager["headers"]).get_json()
    assert Decimal(report["msme_share"]) == Decimal("0.75")


def test_an_empty_report_has_zeros_and_no_msme_share(fest, client):
    campaign = fest.running((fest.cn, fest.tea))
    report = client.get(f"{CAMPAIGNS}/{campaign['id']}/report", headers=fest.manager["headers"]).get_json()
    assert report["totals"]["orders"] == 0 and dec(report["totals"]["gmv"]) == 0
    assert report["per_currency"] == [] and report["msme_share"] is None


def test_the_report_shows_refunds_spread_over_the_refunded_vendor_orders_lines(fest, client, make):
    campaign = fest.running((fest.cn, fest.tea), (fest.india, fest.shawl))
    order = fest.buy(make.user("shopper"), [(fest.tea, 2), (fest.shawl, 1)], currency="CNY", pay=True)
    tea_part = next(p for p in order["vendor_orders"] if p["vendor_id"] == fest.cn["id"])
    half = Money(dec(tea_part["total"]) / 2, "CNY")  # half of what was paid for the part (goods, shipping, duties)
    # the campaign's results count goods: the goods' share of the refund, pro rata to what was paid
    goods_refunded = Money(dec(tea_part["subtotal"]) * half.amount / dec(tea_part["total"]), "CNY").amount
    response = client.post(f"{ORDERS}/{order['id']}/refunds",
                           json={"vendor_order_id": tea_part["id"],
                                 "amount": {"amount": str(half.amount), "currency": "CNY"}},
                           headers=make.user("admin")["headers"])
    assert response.status_code == 201, response.get_json()
    url = f"{CAMPAIGNS}/{campaign['id']}/report"
    report = client.get(url, query_string={"currency": "CNY"}, headers=fest.manager["headers"]).get_json()

    totals, vendors = report["totals"], _rows(report, "by_vendor", "vendor_id")
    assert dec(totals["refunded"]) == goods_refunded                            # only the tea's vendor order
    assert dec(totals["net_gmv"]) == dec(totals["gmv"]) - goods_refunded
    assert dec(vendors[fest.cn["id"]]["refunded"]) == goods_refunded
    assert dec(vendors[fest.india["id"]]["refunded"]) == 0
    assert dec(vendors[fest.india["id"]]["net_gmv"]) == dec(vendors[fest.india["id"]]["gmv"])
    assert totals["orders"] == 1 and totals["units"] == 3                       # still a sale, partly refunded
    rows = {(r["section"], r["key"]): r for r in csv.DictReader(io.StringIO(client.get(
        url, query_string={"currency": "CNY", "format": "csv"}, headers=fest.manager["headers"]).get_data(as_text=True)))}
    assert Decimal(rows[("total", "")]["refunded"]) == goods_refunded
    assert Decimal(rows[("total", "")]["net_gmv"]) == dec(totals["net_gmv"])


def test_the_csv_report_has_the_same_numbers(fest, client, make):
    campaign = fest.running((fest.cn, fest.tea), (fest.india, fest.shawl))
    fest.buy(make.user("shopper"), [(fest.tea, 2), (fest.shawl, 1)], currency="CNY", pay=True)
    fest.buy(make.user("shopper"), [(fest.shawl, 1)], currency="INR", pay=True)
    url = f"{CAMPAIGNS}/{campaign['id']}/report"
    report = client.get(url, query_string={"currency": "CNY"}, headers=fest.manager["headers"]).get_json()
    response = client.get(url, query_string={"currency": "CNY", "format": "csv"}, headers=fest.manager["headers"])

    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_key = {(r["section"], r["key"]): r for r in rows}
    total = by_key[("total", "")]
    assert int(total["orders"]) == report["totals"]["orders"] and int(total["units"]) == report["totals"]["units"]
    assert Decimal(total["gmv"]) == dec(report["totals"]["gmv"])
    assert Decimal(total["discount"]) == dec(report["totals"]["discount"]) and total["currency"] == "CNY"
    for row in report["per_currency"]:
        line = by_key[("currency", row["currency"])]
        assert Decimal(line["gmv"]) == dec(row["gmv"]) and line["currency"] == row["currency"]
    for row in report["by_origin_country"]:
        line = by_key[("origin_country", row["origin_country"])]
        assert int(line["units"]) == row["units"] and Decimal(line["gmv"]) == dec(row["gmv"])
    for row in report["by_vendor"]:
        line = by_key[("vendor", f"{row['vendor_id']} {row['vendor']}")]
        assert int(line["orders"]) == row["orders"] and Decimal(line["discount"]) == dec(row["discount"])
    assert Decimal(by_key[("msme_share", "")]["gmv"]) == Decimal(report["msme_share"])


@pytest.mark.parametrize("role", ["shopper", "vendor"])
def test_only_managers_and_admins_see_the_report(fest, client, make, role):
    campaign = fest.create()
    url = f"{CAMPAIGNS}/{campaign['id']}/report"
    assert_problem(client.get(url, headers=make.user(role)["headers"]), 403)
    assert_problem(client.get(url), 401)
    assert client.get(url, headers=make.user("admin")["headers"]).status_code == 200


def test_the_report_refuses_an_unsupported_currency_or_format(fest, client):
    campaign = fest.create()
    url = f"{CAMPAIGNS}/{campaign['id']}/report"
    assert_problem(client.get(url, query_string={"currency": "XYZ"}, headers=fest.manager["headers"]), 422,
                   field="currency")
    assert_problem(client.get(url, query_string={"format": "xlsx"}, headers=fest.manager["headers"]), 422,
                   field="format")


def test_a_campaign_whose_slug_is_a_number_is_found_by_its_slug(fest, client):
    campaign = fest.create(slug="2025")
    fest.act(campaign, "launch")
    response = client.get(f"{CAMPAIGNS}/2025")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["id"] == campaign["id"]
