"""Returns through the HTTP API: a shopper asks to return delivered goods, the vendor answers, the goods come
back and are refunded from what was paid for them (or replaced); unanswered requests escalate to a dispute."""
from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import select

from catalog.models import Product
from marketplace.accounts.models import User
from marketplace.aftersale.demo_orders import delivered_order
from marketplace.aftersale.disputes.models import Dispute
from marketplace.aftersale.returns.escalation import escalate_overdue
from marketplace.checkout.models import PayoutEntry, Refund, VendorOrder
from marketplace.checkout.payments.base import PaymentError
from marketplace.kernel import clock, events, worker
from marketplace.kernel.outbox import OutboxEvent
from vendors.models import Vendor
from marketplace.kernel.money import minor_units
from tests.api.test_checkout import ADDRESS, ORDERS, PAYOUTS, VENDOR_ORDERS, Market, buy, confirm_payment, database, dec
from tests.api.test_products import assert_problem
from tests.integration.test_stripe_checkout import deliver_event, fake, intent_of, stripe_app  # noqa: F401 (fixtures)

RETURNS = "/api/v1/returns"
VENDOR_RETURNS = "/api/v1/vendor/returns"

_keys = itertools.count(1)


# -- helpers --------------------------------------------------------------------------------------

def deliver(client, vendor: dict, vendor_order_id: int) -> dict:
    response = client.post(f"{VENDOR_ORDERS}/{vendor_order_id}/ship",
                           json={"carrier": "BRICS Post", "tracking_number": f"BP{vendor_order_id}"},
                           headers=vendor["owner"]["headers"])
    assert response.status_code == 200, response.get_json()
    response = client.post(f"{VENDOR_ORDERS}/{vendor_order_id}/deliver", headers=vendor["owner"]["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def delivered(client, market: Market, items: list[tuple[dict, int]], currency: str = "BRL",
              pay=None) -> dict:
    """An order of `items`, paid (manual confirmation, or `pay(order_id)`) and delivered by every vendor."""
    order = buy(client, market.shopper, items, currency)
    if pay is None:
        confirm_payment(client, market.shopper, order["id"])
    else:
        pay(order["id"])
    vendors = {market.tea_vendor["id"]: market.tea_vendor, market.shawl_vendor["id"]: market.shawl_vendor}
    for part in order["vendor_orders"]:
        deliver(client, vendors[part["vendor_id"]], part["id"])
    return get_order(client, market.shopper, order["id"])


def get_order(client, shopper: dict, order_id: int) -> dict:
    response = client.get(f"{ORDERS}/{order_id}", headers=shopper["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def part_of(order: dict, vendor: dict) -> dict:
    (part,) = [v for v in order["vendor_orders"] if v["vendor_id"] == vendor["id"]]
    return part


def line_of(order: dict, product: dict) -> dict:
    (line,) = [line for line in order["lines"] if line["product_id"] == product["id"]]
    return line


def return_body(order: dict, product: dict, quantity: int = 1, reason: str = "damaged",
                resolution: str = "refund", **overrides: Any) -> dict:
    line = line_of(order, product)
    body = {"vendor_order_id": line["vendor_order_id"],
            "lines": [{"order_line_id": line["id"], "quantity": quantity, "reason": reason}],
            "resolution": resolution}
    body.update(overrides)
    return body


def post_return(client, shopper: dict, order_id: int, body: Any, key: str | None | bool = None):
    headers = dict(shopper["headers"])
    if key is not False:
        headers["Idempotency-Key"] = key or f"return-key-{next(_keys)}"
    return client.post(f"{ORDERS}/{order_id}/returns", json=body, headers=headers)


def ask(client, shopper: dict, order: dict, product: dict, quantity: int = 1, **overrides: Any) -> dict:
    response = post_return(client, shopper, order["id"], return_body(order, product, quantity, **overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, who: dict, ret: dict, action: str, body: dict | None = None, status: int = 200):
    response = client.post(f"{RETURNS}/{ret['id']}/{action}", json=body, headers=who["headers"])
    assert response.status_code == status, response.get_json()
    return response.get_json()


def take_back(client, market: Market, ret: dict, vendor: dict) -> dict:
    """approve -> ship -> receive: the return as the vendor last saw it."""
    act(client, vendor["owner"], ret, "approve")
    act(client, market.shopper, ret, "ship", {"carrier": "China Post", "tracking_number": "RR123456789CN"})
    return act(client, vendor["owner"], ret, "receive")


def partner_events(app, prefix: str = "return.") -> list[dict]:
    with database(app) as session:
        payloads = [e.payload for e in session.scalars(select(OutboxEvent).where(OutboxEvent.topic == events.TOPIC)
                                                       .order_by(OutboxEvent.id))]
    return [e for e in events.unpack(payloads) if e["type"].startswith(prefix)]


@pytest.fixture
def market(make, client) -> Market:
    return Market(make, client)



def owed_for(order: dict, vendor: dict, goods: Decimal) -> Decimal:
    """What returning goods worth `goods` (as paid) refunds: those goods and the duties collected on them, pro
    rata to the vendor order's goods, rounded once."""
    part = part_of(order, vendor)
    duties = dec(part["duties_collected"])
    places = Decimal(1).scaleb(-minor_units(part["subtotal"]["currency"]))
    return (goods + goods * duties / dec(part["subtotal"])).quantize(places, ROUND_HALF_UP)

# -- the whole flow ---------------------------------------------------------------------------------

def test_a_return_goes_from_request_to_refund_and_the_order_shows_it(market, client, app):
    order = delivered(client, market, [(market.tea, 3), (market.shawl, 1)])
    tea_line = line_of(order, market.tea)
    ret = ask(client, market.shopper, order, market.tea, 2, comment="Two cakes arrived crushed")

    assert ret["status"] == "requested" and ret["status_label"] == "Return requested"
    assert ret["resolution"] == "refund" and ret["comment"] == "Two cakes arrived crushed"
    assert ret["lines"][0]["reason"] == "damaged" and ret["lines"][0]["reason_label"] == "Arrived damaged"
    assert ret["lines"][0]["unit_price"] == tea_line["unit_price"]
    goods = dec(tea_line["unit_price"]) * 2
    owed = owed_for(order, market.tea_vendor, goods)  # the units as paid and the duties collected on them
    assert owed > goods
    assert dec(ret["refund"]) == owed and ret["refund"]["currency"] == "BRL" and ret["refund"]["formatted"]
    assert ret["refunded"] is None

    vendor = market.tea_vendor["owner"]
    approved = act(client, vendor, ret, "approve")
    assert approved["status"] == "approved"
    shipped = act(client, market.shopper, ret, "ship", {"carrier": "China Post", "tracking_number": "RR1CN"})
    assert shipped["status"] == "in_transit" and shipped["tracking_number"] == "RR1CN"
    done = act(client, vendor, ret, "receive")

    assert done["status"] == "refunded" and dec(done["refunded"]) == owed and done["refund_id"]
    assert [(h["from_status"], h["to_status"], h["actor_role"]) for h in done["history"]] == [
        (None, "requested", "shopper"), ("requested", "approved", "vendor"), ("approved", "in_transit", "shopper"),
        ("in_transit", "received", "vendor"), ("received", "refunded", "vendor")]
    assert all(h["created_at"] and h["actor_id"] for h in done["history"])

    shown = get_order(client, market.shopper, order["id"])
    assert dec(shown["refunded"]) == owed and shown["status"] == "partially_refunded"
    (refund,) = shown["refunds"]
    assert refund["vendor_order_id"] == tea_line["vendor_order_id"] and dec(refund["amount"]) == owed
    assert refund["status"] == "succeeded" and refund["id"] == done["refund_id"]
    # the units as paid and their duties, no shipping
    assert dec(refund["parts"]["goods"]) == goods and dec(refund["parts"]["shipping"]) == 0
    assert dec(refund["parts"]["duties_and_taxes"]) == owed - goods > 0
    assert dec(part_of(shown, market.tea_vendor)["refunded"]) == owed
    assert dec(part_of(shown, market.shawl_vendor)["refunded"]) == 0

    # the vendor's payout ledger: the commission and net reversal, in the vendor's currency
    ledger = client.get(PAYOUTS, headers=vendor["headers"]).get_json()["items"]
    (debit,) = [e for e in ledger if e["kind"] == "refund"]
    (credit,) = [e for e in ledger if e["kind"] == "credit"]
    assert debit["amount"]["currency"] == credit["amount"]["currency"] == "CNY"
    net = dec(credit["amount"])
    assert Decimal(0) < -dec(debit["amount"]) < net
    tea_part = part_of(shown, market.tea_vendor)
    expected = (goods * Decimal(tea_part["rate"]) * (1 - Decimal(tea_part["commission_rate"])))
    assert abs(-dec(debit["amount"]) - expected) <= Decimal("0.02")

    # every step is in the vendor order's thread and announced to the vendor's partners, without personal data
    thread = client.get(f"/api/v1/vendor-orders/{tea_line['vendor_order_id']}/messages",
                        query_string={"order": "oldest"}, headers=market.shopper["headers"]).get_json()["items"]
    assert [m["event"] for m in thread if m["event"]] == [
        "return.requested", "return.approved", "return.in_transit", "return.received", "return.refunded"]
    heard = partner_events(app)
    assert [e["type"] for e in heard] == ["return.requested", "return.approved", "return.in_transit",
                                          "return.received", "return.refunded"]
    assert all(e["vendor_ids"] == [market.tea_vendor["id"]] and e["data"]["return_id"] == ret["id"] for e in heard)
    assert market.shopper["email"] not in str(heard)


def test_the_refund_is_what_was_paid_not_todays_price(market, client):
    order = delivered(client, market, [(market.shawl, 2)], currency="RUB")
    paid = dec(line_of(order, market.shawl)["unit_price"])
    response = client.patch(f"/api/v1/products/{market.shawl['id']}", json={"price": {"amount": "9999.00",
                                                                                       "currency": "INR"}},
                            headers=market.shawl_vendor["owner"]["headers"])
    assert response.status_code == 200, response.get_json()
    ret = ask(client, market.shopper, order, market.shawl, 2)
    owed = owed_for(order, market.shawl_vendor, paid * 2)
    assert dec(ret["refund"]) == owed and ret["refund"]["currency"] == "RUB"
    done = take_back(client, market, ret, market.shawl_vendor)
    assert dec(done["refunded"]) == owed
    assert dec(get_order(client, market.shopper, order["id"])["refunded"]) == owed


def test_a_return_is_refunded_through_stripe_once(stripe_app, make, client, fake):
    market = Market(make, client)

    def pay(order_id: int) -> None:
        pi_id = intent_of(fake, order_id)
        fake.succeed(pi_id)
        assert deliver_event(client, fake, "payment_intent.succeeded", pi_id).status_code == 200

    order = delivered(client, market, [(market.tea, 2), (market.shawl, 1)], pay=pay)
    assert order["payment_provider"] == "stripe"
    ret = ask(client, market.shopper, order, market.shawl, 1, reason="defective")
    done = take_back(client, market, ret, market.shawl_vendor)

    assert done["status"] == "refunded" and done["refunded"] == ret["refund"]
    (sent,) = fake.requests_to("POST", "/v1/refunds")
    pi_id = intent_of(fake, order["id"])
    assert sent.params["payment_intent"] == pi_id and sent.idempotency_key == f"return-{ret['id']}-refund"
    assert sent.params["amount"] == str(int(dec(ret["refund"]) * 100))
    # Stripe then announces the refund: recognised, not booked twice
    charge_id = fake.payment_intents[pi_id]["latest_charge"]
    assert deliver_event(client, fake, "charge.refunded", charge_id).status_code == 200
    shown = get_order(client, market.shopper, order["id"])
    assert shown["refunded"] == ret["refund"] and len(shown["refunds"]) == 1
    assert shown["refunds"][0]["status"] == "succeeded"
    ledger = client.get(PAYOUTS, headers=market.shawl_vendor["owner"]["headers"]).get_json()["items"]
    (debit,) = [e for e in ledger if e["kind"] == "refund"]
    assert debit["amount"]["currency"] == "INR" and dec(debit["amount"]) < 0
    # receiving again refunds nothing more
    assert_problem(client.post(f"{RETURNS}/{ret['id']}/receive", headers=market.shawl_vendor["owner"]["headers"]),
                   409, "invalid_return_state")
    assert len(fake.requests_to("POST", "/v1/refunds")) == 1


def test_a_refund_the_provider_refuses_leaves_the_return_received_and_a_retry_refunds(stripe_app, make, client,
                                                                                      fake):
    market = Market(make, client)

    def pay(order_id: int) -> None:
        pi_id = intent_of(fake, order_id)
        fake.succeed(pi_id)
        assert deliver_event(client, fake, "payment_intent.succeeded", pi_id).status_code == 200

    order = delivered(client, market, [(market.tea, 1)], pay=pay)
    ret = ask(client, market.shopper, order, market.tea, 1)
    vendor = market.tea_vendor["owner"]
    act(client, vendor, ret, "approve")
    act(client, market.shopper, ret, "ship", {"carrier": "China Post", "tracking_number": "RR1CN"})
    fake.fail_next(500, code="api_error")
    failed = client.post(f"{RETURNS}/{ret['id']}/receive", headers=vendor["headers"])
    assert_problem(failed, 502, "payment_provider_error")
    shown = client.get(f"{RETURNS}/{ret['id']}", headers=vendor["headers"]).get_json()
    assert shown["status"] == "received" and shown["refunded"] is None
    assert get_order(client, market.shopper, order["id"])["refunds"] == []
    done = act(client, vendor, ret, "receive")
    assert done["status"] == "refunded" and done["refunded"] == ret["refund"]
    assert get_order(client, market.shopper, order["id"])["refunded"] == ret["refund"]


def test_a_replacement_return_ends_replaced_without_any_money(market, client):
    order = delivered(client, market, [(market.tea, 1)])
    ret = ask(client, market.shopper, order, market.tea, 1, reason="wrong_item", resolution="replacement")
    done = take_back(client, market, ret, market.tea_vendor)
    assert done["status"] == "replaced" and done["refunded"] is None and done["refund_id"] is None
    assert done["resolution_label"] == "Replacement"
    shown = get_order(client, market.shopper, order["id"])
    assert dec(shown["refunded"]) == 0 and shown["refunds"] == []


def test_partial_returns_and_several_returns_per_order_refund_each_their_units(market, client):
    order = delivered(client, market, [(market.tea, 3), (market.shawl, 2)])
    first = ask(client, market.shopper, order, market.tea, 1)
    second = ask(client, market.shopper, order, market.tea, 2, reason="changed_mind")
    third = ask(client, market.shopper, order, market.shawl, 1, reason="not_as_described")
    for ret, vendor in ((first, market.tea_vendor), (second, market.tea_vendor), (third, market.shawl_vendor)):
        assert take_back(client, market, ret, vendor)["status"] == "refunded"
    shown = get_order(client, market.shopper, order["id"])
    tea, shawl = dec(line_of(order, market.tea)["unit_price"]), dec(line_of(order, market.shawl)["unit_price"])
    tea_paid = dec(part_of(order, market.tea_vendor)["total"])  # every tea unit back: all that was paid for it
    teas = min(owed_for(order, market.tea_vendor, tea) + owed_for(order, market.tea_vendor, tea * 2), tea_paid)
    assert dec(shown["refunded"]) == teas + owed_for(order, market.shawl_vendor, shawl)
    assert len(shown["refunds"]) == 3
    assert part_of(shown, market.tea_vendor)["status"] == "refunded"
    assert part_of(shown, market.shawl_vendor)["status"] == "delivered"
    # every tea unit is back: none may be returned again
    response = post_return(client, market.shopper, order["id"], return_body(order, market.tea, 1))
    assert response.status_code in (409, 422)


def test_a_refund_never_exceeds_what_is_still_refundable(market, client):
    """An operator refunded most of the vendor order already: the return refunds only what is left."""
    order = delivered(client, market, [(market.tea, 2)])
    part = part_of(order, market.tea_vendor)
    unit = dec(line_of(order, market.tea)["unit_price"])
    left = Decimal("1.00")
    response = client.post(f"{ORDERS}/{order['id']}/refunds",
                           json={"vendor_order_id": part["id"],
                                 "amount": {"amount": str(dec(part["total"]) - left), "currency": "BRL"}},
                           headers=market.admin["headers"])
    assert response.status_code == 201, response.get_json()
    ret = ask(client, market.shopper, order, market.tea, 1)
    assert dec(ret["refund"]) == owed_for(order, market.tea_vendor, unit)
    done = take_back(client, market, ret, market.tea_vendor)
    assert done["status"] == "refunded" and dec(done["refunded"]) == left
    assert get_order(client, market.shopper, order["id"])["refunded"] == order["total"]


def test_a_return_with_nothing_left_to_refund_is_closed(market, client):
    order = delivered(client, market, [(market.tea, 1)])
    ret = ask(client, market.shopper, order, market.tea, 1)
    response = client.post(f"{ORDERS}/{order['id']}/refunds", json={}, headers=market.admin["headers"])
    assert response.status_code == 201, response.get_json()
    done = take_back(client, market, ret, market.tea_vendor)
    assert done["status"] == "closed" and dec(done["refunded"]) == 0 and done["refund_id"] is None
    assert done["history"][-1]["reason"] == "nothing was left to refund"
    assert len(get_order(client, market.shopper, order["id"])["refunds"]) == 1


def test_an_operator_closes_a_received_return_settled_otherwise(market, client, app, monkeypatch):
    order = delivered(client, market, [(market.tea, 1)])
    ret = ask(client, market.shopper, order, market.tea, 1)
    vendor = market.tea_vendor["owner"]
    act(client, vendor, ret, "approve")
    act(client, market.shopper, ret, "ship", {"carrier": "China Post", "tracking_number": "RR1CN"})
    provider = app.extensions["payment_provider"]

    def refuse(**kwargs):
        raise PaymentError("the provider is down", code="provider_down")

    monkeypatch.setattr(provider, "refund", refuse)
    assert_problem(client.post(f"{RETURNS}/{ret['id']}/receive", headers=vendor["headers"]), 502,
                   "payment_provider_error")
    assert_problem(client.post(f"{RETURNS}/{ret['id']}/close", json={"reason": "Refunded by bank transfer"},
                               headers=vendor["headers"]), 403)
    closed = act(client, market.admin, ret, "close", {"reason": "Refunded by bank transfer"})
    assert closed["status"] == "closed" and closed["history"][-1]["actor_role"] == "admin"
    assert [h["to_status"] for h in closed["history"]][-2:] == ["received", "closed"]


def test_the_idempotency_key_makes_one_return_and_replays_it(market, client):
    order = delivered(client, market, [(market.tea, 2)])
    body = return_body(order, market.tea, 1)
    first = post_return(client, market.shopper, order["id"], body, key="same-key")
    again = post_return(client, market.shopper, order["id"], body, key="same-key")
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    other = post_return(client, market.shopper, order["id"], return_body(order, market.tea, 2), key="same-key")
    assert_problem(other, 422, "idempotency_key_reused", "Idempotency-Key")
    listed = client.get(RETURNS, headers=market.shopper["headers"]).get_json()
    assert listed["total"] == 1


def test_a_change_sent_again_with_its_idempotency_key_gets_the_first_answer(market, client):
    order = delivered(client, market, [(market.tea, 1)])
    ret = ask(client, market.shopper, order, market.tea, 1)
    vendor = market.tea_vendor["owner"]
    act(client, vendor, ret, "approve")
    act(client, market.shopper, ret, "ship", {"carrier": "China Post", "tracking_number": "RR1CN"})
    headers = {**vendor["headers"], "Idempotency-Key": "receive-once"}
    first = client.post(f"{RETURNS}/{ret['id']}/receive", headers=headers)
    again = client.post(f"{RETURNS}/{ret['id']}/receive", headers=headers)
    assert first.status_code == again.status_code == 200, (first.get_json(), again.get_json())
    assert again.get_json() == first.get_json() and first.get_json()["status"] == "refunded"
    assert len(get_order(client, market.shopper, order["id"])["refunds"]) == 1
    # without the key, the change answers with the state it already reached
    body = assert_problem(client.post(f"{RETURNS}/{ret['id']}/receive", headers=vendor["headers"]), 409,
                          "invalid_return_state")
    assert body["current_status"] == "refunded"


# -- what may be returned ---------------------------------------------------------------------------

def test_the_return_window_closes_fourteen_days_after_delivery(market, client, app):
    order = delivered(client, market, [(market.tea, 2)])
    part = part_of(order, market.tea_vendor)
    moment = datetime.now(timezone.utc).replace(microsecond=0)
    clock.freeze(moment)

    def delivered_ago(age: timedelta) -> None:
        with database(app) as session:
            session.get(VendorOrder, part["id"]).delivered_at = moment - age
            session.commit()

    delivered_ago(timedelta(days=14, seconds=1))
    late = post_return(client, market.shopper, order["id"], return_body(order, market.tea, 1))
    body = assert_problem(late, 422, "return_window_closed", "vendor_order_id")
    assert datetime.fromisoformat(body["window_closed_at"]) == moment - timedelta(seconds=1)
    delivered_ago(timedelta(days=14))
    assert post_return(client, market.shopper, order["id"], return_body(order, market.tea, 1)).status_code == 201


def test_the_window_is_the_vendors_own_when_it_states_one(market, client, app):
    order = delivered(client, market, [(market.tea, 1)])
    part = part_of(order, market.tea_vendor)
    with database(app) as session:
        session.get(Vendor, market.tea_vendor["id"]).return_policy = {"window_days": 30}
        session.get(VendorOrder, part["id"]).delivered_at = datetime.now(timezone.utc) - timedelta(days=20)
        session.commit()
    assert post_return(client, market.shopper, order["id"], return_body(order, market.tea, 1)).status_code == 201


def test_never_more_units_than_bought_or_not_yet_returned(market, client):
    order = delivered(client, market, [(market.tea, 3)])
    too_many = post_return(client, market.shopper, order["id"], return_body(order, market.tea, 4))
    body = assert_problem(too_many, 422, "too_many_units", "lines.0.quantity")
    assert "3" in body["errors"]["lines.0.quantity"][0]
    first = ask(client, market.shopper, order, market.tea, 2)
    assert_problem(post_return(client, market.shopper, order["id"], return_body(order, market.tea, 2)),
                   422, "too_many_units", "lines.0.quantity")
    # a rejected return gives its units back
    act(client, market.tea_vendor["owner"], first, "reject", {"reason": "The seal is broken"})
    assert ask(client, market.shopper, order, market.tea, 3)["status"] == "requested"


def test_only_delivered_vendor_orders_and_their_own_lines(market, client):
    order = buy(client, market.shopper, [(market.tea, 1), (market.shawl, 1)])
    confirm_payment(client, market.shopper, order["id"])
    order = get_order(client, market.shopper, order["id"])
    body = assert_problem(post_return(client, market.shopper, order["id"], return_body(order, market.tea)),
                          409, "vendor_order_not_delivered", "vendor_order_id")
    assert body["current_status"] == "paid"
    deliver(client, market.tea_vendor, part_of(order, market.tea_vendor)["id"])
    # the shawl's line does not belong to the tea vendor's order
    wrong = return_body(order, market.tea)
    wrong["lines"].append({"order_line_id": line_of(order, market.shawl)["id"], "quantity": 1, "reason": "other"})
    assert_problem(post_return(client, market.shopper, order["id"], wrong), 422, "line_not_in_vendor_order",
                   "lines.1.order_line_id")
    twice = return_body(order, market.tea)
    twice["lines"].append(dict(twice["lines"][0]))
    assert_problem(post_return(client, market.shopper, order["id"], twice), 422, "duplicate_return_line",
                   "lines.1.order_line_id")
    other_part = return_body(order, market.tea, vendor_order_id=10**6)
    assert_problem(post_return(client, market.shopper, order["id"], other_part), 422, "vendor_order_not_found",
                   "vendor_order_id")


@pytest.mark.parametrize("change, field", [
    ({"resolution": "cash"}, "resolution"),
    ({"lines": []}, "lines"),
    ({"comment": "x" * 2001}, "comment"),
    ({"surprise": True}, "surprise"),
    ({"vendor_order_id": "1"}, "vendor_order_id"),
])
def test_bad_input_names_the_field(market, client, change, field):
    order = delivered(client, market, [(market.tea, 1)])
    body = return_body(order, market.tea)
    body.update(change)
    assert_problem(post_return(client, market.shopper, order["id"], body), 422, "validation_error", field)


@pytest.mark.parametrize("line_change, field", [
    ({"quantity": 0}, "lines.0.quantity"),
    ({"quantity": "1"}, "lines.0.quantity"),
    ({"reason": "bored"}, "lines.0.reason"),
    ({"order_line_id": None}, "lines.0.order_line_id"),
])
def test_bad_lines_name_the_line_field(market, client, line_change, field):
    order = delivered(client, market, [(market.tea, 1)])
    body = return_body(order, market.tea)
    body["lines"][0].update(line_change)
    assert_problem(post_return(client, market.shopper, order["id"], body), 422, "validation_error", field)


def test_a_return_needs_an_idempotency_key(market, client):
    order = delivered(client, market, [(market.tea, 1)])
    response = post_return(client, market.shopper, order["id"], return_body(order, market.tea), key=False)
    assert_problem(response, 400, "idempotency_key_missing", "Idempotency-Key")


# -- who may see and do what -------------------------------------------------------------------------

def test_only_the_buyer_the_vendor_and_operators_see_a_return(market, client, make):
    order = delivered(client, market, [(market.tea, 1)])
    stranger = make.user("shopper")
    assert_problem(post_return(client, stranger, order["id"], return_body(order, market.tea)), 404,
                   "order_not_found")
    ret = ask(client, market.shopper, order, market.tea)
    for viewer in (market.shopper, market.tea_vendor["owner"], market.admin):
        response = client.get(f"{RETURNS}/{ret['id']}", headers=viewer["headers"])
        assert response.status_code == 200 and response.get_json()["id"] == ret["id"]
    for outsider in (stranger, market.shawl_vendor["owner"]):
        assert_problem(client.get(f"{RETURNS}/{ret['id']}", headers=outsider["headers"]), 404, "return_not_found")
    # another vendor cannot answer it, nor can the shopper answer for the vendor
    assert_problem(client.post(f"{RETURNS}/{ret['id']}/approve", headers=market.shawl_vendor["owner"]["headers"]),
                   404, "return_not_found")
    assert client.post(f"{RETURNS}/{ret['id']}/approve", headers=market.shopper["headers"]).status_code == 403
    act(client, market.tea_vendor["owner"], ret, "approve")
    assert_problem(client.post(f"{RETURNS}/{ret['id']}/ship", json={"carrier": "x", "tracking_number": "y"},
                               headers=stranger["headers"]), 404, "return_not_found")


def test_lists_show_own_returns_and_the_vendors_filtered_by_status(market, client, make):
    order = delivered(client, market, [(market.tea, 2), (market.shawl, 1)])
    tea_return = ask(client, market.shopper, order, market.tea, 1)
    shawl_return = ask(client, market.shopper, order, market.shawl, 1)
    act(client, market.shawl_vendor["owner"], shawl_return, "approve")
    mine = client.get(RETURNS, headers=market.shopper["headers"]).get_json()
    assert [r["id"] for r in mine["items"]] == [shawl_return["id"], tea_return["id"]] and mine["total"] == 2
    approved = client.get(RETURNS, query_string={"status": "approved"}, headers=market.shopper["headers"]).get_json()
    assert [r["id"] for r in approved["items"]] == [shawl_return["id"]]
    paged = client.get(RETURNS, query_string={"per_page": 1, "page": 2}, headers=market.shopper["headers"])
    assert [r["id"] for r in paged.get_json()["items"]] == [tea_return["id"]]
    tea_side = client.get(VENDOR_RETURNS, headers=market.tea_vendor["owner"]["headers"]).get_json()
    assert [r["id"] for r in tea_side["items"]] == [tea_return["id"]]
    assert client.get(RETURNS, headers=make.user("shopper")["headers"]).get_json()["total"] == 0
    assert_problem(client.get(RETURNS, query_string={"status": "lost"}, headers=market.shopper["headers"]),
                   422, field="status")
    assert client.get(VENDOR_RETURNS, headers=make.user("vendor")["headers"]).status_code == 403


# -- every change starts from the state it expects ---------------------------------------------------

def test_each_change_checks_the_state_it_starts_from(market, client):
    order = delivered(client, market, [(market.tea, 2)])
    ret = ask(client, market.shopper, order, market.tea)
    vendor = market.tea_vendor["owner"]
    ship = {"carrier": "China Post", "tracking_number": "RR1CN"}
    body = assert_problem(client.post(f"{RETURNS}/{ret['id']}/ship", json=ship, headers=market.shopper["headers"]),
                          409, "invalid_return_state")
    assert body["current_status"] == "requested"
    assert_problem(client.post(f"{RETURNS}/{ret['id']}/receive", headers=vendor["headers"]), 409,
                   "invalid_return_state")
    assert_problem(client.post(f"{RETURNS}/{ret['id']}/reject", json={}, headers=vendor["headers"]), 422,
                   "validation_error", "reason")
    act(client, vendor, ret, "approve")
    body = assert_problem(client.post(f"{RETURNS}/{ret['id']}/approve", headers=vendor["headers"]), 409,
                          "invalid_return_state")
    assert body["current_status"] == "approved"
    assert_problem(client.post(f"{RETURNS}/{ret['id']}/reject", json={"reason": "late"}, headers=vendor["headers"]),
                   409, "invalid_return_state")
    # the shopper may still withdraw it before shipping: closed, and its units free again
    closed = act(client, market.shopper, ret, "withdraw", {"reason": "Found a use for it"})
    assert closed["status"] == "closed" and closed["history"][-1]["reason"] == "Found a use for it"
    assert ask(client, market.shopper, order, market.tea, 2)["status"] == "requested"


def test_a_rejection_keeps_its_reason(market, client, app):
    order = delivered(client, market, [(market.tea, 1)])
    ret = ask(client, market.shopper, order, market.tea, reason="changed_mind")
    rejected = act(client, market.tea_vendor["owner"], ret, "reject", {"reason": "Opened tea cannot be returned"})
    assert rejected["status"] == "rejected" and rejected["rejection_reason"] == "Opened tea cannot be returned"
    assert rejected["history"][-1] == {**rejected["history"][-1], "from_status": "requested",
                                       "to_status": "rejected", "reason": "Opened tea cannot be returned"}
    assert [e["type"] for e in partner_events(app)] == ["return.requested", "return.rejected"]


# -- escalation --------------------------------------------------------------------------------------

def test_an_unanswered_request_escalates_to_a_dispute_on_its_own(market, client, app):
    order = delivered(client, market, [(market.tea, 2), (market.shawl, 1)])
    ignored = ask(client, market.shopper, order, market.tea, 1, reason="not_as_described")
    answered = ask(client, market.shopper, order, market.shawl, 1)
    act(client, market.shawl_vendor["owner"], answered, "approve")
    answer_by = datetime.fromisoformat(ignored["answer_by"])
    assert answer_by - datetime.fromisoformat(ignored["created_at"]) == timedelta(days=2)

    with database(app) as session:
        assert escalate_overdue(session) == 0  # not due yet
    clock.freeze(answer_by + timedelta(seconds=1))
    with database(app) as session:
        assert escalate_overdue(session) == 1
        assert escalate_overdue(session) == 0  # once
        dispute = session.scalar(select(Dispute).where(Dispute.return_id == ignored["id"]))
        assert dispute is not None and dispute.type == "not_as_described"
        assert dispute.claim_amount == Decimal(ignored["refund"]["amount"]) and dispute.user_id == market.shopper["id"]
        dispute_id = dispute.id
    clock.freeze(None)  # (the callers' tokens would have expired)

    shown = client.get(f"{RETURNS}/{ignored['id']}", headers=market.shopper["headers"]).get_json()
    assert shown["status"] == "escalated" and shown["dispute_id"] == dispute_id
    assert shown["history"][-1]["actor_role"] == "system" and shown["history"][-1]["actor_id"] is None
    assert client.get(f"{RETURNS}/{answered['id']}", headers=market.shopper["headers"]).get_json()["status"] == \
        "approved"
    # too late to answer now
    assert_problem(client.post(f"{RETURNS}/{ignored['id']}/approve", headers=market.tea_vendor["owner"]["headers"]),
                   409, "invalid_return_state")
    assert "return.escalated" in [e["type"] for e in partner_events(app)]


def test_the_worker_runs_the_escalation_job(app):
    assert app.extensions[worker.JOBS]["escalate-returns"] is escalate_overdue


# -- races -------------------------------------------------------------------------------------------

def concurrently(calls: list) -> list:
    """Run the calls at once (each in its own thread, released together); their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_concurrent_returns_for_the_same_units_let_one_through(market, client, app):
    order = delivered(client, market, [(market.tea, 2)])
    body = return_body(order, market.tea, 2)
    responses = concurrently([
        lambda: post_return(app.test_client(), market.shopper, order["id"], body),
        lambda: post_return(app.test_client(), market.shopper, order["id"], body),
    ])
    statuses = sorted(r.status_code for r in responses)
    assert statuses[0] == 201 and statuses[1] in (409, 422), [r.get_json() for r in responses]
    assert client.get(RETURNS, headers=market.shopper["headers"]).get_json()["total"] == 1


def test_two_concurrent_receives_refund_once(market, client, app):
    order = delivered(client, market, [(market.tea, 2)])
    ret = ask(client, market.shopper, order, market.tea, 2)
    vendor = market.tea_vendor["owner"]
    act(client, vendor, ret, "approve")
    act(client, market.shopper, ret, "ship", {"carrier": "China Post", "tracking_number": "RR1CN"})
    responses = concurrently([
        lambda: app.test_client().post(f"{RETURNS}/{ret['id']}/receive", headers=vendor["headers"]),
        lambda: app.test_client().post(f"{RETURNS}/{ret['id']}/receive", headers=vendor["headers"]),
    ])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.get_json() for r in responses]
    shown = get_order(client, market.shopper, order["id"])
    assert len(shown["refunds"]) == 1 and dec(shown["refunded"]) == dec(ret["refund"])
    with database(app) as session:
        assert len(session.scalars(select(PayoutEntry).where(PayoutEntry.kind == "refund")).all()) == 1
        assert len(session.scalars(select(Refund)).all()) == 1


# -- demo orders -------------------------------------------------------------------------------------

def test_demo_orders_places_pays_and_delivers_an_order(market, app):
    with database(app) as session:
        shopper = session.get(User, market.shopper["id"])
        order = delivered_order(session, shopper, [(session.get(Product, market.tea["id"]), 2),
                                                   (session.get(Product, market.shawl["id"]), 1)], address=ADDRESS)
        assert order.status == "completed" and len(order.lines) == 2
        assert all(v.status == "delivered" and v.delivered_at for v in order.vendor_orders)


def test_a_return_comment_may_span_lines(market, client):
    order = delivered(client, market, [(market.tea, 1)])
    ret = ask(client, market.shopper, order, market.tea, 1, comment="The cake was crushed.\nThe box was wet.")
    assert ret["comment"] == "The cake was crushed.\nThe box was wet."
