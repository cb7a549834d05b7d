"""A campaign's budget, stock cap and per-customer limit, enforced at checkout.

When a limit is reached the shopper pays the list price and the cart says why (a line note such as
campaign_budget_exhausted); cancelling an unpaid order gives its budget, stock-cap units and use
back. The first part runs on every database; the second (marked postgres) races real concurrent
checkouts from threads, each with its own `app.test_client()` (its own app context, session and
connection, as under a multi-threaded server), and is skipped on SQLite, which serialises writes.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import text

from marketplace.kernel.extensions import db
from promotions import pricing
from tests.api.test_campaigns import CAMPAIGNS, CHECKOUT, ORDERS, Festival, cart_lines
from tests.api.test_checkout import checkout_body, dec, new_key
from tests.api.test_products import create_product

FESTIVAL, LIST = "170.00", "200.00"          # the tea under 15 % off, and its list price (CNY)


@pytest.fixture
def fest(make, client, app) -> Festival:
    return Festival(make, client, app)


def campaign_state(fest: Festival, campaign: dict) -> dict:
    return fest.get(campaign)


def units_sold(fest: Festival, campaign: dict, product: dict) -> int:
    items = fest.client.get(f"{CAMPAIGNS}/{campaign['id']}/enrollments", headers=fest.manager["headers"]).get_json()
    (enrollment,) = [e for e in items["items"] if e["product_id"] == product["id"]]
    return enrollment["units_sold"]


def only_line(order: dict) -> dict:
    (line,) = order["lines"]
    return line


def cancel(fest: Festival, shopper: dict, order: dict) -> None:
    response = fest.client.post(f"{ORDERS}/{order['id']}/cancel", headers=shopper["headers"])
    assert response.status_code == 200, response.get_json()


# -- budget -------------------------------------------------------------------------------

def test_a_budget_just_enough_for_one_discount_gives_it_once_then_the_cart_says_why(fest, make):
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "30.00", "currency": "CNY"})
    ana, bruno = make.user("shopper"), make.user("shopper")

    first = fest.buy(ana, [(fest.tea, 1)])
    assert only_line(first)["unit_price"]["amount"] == FESTIVAL
    assert only_line(first)["campaign"]["slug"] == campaign["slug"]
    assert campaign_state(fest, campaign)["budget_spent"]["amount"] == "30.00"

    fest.add(bruno, fest.tea)
    (line,) = cart_lines(fest.cart(bruno))
    assert line["unit_price"]["amount"] == LIST and line["campaign"] is None
    assert line["notes"] == ["campaign_budget_exhausted"]
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == LIST
    second = fest.checkout(bruno)
    assert only_line(second)["unit_price"]["amount"] == LIST and only_line(second)["campaign"] is None
    assert campaign_state(fest, campaign)["budget_spent"]["amount"] == "30.00"


def test_a_remaining_budget_smaller_than_one_discount_is_exhausted_for_that_product(fest, make):
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "50.00", "currency": "CNY"})
    fest.buy(make.user("shopper"), [(fest.tea, 1)])                          # 30 of 50 spent: 20 left < 30
    bruno = make.user("shopper")
    fest.add(bruno, fest.tea)
    (line,) = cart_lines(fest.cart(bruno))
    assert line["unit_price"]["amount"] == LIST and line["notes"] == ["campaign_budget_exhausted"]
    assert only_line(fest.checkout(bruno))["unit_price"]["amount"] == LIST
    assert campaign_state(fest, campaign)["budget_spent"]["amount"] == "30.00"


def test_a_line_whose_discount_exceeds_the_remaining_budget_pays_the_list_price(fest, make):
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "50.00", "currency": "CNY"})
    order = fest.buy(make.user("shopper"), [(fest.tea, 2)])                 # 2 x 30 > 50
    assert only_line(order)["unit_price"]["amount"] == LIST and only_line(order)["campaign"] is None
    assert dec(campaign_state(fest, campaign)["budget_spent"]) == 0


def test_a_budget_in_another_currency_is_charged_the_converted_discount(fest, make):
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "1000.00", "currency": "USD"})
    fest.buy(make.user("shopper"), [(fest.tea, 2)], currency="CNY")
    spent = campaign_state(fest, campaign)["budget_spent"]
    assert spent["currency"] == "USD" and dec(spent) == fest.convert("60.00", "CNY", "USD").amount


def test_an_exhausted_budget_blocks_every_product_of_the_campaign(fest, make):
    fest.running((fest.cn, fest.tea), (fest.india, fest.shawl), budget={"amount": "30.00", "currency": "CNY"})
    fest.buy(make.user("shopper"), [(fest.tea, 1)])
    page = fest.product(fest.shawl, "INR")
    assert page["price"] == page["list_price"] and page["campaign"] is None


def test_one_order_with_several_products_spends_the_budget_line_by_line(fest, make, client):
    oolong = create_product(client, fest.cn, sku="OOLONG-1", price={"amount": "200.00", "currency": "CNY"})
    campaign = fest.running((fest.cn, fest.tea), (fest.cn, oolong), budget={"amount": "75.00", "currency": "CNY"})
    order = fest.buy(make.user("shopper"), [(fest.tea, 1), (oolong, 1)])     # 30 + 30 <= 75
    assert [line["unit_price"]["amount"] for line in order["lines"]] == [FESTIVAL, FESTIVAL]
    assert campaign_state(fest, campaign)["budget_spent"]["amount"] == "60.00"
    third = fest.buy(make.user("shopper"), [(fest.tea, 1), (oolong, 1)])     # 15 left: neither
    assert [line["unit_price"]["amount"] for line in third["lines"]] == [LIST, LIST]


def test_a_paid_order_keeps_its_budget(fest, make):
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "30.00", "currency": "CNY"})
    fest.buy(make.user("shopper"), [(fest.tea, 1)], pay=True)
    assert campaign_state(fest, campaign)["budget_spent"]["amount"] == "30.00"
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == LIST


def test_raising_the_budget_of_a_live_campaign_lets_discounts_flow_again(fest, make):
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "30.00", "currency": "CNY"})
    fest.buy(make.user("shopper"), [(fest.tea, 1)])
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == LIST
    fest.at(fest.INSIDE + timedelta(minutes=1))
    response = fest.client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"budget": {"amount": "60.00", "currency": "CNY"}},
                                 headers=fest.manager["headers"])
    assert response.status_code == 200, response.get_json()
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == FESTIVAL
    too_low = fest.client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"budget": {"amount": "10.00", "currency": "CNY"}},
                                headers=fest.manager["headers"])
    assert too_low.status_code == 422                                       # below what was already given


# -- stock cap --------------------------------------------------------------------------------

def test_a_stock_cap_sells_n_units_at_the_festival_price_per_product(fest, make):
    campaign = fest.running((fest.cn, fest.tea), (fest.india, fest.shawl), stock_cap=2)
    first = fest.buy(make.user("shopper"), [(fest.tea, 2)])
    assert only_line(first)["unit_price"]["amount"] == FESTIVAL and units_sold(fest, campaign, fest.tea) == 2

    bruno = make.user("shopper")
    fest.add(bruno, fest.tea)
    fest.add(bruno, fest.shawl)                                              # another product: its own cap
    lines = {line["product_id"]: line for line in cart_lines(fest.cart(bruno, "INR"))}
    assert lines[fest.tea["id"]]["notes"] == ["campaign_stock_cap_reached"]
    assert lines[fest.tea["id"]]["campaign"] is None
    assert lines[fest.shawl["id"]]["notes"] == [] and lines[fest.shawl["id"]]["campaign"]["slug"] == campaign["slug"]
    order = fest.checkout(bruno, "INR")
    ordered = {line["product_id"]: line for line in order["lines"]}
    assert ordered[fest.tea["id"]]["campaign"] is None
    assert ordered[fest.tea["id"]]["unit_price"] == ordered[fest.tea["id"]]["list_price"]
    assert ordered[fest.shawl["id"]]["campaign"]["slug"] == campaign["slug"]
    assert units_sold(fest, campaign, fest.tea) == 2 and units_sold(fest, campaign, fest.shawl) == 1


def test_a_line_larger_than_what_is_left_under_the_cap_pays_the_list_price(fest, make):
    campaign = fest.running((fest.cn, fest.tea), stock_cap=3)
    fest.buy(make.user("shopper"), [(fest.tea, 2)])
    order = fest.buy(make.user("shopper"), [(fest.tea, 2)])                 # 2 + 2 > 3
    assert only_line(order)["unit_price"]["amount"] == LIST
    assert units_sold(fest, campaign, fest.tea) == 2
    last = fest.buy(make.user("shopper"), [(fest.tea, 1)])                  # the last unit under the cap
    assert only_line(last)["unit_price"]["amount"] == FESTIVAL
    assert units_sold(fest, campaign, fest.tea) == 3


def test_the_cart_says_when_a_line_is_larger_than_what_is_left_under_the_cap(fest, make):
    fest.running((fest.cn, fest.tea), stock_cap=3)
    fest.buy(make.user("shopper"), [(fest.tea, 2)])
    bruno = make.user("shopper")
    fest.add(bruno, fest.tea, 2)                                            # 2 + 2 > 3
    (line,) = cart_lines(fest.cart(bruno))
    assert line["unit_price"]["amount"] == LIST and line["notes"] == ["campaign_stock_cap_reached"]
    assert only_line(fest.checkout(bruno))["unit_price"]["amount"] == LIST   # what the cart said
    carla = make.user("shopper")
    fest.add(carla, fest.tea, 1)                                            # the one unit left
    (line,) = cart_lines(fest.cart(carla))
    assert line["unit_price"]["amount"] == FESTIVAL and line["notes"] == []


def test_the_cart_says_when_a_lines_discount_is_more_than_the_budget_left(fest, make):
    fest.running((fest.cn, fest.tea), budget={"amount": "75.00", "currency": "CNY"})   # 2.5 discounts of 30
    ana = make.user("shopper")
    fest.add(ana, fest.tea, 3)
    (line,) = cart_lines(fest.cart(ana))
    assert line["unit_price"]["amount"] == LIST and line["notes"] == ["campaign_budget_exhausted"]
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == FESTIVAL     # one unit still fits
    assert only_line(fest.checkout(ana))["unit_price"]["amount"] == LIST
    bruno = make.user("shopper")
    fest.add(bruno, fest.tea, 2)
    (line,) = cart_lines(fest.cart(bruno))
    assert line["unit_price"]["amount"] == FESTIVAL and line["notes"] == []
    assert only_line(fest.checkout(bruno))["unit_price"]["amount"] == FESTIVAL


# -- search follows the limits ---------------------------------------------------------------------

def in_campaign(fest: Festival, campaign: dict) -> set[int]:
    response = fest.client.get("/api/v1/search", query_string={"campaign": campaign["slug"]})
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


def test_when_the_budget_runs_out_every_product_leaves_the_campaign_in_search_and_comes_back_on_cancel(
        fest, make, runner):
    campaign = fest.running((fest.cn, fest.tea), (fest.india, fest.shawl), budget={"amount": "30.00", "currency": "CNY"})
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0            # the index learns of the start
    assert in_campaign(fest, campaign) == {fest.tea["id"], fest.shawl["id"]}
    ana = make.user("shopper")
    order = fest.buy(ana, [(fest.tea, 1)])                                    # spends the whole budget

    assert in_campaign(fest, campaign) == set()                               # the shawl too, untouched itself
    cancel(fest, ana, order)
    assert in_campaign(fest, campaign) == {fest.tea["id"], fest.shawl["id"]}


def test_a_product_capped_out_leaves_the_campaign_in_search_and_comes_back_on_cancel(fest, make, runner):
    campaign = fest.running((fest.cn, fest.tea), (fest.india, fest.shawl), stock_cap=2)
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    ana = make.user("shopper")
    order = fest.buy(ana, [(fest.tea, 2)])

    assert in_campaign(fest, campaign) == {fest.shawl["id"]}
    cancel(fest, ana, order)
    assert in_campaign(fest, campaign) == {fest.tea["id"], fest.shawl["id"]}


# -- per-customer limit -------------------------------------------------------------------------

def test_a_customer_past_the_limit_pays_the_list_price_and_the_cart_says_why(fest, make):
    campaign = fest.running((fest.cn, fest.tea), max_uses_per_customer=1)
    ana = make.user("shopper")
    assert only_line(fest.buy(ana, [(fest.tea, 3)]))["unit_price"]["amount"] == FESTIVAL   # a use is an order

    fest.add(ana, fest.tea)
    (line,) = cart_lines(fest.cart(ana))
    assert line["unit_price"]["amount"] == LIST and line["notes"] == ["campaign_customer_limit_reached"]
    assert only_line(fest.checkout(ana))["campaign"] is None
    # the limit is per customer: others still get the festival price, anonymous visitors see it
    assert fest.product(fest.tea, "CNY")["price"]["amount"] == FESTIVAL
    assert only_line(fest.buy(make.user("shopper"), [(fest.tea, 1)]))["campaign"]["slug"] == campaign["slug"]


def test_one_order_with_several_products_of_a_campaign_is_one_use(fest, make):
    fest.running((fest.cn, fest.tea), (fest.india, fest.shawl), max_uses_per_customer=1)
    order = fest.buy(make.user("shopper"), [(fest.tea, 1), (fest.shawl, 1)])
    assert all(line["campaign"] is not None for line in order["lines"])


def test_a_limit_of_two_allows_two_orders(fest, make):
    fest.running((fest.cn, fest.tea), max_uses_per_customer=2)
    ana = make.user("shopper")
    prices = [only_line(fest.buy(ana, [(fest.tea, 1)]))["unit_price"]["amount"] for _ in range(3)]
    assert prices == [FESTIVAL, FESTIVAL, LIST]


# -- cancelling gives the limits back ---------------------------------------------------------------

def test_cancelling_an_unpaid_order_gives_its_budget_back(fest, make):
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "30.00", "currency": "CNY"})
    ana, bruno = make.user("shopper"), make.user("shopper")
    order = fest.buy(ana, [(fest.tea, 1)])
    fest.add(bruno, fest.tea)
    assert cart_lines(fest.cart(bruno))[0]["notes"] == ["campaign_budget_exhausted"]

    cancel(fest, ana, order)
    assert dec(campaign_state(fest, campaign)["budget_spent"]) == 0
    (line,) = cart_lines(fest.cart(bruno))
    assert line["unit_price"]["amount"] == FESTIVAL and line["notes"] == []
    assert only_line(fest.checkout(bruno))["unit_price"]["amount"] == FESTIVAL


def test_cancelling_an_unpaid_order_gives_its_stock_cap_units_back(fest, make):
    campaign = fest.running((fest.cn, fest.tea), stock_cap=2)
    ana = make.user("shopper")
    order = fest.buy(ana, [(fest.tea, 2)])
    assert units_sold(fest, campaign, fest.tea) == 2
    cancel(fest, ana, order)
    assert units_sold(fest, campaign, fest.tea) == 0
    assert only_line(fest.buy(make.user("shopper"), [(fest.tea, 2)]))["unit_price"]["amount"] == FESTIVAL


def test_cancelling_an_unpaid_order_gives_the_customer_its_use_back(fest, make):
    fest.running((fest.cn, fest.tea), max_uses_per_customer=1)
    ana = make.user("shopper")
    cancel(fest, ana, fest.buy(ana, [(fest.tea, 1)]))
    assert only_line(fest.buy(ana, [(fest.tea, 1)]))["unit_price"]["amount"] == FESTIVAL


def test_a_use_given_back_by_an_earlier_order_can_be_taken_again(fest, make):
    fest.running((fest.cn, fest.tea), max_uses_per_customer=2)
    ana = make.user("shopper")
    first = fest.buy(ana, [(fest.tea, 1)])
    fest.buy(ana, [(fest.tea, 1)])
    cancel(fest, ana, first)                                                 # one use left of two
    assert only_line(fest.buy(ana, [(fest.tea, 1)]))["unit_price"]["amount"] == FESTIVAL
    assert only_line(fest.buy(ana, [(fest.tea, 1)]))["unit_price"]["amount"] == LIST


def test_an_expired_reservation_gives_its_limits_back_through_the_worker(fest, make, runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "RESERVATION_MINUTES", 5)
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "30.00", "currency": "CNY"}, stock_cap=1,
                            max_uses_per_customer=1)
    ana = make.user("shopper")
    fest.buy(ana, [(fest.tea, 1)])
    fest.at(fest.INSIDE + timedelta(minutes=6))
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert dec(campaign_state(fest, campaign)["budget_spent"]) == 0 and units_sold(fest, campaign, fest.tea) == 0
    assert only_line(fest.buy(ana, [(fest.tea, 1)]))["unit_price"]["amount"] == FESTIVAL


def test_a_paid_order_cannot_be_cancelled_so_its_limits_stay_taken(fest, make):
    campaign = fest.running((fest.cn, fest.tea), stock_cap=1)
    ana = make.user("shopper")
    order = fest.buy(ana, [(fest.tea, 1)], pay=True)
    assert fest.client.post(f"{ORDERS}/{order['id']}/cancel", headers=ana["headers"]).status_code == 409
    assert units_sold(fest, campaign, fest.tea) == 1


# -- real concurrency (PostgreSQL) -------------------------------------------------------------------

@pytest.fixture
def engine(app):
    """The test database's engine, PostgreSQL only (no app context is kept open: requests from this thread
    would share it, its session and its `g`)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL): concurrent transactions and row locks; "
                    "SQLite serialises every write, so there is no race to test")
    return engine


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def race(app, shoppers: list[dict], currency: str = "CNY") -> list:
    """Every shopper checks out at the same moment, each from its own thread and test client."""
    barrier = threading.Barrier(len(shoppers))

    def one(shopper: dict):
        client = app.test_client()
        headers = {**shopper["headers"], "Idempotency-Key": new_key()}
        barrier.wait()
        return client.post(CHECKOUT, json=checkout_body(currency), headers=headers)

    with ThreadPoolExecutor(max_workers=len(shoppers)) as pool:
        return list(pool.map(one, shoppers))


def unit_prices(responses) -> list[str]:
    assert [r.status_code for r in responses] == [201] * len(responses), [r.get_json() for r in responses]
    return sorted(only_line(r.get_json()["order"])["unit_price"]["amount"] for r in responses)


def shoppers_with_the_tea_in_their_carts(fest: Festival, make, count: int, quantity: int = 1) -> list[dict]:
    shoppers = [make.user("shopper") for _ in range(count)]
    for shopper in shoppers:
        fest.add(shopper, fest.tea, quantity)
    return shoppers


@pytest.mark.postgres
def test_concurrent_checkouts_cannot_both_spend_the_last_of_a_budget(fest, make, app, engine):
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "30.00", "currency": "CNY"})   # one discount
    shoppers = shoppers_with_the_tea_in_their_carts(fest, make, 2)
    assert unit_prices(race(app, shoppers)) == [FESTIVAL, LIST]
    assert campaign_state(fest, campaign)["budget_spent"]["amount"] == "30.00"


@pytest.mark.postgres
def test_many_concurrent_checkouts_share_a_budget_for_one_discount_exactly_once(fest, make, app, engine):
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "45.00", "currency": "CNY"})   # 1.5 discounts
    shoppers = shoppers_with_the_tea_in_their_carts(fest, make, 8)
    assert unit_prices(race(app, shoppers)) == [FESTIVAL] + [LIST] * 7
    assert campaign_state(fest, campaign)["budget_spent"]["amount"] == "30.00"
    given = scalar(engine, "SELECT count(*) FROM order_lines WHERE unit_price_amount < list_price_amount")
    assert given == 1


@pytest.mark.postgres
def test_a_budget_for_three_discounts_gives_exactly_three_under_concurrency(fest, make, app, engine):
    campaign = fest.running((fest.cn, fest.tea), budget={"amount": "90.00", "currency": "CNY"})
    shoppers = shoppers_with_the_tea_in_their_carts(fest, make, 8)
    assert unit_prices(race(app, shoppers)) == [FESTIVAL] * 3 + [LIST] * 5
    assert campaign_state(fest, campaign)["budget_spent"]["amount"] == "90.00"


@pytest.mark.postgres
def test_a_budget_shared_by_different_products_gives_exactly_what_it_covers_under_concurrency(fest, make, app,
                                                                                               engine, client,
                                                                                               monkeypatch):
    """Different products: no stock row lock lines the checkouts up, only the campaign's budget."""
    teas = [create_product(client, fest.cn, sku=f"TEA-{n}", price={"amount": "200.00", "currency": "CNY"})
            for n in range(8)]
    campaign = fest.running(*[(fest.cn, tea) for tea in teas], budget={"amount": "120.00", "currency": "CNY"})
    shoppers = [make.user("shopper") for _ in teas]
    for shopper, tea in zip(shoppers, teas):
        fest.add(shopper, tea)
    app.extensions.pop(pricing.OFFER_INDEX, None)    # a fresh server process: each checkout loads the offers
    assert unit_prices(race(app, shoppers)) == [FESTIVAL] * 4 + [LIST] * 4      # 4 x 30 = 120
    assert campaign_state(fest, campaign)["budget_spent"]["amount"] == "120.00"


@pytest.mark.postgres
def test_a_stock_cap_of_n_sells_exactly_n_units_at_the_festival_price_to_more_concurrent_buyers(fest, make, app,
                                                                                                  engine):
    campaign = fest.running((fest.cn, fest.tea), stock_cap=3)
    shoppers = shoppers_with_the_tea_in_their_carts(fest, make, 10)
    assert unit_prices(race(app, shoppers)) == [FESTIVAL] * 3 + [LIST] * 7
    assert units_sold(fest, campaign, fest.tea) == 3
    festival_units = scalar(engine, "SELECT coalesce(sum(quantity), 0) FROM order_lines "
                                    "WHERE product_id = :p AND unit_price_amount < list_price_amount", p=fest.tea["id"])
    assert festival_units == 3


@pytest.mark.postgres
def test_the_stock_cap_counts_units_not_orders_under_concurrency(fest, make, app, engine):
    campaign = fest.running((fest.cn, fest.tea), stock_cap=5)
    shoppers = shoppers_with_the_tea_in_their_carts(fest, make, 6, quantity=2)
    prices = unit_prices(race(app, shoppers))
    assert prices == [FESTIVAL] * 2 + [LIST] * 4                              # 2 + 2 <= 5 < 2 + 2 + 2
    assert units_sold(fest, campaign, fest.tea) == 4


@pytest.mark.postgres
def test_concurrent_checkouts_of_one_customer_take_the_per_customer_limit_once(fest, make, app, engine):
    campaign = fest.running((fest.cn, fest.tea), max_uses_per_customer=1)
    ana = make.user("shopper")
    fest.add(ana, fest.tea)
    answers = race(app, [ana] * 4)             # one cart, four checkouts at once (a double-clicking shopper)
    assert sorted(r.status_code for r in answers) == [201, 422, 422, 422]   # one cart makes one order
    assert all(r.get_json()["code"] == "cart_empty" for r in answers if r.status_code == 422)
    uses = scalar(engine, "SELECT count(*) FROM campaign_uses WHERE campaign_id = :c AND user_id = :u",
                  c=campaign["id"], u=ana["id"])
    discounted = scalar(engine, "SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                                "WHERE o.user_id = :u AND l.unit_price_amount < l.list_price_amount", u=ana["id"])
    orders = scalar(engine, "SELECT count(*) FROM orders WHERE user_id = :u", u=ana["id"])
    assert uses == 1 and discounted == 1 and orders == 1


@pytest.mark.postgres
def test_cancelling_under_concurrency_gives_a_stock_cap_unit_to_exactly_one_waiting_buyer(fest, make, app, engine):
    campaign = fest.running((fest.cn, fest.tea), stock_cap=1)
    ana = make.user("shopper")
    order = fest.buy(ana, [(fest.tea, 1)])
    cancel(fest, ana, order)
    shoppers = shoppers_with_the_tea_in_their_carts(fest, make, 6)
    assert unit_prices(race(app, shoppers)) == [FESTIVAL] + [LIST] * 5
    assert units_sold(fest, campaign, fest.tea) == 1
