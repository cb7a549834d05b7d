"""Prices under festival campaigns, through the HTTP API: one pricing function everywhere.

list price -> converted to the shopper's currency -> the best applicable active campaign (one per
product, the larger discount wins) -> rounded half up to minor units. The product page, search
(items, price filters, price sorts), the campaign's product list, the cart, checkout and order lines
all agree; a discount shows price, list_price and campaign {slug, name, ends_at}; there is none
before the start, after the end or while paused. Search boosts enrolled products of active
campaigns and filters by campaign; the index learns of starts and ends from the worker, without a
full reindex.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from marketplace.kernel.money import Money, minor_units
from tests.api.test_campaigns import (
    CAMPAIGNS,
    SEARCH,
    Festival,
    assert_problem,
    cart_lines,
    when,
)
from tests.api.test_checkout import dec
from tests.api.test_products import create_product


@pytest.fixture
def fest(make, client, app) -> Festival:
    return Festival(make, client, app)


def percent_off(list_price: dict, percent: str) -> Decimal:
    """The expected festival price, computed independently: the discount rounded half up to minor units."""
    amount, places = dec(list_price), minor_units(list_price["currency"])
    off = (amount * Decimal(percent) / 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return amount - off


def search(client, **params: Any) -> dict[str, Any]:
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["items"]]


def worker(runner) -> None:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


# -- the product page through the window ------------------------------------------

def test_no_discount_before_the_start_the_festival_price_inside_none_after_the_end(fest):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.cn, fest.tea)

    before = fest.product(fest.tea, "CNY")
    assert before["price"] == before["list_price"] and before["price"]["amount"] == "200.00"
    assert before["campaign"] is None

    fest.at(fest.INSIDE)
    inside = fest.product(fest.tea, "CNY")
    assert inside["price"]["amount"] == "170.00" and inside["list_price"]["amount"] == "200.00"
    assert inside["original_price"] == {**inside["original_price"], "amount": "200.00", "currency": "CNY"}
    assert inside["campaign"]["slug"] == campaign["slug"]
    assert inside["campaign"]["name"] == "Buy BRICS Double 11"
    assert when(inside["campaign"]["ends_at"]) == fest.ends_at

    fest.at(fest.AFTER)
    after = fest.product(fest.tea, "CNY")
    assert after["price"]["amount"] == "200.00" and after["campaign"] is None


def test_no_discount_while_paused_and_again_after_resuming(fest):
    campaign = fest.running((fest.cn, fest.tea))
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == "170.00"
    fest.act(campaign, "pause")
    paused = fest.product(fest.tea, "CNY")
    assert paused["price"]["amount"] == "200.00" and paused["campaign"] is None
    fest.act(campaign, "resume")
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == "170.00"


def test_no_discount_after_the_campaign_is_ended_early(fest):
    campaign = fest.running((fest.cn, fest.tea))
    fest.act(campaign, "end")
    assert fest.product(fest.tea, "CNY")["campaign"] is None


def test_no_discount_for_a_draft_campaign_even_inside_its_window(fest, client):
    campaign = fest.create()
    fest.at(fest.INSIDE)
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.cn, fest.tea)
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == "170.00"
    other = fest.create(discount={"type": "percent", "value": "90"})          # never launched
    assert fest.get(other)["status"] == "draft"
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == "170.00"


def test_the_campaign_name_on_a_product_is_in_the_shoppers_locale(fest, client):
    fest.running((fest.cn, fest.tea))
    response = client.get(f"/api/v1/products/{fest.tea['id']}", query_string={"currency": "CNY", "locale": "zh"})
    assert response.get_json()["campaign"]["name"] == "金砖好物双十一"


# -- the discount ----------------------------------------------------------------------

@pytest.mark.parametrize("currency", ["CNY", "BRL", "INR", "RUB", "USD", "IDR"])
@pytest.mark.parametrize("percent", ["15", "12.5", "33.3333"])
def test_a_percent_discount_applies_to_the_converted_price_rounded_half_up(fest, currency, percent):
    fest.running((fest.cn, fest.tea), (fest.india, fest.shawl), discount={"type": "percent", "value": percent})
    for product, original in ((fest.tea, Money(Decimal("200.00"), "CNY")), (fest.shawl, Money(Decimal("2500.00"), "INR"))):
        page = fest.product(product, currency)
        assert page["list_price"]["currency"] == page["price"]["currency"] == currency
        assert dec(page["list_price"]) == fest.rate_table().convert(original, currency).amount
        assert dec(page["price"]) == percent_off(page["list_price"], percent)


def test_a_fixed_discount_uses_each_currencys_own_amount(fest):
    fest.running((fest.cn, fest.tea), (fest.india, fest.shawl),
                 discount={"type": "fixed", "amounts": {"CNY": "20.00", "INR": "250.00"}})
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == "180.00"
    assert fest.product(fest.shawl, "INR")["price"]["amount"] == "2250.00"
    tea_in_rupees = fest.product(fest.tea, "INR")
    assert dec(tea_in_rupees["price"]) == dec(tea_in_rupees["list_price"]) - Decimal("250.00")


@pytest.mark.parametrize("currency", ["BRL", "RUB", "USD"])
def test_a_currency_without_its_own_fixed_amount_converts_the_first(fest, currency):
    fest.running((fest.cn, fest.tea), discount={"type": "fixed", "amounts": {"CNY": "20.00", "INR": "250.00"}})
    page = fest.product(fest.tea, currency)
    off = fest.convert("20.00", "CNY", currency)                       # the first amount, not the INR one
    assert dec(page["price"]) == dec(page["list_price"]) - off.amount


def test_a_fixed_discount_larger_than_the_price_makes_it_free_never_negative(fest):
    fest.running((fest.cn, fest.tea), discount={"type": "fixed", "amounts": {"CNY": "500.00"}})
    page = fest.product(fest.tea, "CNY")
    assert page["price"]["amount"] == "0.00" and page["list_price"]["amount"] == "200.00"


def test_when_two_campaigns_apply_the_larger_discount_wins(fest):
    cheap = create_product(fest.client, fest.cn, sku="DUST-1", price={"amount": "60.00", "currency": "CNY"})
    ten = fest.create(discount={"type": "percent", "value": "10"})
    fifty_yuan = fest.create(discount={"type": "fixed", "amounts": {"CNY": "50.00"}})
    for campaign in (ten, fifty_yuan):
        fest.act(campaign, "launch")
        fest.enroll(campaign, fest.cn, fest.tea, cheap)
    fest.at(fest.INSIDE)

    tea = fest.product(fest.tea, "CNY")                  # 10 % = 20 yuan < 50 yuan
    assert tea["price"]["amount"] == "150.00" and tea["campaign"]["slug"] == fifty_yuan["slug"]   # one, not both
    cheap_page = fest.product(cheap, "CNY")              # 10 % = 6 yuan < 50 yuan
    assert cheap_page["price"]["amount"] == "10.00" and cheap_page["campaign"]["slug"] == fifty_yuan["slug"]
    dear = create_product(fest.client, fest.cn, sku="VINTAGE-1", price={"amount": "2000.00", "currency": "CNY"})
    for campaign in (ten, fifty_yuan):
        fest.enroll(campaign, fest.cn, dear)
    dear_page = fest.product(dear, "CNY")                # 10 % = 200 yuan > 50 yuan
    assert dear_page["price"]["amount"] == "1800.00" and dear_page["campaign"]["slug"] == ten["slug"]


def test_the_best_campaign_is_chosen_again_when_one_of_them_pauses(fest):
    small = fest.create(discount={"type": "percent", "value": "10"})
    big = fest.create(discount={"type": "percent", "value": "40"})
    for campaign in (small, big):
        fest.act(campaign, "launch")
        fest.enroll(campaign, fest.cn, fest.tea)
    fest.at(fest.INSIDE)
    assert fest.product(fest.tea, "CNY")["campaign"]["slug"] == big["slug"]
    fest.act(big, "pause")
    page = fest.product(fest.tea, "CNY")
    assert page["price"]["amount"] == "180.00" and page["campaign"]["slug"] == small["slug"]


@pytest.mark.parametrize("how", ["not_enrolled", "withdrawn", "pending_approval", "rejected"])
def test_a_product_not_enrolled_pays_the_list_price(fest, client, how):
    campaign = fest.create(requires_approval=how in ("pending_approval", "rejected"))
    fest.act(campaign, "launch")
    if how != "not_enrolled":
        (result,) = fest.enroll(campaign, fest.cn, fest.tea)
        base = f"{CAMPAIGNS}/{campaign['id']}/enrollments/{result['enrollment_id']}"
        if how == "withdrawn":
            assert client.delete(base, headers=fest.cn["owner"]["headers"]).status_code == 200
        elif how == "rejected":
            assert client.post(f"{base}/reject", json={}, headers=fest.manager["headers"]).status_code == 200
    fest.at(fest.INSIDE)
    page = fest.product(fest.tea, "CNY")
    assert page["price"]["amount"] == "200.00" and page["campaign"] is None


def test_an_approved_enrollment_gets_the_festival_price(fest, client):
    campaign = fest.create(requires_approval=True)
    fest.act(campaign, "launch")
    (result,) = fest.enroll(campaign, fest.cn, fest.tea)
    fest.at(fest.INSIDE)
    assert fest.product(fest.tea, "CNY")["campaign"] is None
    client.post(f"{CAMPAIGNS}/{campaign['id']}/enrollments/{result['enrollment_id']}/approve", json={},
                headers=fest.manager["headers"])
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == "170.00"


def test_a_campaigns_discount_changed_while_a_draft_prices_with_the_new_value(fest, client):
    campaign = fest.create()
    client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"discount": {"type": "percent", "value": "40"}},
                 headers=fest.manager["headers"])
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.cn, fest.tea)
    fest.at(fest.INSIDE)
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == "120.00"


# -- everywhere the same price --------------------------------------------------------------

@pytest.mark.parametrize("currency", ["CNY", "BRL", "INR"])
def test_product_page_search_cart_checkout_and_order_lines_agree(fest, client, runner, currency):
    campaign = fest.running((fest.cn, fest.tea), (fest.india, fest.shawl), discount={"type": "percent", "value": "12.5"})
    worker(runner)
    pages = {p["id"]: fest.product(p, currency) for p in (fest.tea, fest.shawl)}
    found = {item["id"]: item for item in search(client, currency=currency)["items"]}
    fest.add(fest.shopper, fest.tea, 3)
    fest.add(fest.shopper, fest.shawl, 1)
    lines = {line["product_id"]: line for line in cart_lines(fest.cart(fest.shopper, currency))}
    order = fest.checkout(fest.shopper, currency)
    ordered = {line["product_id"]: line for line in order["lines"]}

    for product_id, page in pages.items():
        assert page["campaign"]["slug"] == campaign["slug"]
        assert found[product_id]["price"] == page["price"] and found[product_id]["list_price"] == page["list_price"]
        assert found[product_id]["campaign"] == page["campaign"]
        assert lines[product_id]["unit_price"] == page["price"] and lines[product_id]["list_price"] == page["list_price"]
        assert lines[product_id]["campaign"]["slug"] == campaign["slug"] and lines[product_id]["notes"] == []
        assert ordered[product_id]["unit_price"]["amount"] == page["price"]["amount"]
        assert ordered[product_id]["list_price"]["amount"] == page["list_price"]["amount"]
        assert ordered[product_id]["campaign"]["slug"] == campaign["slug"]
        assert Decimal(ordered[product_id]["campaign"]["discount_per_unit"]) == dec(page["list_price"]) - dec(page["price"])
        assert dec(ordered[product_id]["line_total"]) == dec(page["price"]) * ordered[product_id]["quantity"]
    assert dec(order["goods"]) == sum(dec(line["line_total"]) for line in order["lines"])
    assert dec(order["total"]) == dec(order["goods"]) + dec(order["shipping"]) + dec(order["duties_and_taxes"])
    again = client.get(f"/api/v1/orders/{order['id']}", headers=fest.shopper["headers"]).get_json()
    assert again["lines"] == order["lines"]


def test_an_order_keeps_its_festival_price_after_the_campaign_ends(fest, client):
    fest.running((fest.cn, fest.tea))
    order = fest.buy(fest.shopper, [(fest.tea, 2)])
    fest.at(fest.AFTER)
    again = client.get(f"/api/v1/orders/{order['id']}", headers=fest.shopper["headers"]).get_json()
    (line,) = again["lines"]
    assert line["unit_price"]["amount"] == "170.00" and line["list_price"]["amount"] == "200.00"
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == "200.00"


def test_the_cart_follows_the_clock(fest):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.cn, fest.tea)
    fest.add(fest.shopper, fest.tea, 2)
    (line,) = cart_lines(fest.cart(fest.shopper))
    assert line["unit_price"]["amount"] == "200.00" and line["campaign"] is None
    fest.at(fest.INSIDE)
    cart = fest.cart(fest.shopper)
    (line,) = cart_lines(cart)
    assert line["unit_price"]["amount"] == "170.00" and line["campaign"]["slug"] == campaign["slug"]
    assert line["line_total"]["amount"] == "340.00" and cart["total"]["amount"] == "340.00"
    fest.at(fest.AFTER)
    (line,) = cart_lines(fest.cart(fest.shopper))
    assert line["unit_price"]["amount"] == "200.00" and line["campaign"] is None and line["notes"] == []


def test_an_order_placed_after_the_end_pays_the_list_price(fest):
    fest.running((fest.cn, fest.tea))
    fest.add(fest.shopper, fest.tea, 1)
    fest.at(fest.AFTER)
    order = fest.checkout(fest.shopper)
    (line,) = order["lines"]
    assert line["unit_price"]["amount"] == "200.00" and line["campaign"] is None


# -- search: prices, filters, sorts, the campaign filter and boosts ------------------------------

def test_search_price_filters_see_the_festival_price(fest, client, runner):
    campaign = fest.create(discount={"type": "percent", "value": "50"})
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.cn, fest.tea)
    assert fest.tea["id"] not in ids(search(client, currency="CNY", price_max="150"))

    fest.at(fest.INSIDE)
    worker(runner)                                                     # the index learns of the start
    body = search(client, currency="CNY", price_max="100")
    assert fest.tea["id"] in ids(body)
    (item,) = [i for i in body["items"] if i["id"] == fest.tea["id"]]
    assert item["price"]["amount"] == "100.00" and item["list_price"]["amount"] == "200.00"
    # (the index keeps prices in the base currency rounded to its cents: a yuan apart is unambiguous)
    assert fest.tea["id"] not in ids(search(client, currency="CNY", price_min="101"))
    assert fest.tea["id"] not in ids(search(client, currency="CNY", price_max="99"))

    fest.at(fest.AFTER)
    worker(runner)                                                     # ... and of the end
    assert fest.tea["id"] not in ids(search(client, currency="CNY", price_max="150"))
    assert fest.tea["id"] in ids(search(client, currency="CNY", price_min="200"))


def test_a_discounted_product_sorts_by_its_festival_price(fest, client, runner):
    middle = create_product(client, fest.cn, sku="OOLONG-1", price={"amount": "150.00", "currency": "CNY"})
    cheap = create_product(client, fest.cn, sku="DUST-1", price={"amount": "120.00", "currency": "CNY"})
    only = {"origin_country": "CN", "currency": "CNY"}
    assert ids(search(client, sort="price_asc", **only)) == [cheap["id"], middle["id"], fest.tea["id"]]

    fest.running((fest.cn, fest.tea), discount={"type": "percent", "value": "30"})     # 200 -> 140
    worker(runner)
    ascending = search(client, sort="price_asc", **only)
    assert ids(ascending) == [cheap["id"], fest.tea["id"], middle["id"]]
    assert [i["price"]["amount"] for i in ascending["items"]] == ["120.00", "140.00", "150.00"]
    assert ids(search(client, sort="price_desc", **only)) == [middle["id"], fest.tea["id"], cheap["id"]]


def test_the_campaign_filter_follows_starts_and_ends_through_the_worker(fest, client, runner):
    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.cn, fest.tea)
    fest.enroll(campaign, fest.india, fest.shawl)
    assert ids(search(client, campaign=campaign["slug"])) == []        # scheduled: not yet

    fest.at(fest.INSIDE)
    worker(runner)
    assert sorted(ids(search(client, campaign=campaign["slug"]))) == sorted([fest.tea["id"], fest.shawl["id"]])
    assert ids(search(client, campaign="another-campaign")) == []

    fest.at(fest.AFTER)
    worker(runner)
    assert ids(search(client, campaign=campaign["slug"])) == []


def test_the_long_running_worker_learns_of_starts_and_ends_too(fest, client, app):
    """`flask worker` runs pass after pass in one app context; each pass must see the campaigns as they are."""
    from marketplace.kernel import worker as worker_module
    from marketplace.kernel.extensions import db

    campaign = fest.create()
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.cn, fest.tea)
    worker_context = app.app_context()       # one context for every pass, as in `flask worker`
    with worker_context:
        worker_module.run_once(db.session)   # scheduled: nothing to announce yet
    fest.at(fest.INSIDE)
    with worker_context:
        worker_module.run_once(db.session)
    assert ids(search(client, campaign=campaign["slug"])) == [fest.tea["id"]]
    fest.at(fest.AFTER)
    with worker_context:
        worker_module.run_once(db.session)
    assert ids(search(client, campaign=campaign["slug"])) == []
    assert fest.tea["id"] in ids(search(client, currency="CNY", price_min="200"))


def test_launching_inside_the_window_or_enrolling_while_active_reaches_search_at_once(fest, client):
    campaign = fest.create()
    fest.at(fest.INSIDE)
    fest.act(campaign, "launch")
    fest.enroll(campaign, fest.cn, fest.tea)                             # no worker run
    assert ids(search(client, campaign=campaign["slug"])) == [fest.tea["id"]]
    assert fest.tea["id"] in ids(search(client, currency="CNY", price_max="170"))


def test_pausing_resuming_and_ending_reach_search_at_once(fest, client, runner):
    campaign = fest.running((fest.cn, fest.tea))
    worker(runner)
    assert ids(search(client, campaign=campaign["slug"])) == [fest.tea["id"]]
    fest.act(campaign, "pause")
    assert ids(search(client, campaign=campaign["slug"])) == []
    fest.act(campaign, "resume")
    assert ids(search(client, campaign=campaign["slug"])) == [fest.tea["id"]]
    fest.act(campaign, "end")
    assert ids(search(client, campaign=campaign["slug"])) == []
    assert fest.tea["id"] not in ids(search(client, currency="CNY", price_max="170"))


def test_a_withdrawn_product_leaves_the_campaign_filter(fest, client):
    campaign = fest.create()
    fest.at(fest.starts_at - timedelta(minutes=1))
    fest.act(campaign, "launch")
    (result,) = fest.enroll(campaign, fest.cn, fest.tea)
    client.delete(f"{CAMPAIGNS}/{campaign['id']}/enrollments/{result['enrollment_id']}",
                  headers=fest.cn["owner"]["headers"])
    fest.at(fest.INSIDE)
    assert fest.product(fest.tea, "CNY")["campaign"] is None
    assert ids(search(client, campaign=campaign["slug"])) == []


def test_enrolled_products_of_active_campaigns_rank_first(fest, client, runner):
    # the tea is the oldest product: without a boost the newest come first
    newer = []
    for n in range(1, 3):
        fest.at(fest.t0 + timedelta(seconds=n))
        newer.append(create_product(client, fest.cn, sku=f"TEA-{n}", translations={"en": {"title": "Yunnan green tea"}},
                                    price={"amount": "200.00", "currency": "CNY"}))
    assert ids(search(client, origin_country="CN"))[-1] == fest.tea["id"]

    fest.running((fest.cn, fest.tea), boost="3")
    worker(runner)
    assert ids(search(client, origin_country="CN"))[0] == fest.tea["id"]
    assert ids(search(client, q="tea", origin_country="CN"))[0] == fest.tea["id"]
    assert {n["id"] for n in newer} <= set(ids(search(client, q="tea", origin_country="CN")))

    fest.at(fest.AFTER)
    worker(runner)
    assert ids(search(client, origin_country="CN"))[-1] == fest.tea["id"]


# -- the campaign's products ------------------------------------------------------------------

def test_the_campaigns_products_have_the_search_item_shape_and_filters(fest, client, runner):
    campaign = fest.running((fest.cn, fest.tea), (fest.india, fest.shawl))
    create_product(client, fest.cn, sku="NOT-ENROLLED", price={"amount": "90.00", "currency": "CNY"})
    worker(runner)
    url = f"{CAMPAIGNS}/{campaign['slug']}/products"

    response = client.get(url, query_string={"currency": "CNY", "sort": "price_asc"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    expected = search(client, campaign=campaign["slug"], currency="CNY", sort="price_asc")
    assert body == expected
    assert body["total"] == 2 and set(body["facets"]) == {"origin_country", "category", "vendor", "price"}
    assert all(item["campaign"]["slug"] == campaign["slug"] for item in body["items"])

    only_india = client.get(url, query_string={"origin_country": "IN", "currency": "CNY"}).get_json()
    assert ids(only_india) == [fest.shawl["id"]]
    tea_only = client.get(url, query_string={"q": "tea", "locale": "en"}).get_json()
    assert ids(tea_only) == [fest.tea["id"]]


def test_a_drafts_products_are_not_public_and_an_unknown_campaign_is_not_found(fest, client):
    draft = fest.create()
    assert_problem(client.get(f"{CAMPAIGNS}/{draft['slug']}/products"), 404)
    assert_problem(client.get(f"{CAMPAIGNS}/nothing-here/products"), 404)


def test_the_campaigns_products_refuse_a_campaign_argument(fest, client):
    campaign = fest.running((fest.cn, fest.tea))
    response = client.get(f"{CAMPAIGNS}/{campaign['slug']}/products", query_string={"campaign": "other"})
    assert_problem(response, 422)
