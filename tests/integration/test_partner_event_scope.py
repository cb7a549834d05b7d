"""Every partner event is built for its partner: only the vendors that authorize it (their vendor orders and
amounts alone), only while that authorization and an active key holding the event's scope last, checked
when the event fans out and again before each delivery attempt."""
from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.kernel import events
from marketplace.kernel.extensions import db
from marketplace.partners import keys as partners
from tests.api.test_checkout import buy, confirm_payment
from tests.api.test_partner_listings import listing, sync
from tests.api.test_products import create_product
from tests.integration.test_partner_webhooks import Receiver, deliveries, subscribe, verify, work

ORDER_EVENTS = ["order.created", "order.paid", "order.cancelled", "order.refunded"]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def market(make, client):
    make.rates()
    tea, shawls = make.vendor("CN"), make.vendor("IN")
    return {
        "tea": tea, "shawls": shawls, "shopper": make.user("shopper"),
        "tea_product": create_product(client, tea, sku="PUER-1", price={"amount": "188.00", "currency": "CNY"},
                                      stock=10),
        "shawl_product": create_product(client, shawls, sku="PASH-1", price={"amount": "2500.00", "currency": "INR"},
                                        stock=5, category="shawls-scarves", hs_code="621410"),
    }


def revoke_all_keys(app, partner: dict) -> None:
    with app.app_context():
        for key in partners.list_keys(db.session, partner["id"]):
            partners.revoke_key(db.session, key_id=key.id)
        db.session.remove()


def test_an_order_event_carries_only_the_vendors_that_authorized_the_partner(client, runner, make, market,
                                                                             receiver):
    tea_partner = make.partner(vendors=[market["tea"]])
    both_partner = make.partner(vendors=[market["tea"], market["shawls"]])
    tea_hook = subscribe(client, tea_partner, f"{receiver.url}/tea", ORDER_EVENTS)
    both_hook = subscribe(client, both_partner, f"{receiver.url}/both", ORDER_EVENTS)

    order = buy(client, market["shopper"], [(market["tea_product"], 2), (market["shawl_product"], 1)])
    confirm_payment(client, market["shopper"], order["id"])
    work(runner)

    tea_events = [verify(r, tea_hook["secret"]) for r in receiver.on("/tea")]
    both_events = [verify(r, both_hook["secret"]) for r in receiver.on("/both")]
    assert [e["type"] for e in tea_events] == ["order.created", "order.paid"]
    assert [e["type"] for e in both_events] == ["order.created", "order.paid"]
    for event in tea_events:
        data = event["data"]
        assert [vo["vendor_id"] for vo in data["vendor_orders"]] == [market["tea"]["id"]]
        assert Decimal(data["total"]) == Decimal(data["vendor_orders"][0]["subtotal"])
    for event in both_events:
        data = event["data"]
        assert sorted(vo["vendor_id"] for vo in data["vendor_orders"]) == sorted([market["tea"]["id"],
                                                                                  market["shawls"]["id"]])
        assert Decimal(data["total"]) == Decimal(order["total"]["amount"])
    # nothing of the shawl vendor's part reaches the tea vendor's partner, not even in the raw bytes
    shawl_part = next(vo for vo in both_events[0]["data"]["vendor_orders"] if vo["vendor_id"] == market["shawls"]["id"])
    raw = b"".join(r["body"] for r in receiver.on("/tea")).decode()
    assert shawl_part["net"] not in raw and shawl_part["subtotal"] not in raw
    assert f'"id":{shawl_part["id"]},' not in raw


def test_an_event_without_the_partners_vendors_is_not_sent_at_all(client, runner, make, market, receiver):
    shawl_partner = make.partner(vendors=[market["shawls"]])
    subscribe(client, shawl_partner, f"{receiver.url}/shawls", ORDER_EVENTS)

    buy(client, market["shopper"], [(market["tea_product"], 1)])
    work(runner)

    assert receiver.requests == []


def test_a_partner_whose_keys_are_all_revoked_hears_nothing_new(app, client, runner, make, market, receiver):
    partner = make.partner(vendors=[market["tea"]])
    subscribe(client, partner, f"{receiver.url}/hooks", ["listing.updated", "order.created", "campaign.started"])
    revoke_all_keys(app, partner)

    buy(client, market["shopper"], [(market["tea_product"], 1)])
    client.patch(f"/api/v1/products/{market['tea_product']['id']}", json={"stock": 3},
                 headers=market["tea"]["owner"]["headers"])
    with app.app_context():
        events.publish(db.session, "campaign.started", {"slug": "festival"}, vendor_ids=None)
        db.session.commit()
        db.session.remove()
    work(runner)

    assert receiver.requests == []


def test_a_key_without_the_events_scope_hears_only_what_its_scopes_allow(app, client, runner, make, market,
                                                                        receiver):
    partner = make.partner(vendors=[market["tea"]])
    hook = subscribe(client, partner, f"{receiver.url}/hooks", ["listing.updated", "order.created"])
    with app.app_context():  # rotate to a key that may read listings only
        [first] = partners.list_keys(db.session, partner["id"])
        partners.create_key(db.session, partner["id"], ["listings:read"])
        partners.revoke_key(db.session, key_id=first.id)
        db.session.remove()

    buy(client, market["shopper"], [(market["tea_product"], 1)])
    with app.app_context():
        events.publish(db.session, "listing.updated", {"product_id": market["tea_product"]["id"],
                                                       "vendor_id": market["tea"]["id"]},
                       vendor_ids=[market["tea"]["id"]])
        db.session.commit()
        db.session.remove()
    work(runner)

    assert [verify(r, hook["secret"])["type"] for r in receiver.requests] == ["listing.updated"]


def test_deliveries_queued_before_the_last_key_is_revoked_are_withheld(app, client, runner, make, market,
                                                                        receiver):
    partner = make.partner(vendors=[market["tea"]])
    hook = subscribe(client, partner, f"{receiver.url}/hooks", ["order.created"])
    buy(client, market["shopper"], [(market["tea_product"], 1)])   # fanned out: one delivery queued
    [queued] = deliveries(client, partner, hook["id"])
    assert queued["status"] == "pending"
    revoke_all_keys(app, partner)

    work(runner)

    assert receiver.requests == []
    with app.app_context():
        from marketplace.partners.models import WebhookDelivery

        delivery = db.session.get(WebhookDelivery, queued["id"])
        assert delivery.status == "failed" and delivery.last_error.startswith("withheld")
        db.session.remove()


def test_deliveries_queued_before_the_vendor_withdrew_are_withheld(client, runner, make, market, receiver):
    partner = make.partner(vendors=[market["tea"]])
    hook = subscribe(client, partner, f"{receiver.url}/hooks", ["listing.updated"])
    sync(client, partner, listing(market["tea"], "queued", price={"amount": "99.00", "currency": "CNY"}))
    assert [d["status"] for d in deliveries(client, partner, hook["id"])] == ["pending"]
    response = client.delete(f"/api/v1/vendors/{market['tea']['id']}/partners/{partner['id']}",
                             headers=market["tea"]["owner"]["headers"])
    assert response.status_code == 204

    work(runner)

    assert receiver.requests == []
    [withheld] = deliveries(client, partner, hook["id"])
    assert withheld["status"] == "failed" and "no longer authorizes" in withheld["last_error"]


def test_a_partial_view_of_an_order_sums_its_own_vendors_and_never_shows_order_wide_refunds():
    from marketplace.partners.deliveries import partner_view

    data = {"order_id": 1, "status": "paid", "currency": "BRL", "total": "300.00", "refunded": "50.00",
            "vendor_orders": [{"id": 11, "vendor_id": 1, "subtotal": "100.00", "refunded": "0.00", "net": "92"},
                              {"id": 12, "vendor_id": 2, "subtotal": "200.00", "refunded": "50.00", "net": "184"}]}

    mine = partner_view("order.refunded", data, {1})
    assert mine["total"] == "100.00" and mine["refunded"] == "0.00"
    assert [vo["id"] for vo in mine["vendor_orders"]] == [11]
    assert partner_view("order.refunded", data, {1, 2}) == data
    without_split = {**data, "vendor_orders": [{k: v for k, v in vo.items() if k != "refunded"}
                                               for vo in data["vendor_orders"]]}
    assert "refunded" not in partner_view("order.refunded", without_split, {2})
    assert partner_view("listing.updated", {"vendor_id": 1}, {1}) == {"vendor_id": 1}
