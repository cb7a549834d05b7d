"""Disputes through the HTTP API: opening (idempotent, checked), negotiation with proposals, escalation to an
operator, decisions, withdrawal, refunds through the payment provider (manual and the Stripe fake) executed
once, deadlines per destination escalated by the worker, the payout hold, ownership and the race between an
accepted proposal and a decision."""
from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from marketplace.aftersale.disputes import deadlines
from marketplace.aftersale.disputes.escalation import escalate_overdue
from marketplace.checkout.models import VendorOrder
from marketplace.kernel import clock
from marketplace.kernel.outbox import OutboxEvent
from tests.api.test_checkout import (
    ADDRESS,
    ORDERS,
    PAYOUTS,
    VENDOR_ORDERS,
    Market,
    add_to_cart,
    buy,
    confirm_payment,
    database,
    dec,
    post_checkout,
)
from tests.api.test_products import assert_problem
from tests.integration.test_partner_webhooks import receiver, subscribe, verify, work  # noqa: F401
from tests.integration.test_stripe_checkout import connect, fake, pay, stripe_app, stripe_checkout  # noqa: F401

DISPUTES = "/api/v1/disputes"
_keys = itertools.count(1)


def key() -> str:
    return f"dispute-key-{next(_keys)}"


def money(amount: str, currency: str = "BRL") -> dict:
    return {"amount": amount, "currency": currency}


def delivered(client, market: Market, items=None, currency: str = "BRL", address: dict | None = None) -> dict:
    """An order bought by the market's shopper, paid (manual provider), shipped and delivered by each vendor;
    gives {"order", "part"} with `part` the shawl vendor's vendor order."""
    if address is not None:
        for product, quantity in items or [(market.shawl, 1)]:
            add_to_cart(client, market.shopper, product["id"], quantity)
        response = post_checkout(client, market.shopper, {"currency": currency, "shipping_address": address})
        assert response.status_code == 201, response.get_json()
        order = response.get_json()["order"]
    else:
        order = buy(client, market.shopper, items or [(market.shawl, 1)], currency)
    confirm_payment(client, market.shopper, order["id"])
    for part in order["vendor_orders"]:
        vendor = market.shawl_vendor if part["vendor_id"] == market.shawl_vendor["id"] else market.tea_vendor
        headers = vendor["owner"]["headers"]
        ship = client.post(f"{VENDOR_ORDERS}/{part['id']}/ship", json={"carrier": "BRICS Post",
                                                                       "tracking_number": "BP123"}, headers=headers)
        assert ship.status_code == 200, ship.get_json()
        assert client.post(f"{VENDOR_ORDERS}/{part['id']}/deliver", headers=headers).status_code == 200
    part = next(p for p in order["vendor_orders"] if p["vendor_id"] == market.shawl_vendor["id"])
    return {"order": order, "part": part}


def open_dispute(client, shopper: dict, vendor_order_id: int, claim: dict, type_: str = "not_as_described",
                 description: str = "The shawl is polyester, not pashmina.", idempotency_key: str | None = None):
    headers = {**shopper["headers"], "Idempotency-Key": idempotency_key or key()}
    return client.post(DISPUTES, json={"vendor_order_id": vendor_order_id, "type": type_, "claim": claim,
                                       "description": description}, headers=headers)


def opened(client, shopper: dict, part: dict, amount: str | None = None) -> dict:
    response = open_dispute(client, shopper, part["id"], money(amount or part["subtotal"]["amount"],
                                                               part["subtotal"]["currency"]))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def post(client, user: dict, path: str, body: dict | None = None, **headers: str):
    return client.post(f"{DISPUTES}/{path}", json=body if body is not None else {},
                       headers={**user["headers"], **headers})


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def get(client, user: dict, dispute_id: int) -> dict:
    return ok(client.get(f"{DISPUTES}/{dispute_id}", headers=user["headers"]))


def order_of(client, user: dict, order_id: int) -> dict:
    return ok(client.get(f"{ORDERS}/{order_id}", headers=user["headers"]))


def payout_held(app, vendor_order_id: int) -> bool:
    with database(app) as session:
        return session.get(VendorOrder, vendor_order_id).payout_held


def partner_events(app, prefix: str = "dispute.") -> list[str]:
    with database(app) as session:
        rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        return [row.payload["type"] for row in rows if str(row.payload.get("type", "")).startswith(prefix)]


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


@pytest.fixture
def market(make, client) -> Market:
    return Market(make, client)


@pytest.fixture
def sale(market, client) -> dict:
    return delivered(client, market)


# -- opening ------------------------------------------------------------------------------------------------

def test_the_shopper_opens_a_dispute_in_negotiation_with_the_deadlines_of_the_destination(market, client, sale, app):
    part = sale["part"]
    dispute = opened(client, market.shopper, part, "100.00")

    assert dispute["stage"] == "negotiation" and dispute["stage_label"] == "Negotiation"
    assert dispute["type"] == "not_as_described" and dispute["type_label"] == "Item not as described"
    assert dispute["claim"] == {"amount": "100.00", "currency": "BRL", "formatted": "R$100.00"}
    assert dispute["vendor_order_id"] == part["id"] and dispute["order_id"] == sale["order"]["id"]
    assert dispute["outcome"] is None and dispute["refund"] is None and dispute["proposals"] == []
    # shipped to São Paulo: Brazil's rule, cited with its source and date
    assert dispute["destination_country"] == "BR"
    assert dispute["rule"]["id"] == "BR-D7962-2013-A4" and "7.962" in dispute["rule"]["source"]
    assert dispute["rule"]["effective_from"] == "2013-05-14"
    created = datetime.fromisoformat(dispute["created_at"])
    assert datetime.fromisoformat(dispute["acknowledge_by"]) - created == timedelta(days=5)
    assert datetime.fromisoformat(dispute["resolve_by"]) - created == timedelta(days=30)
    assert dispute["overdue"] is False and dispute["acknowledged_at"] is None
    (step,) = dispute["history"]
    assert step["action"] == "opened" and step["from_stage"] is None and step["to_stage"] == "negotiation"
    assert step["party"] == "shopper" and step["actor_id"] == market.shopper["id"]
    assert payout_held(app, part["id"]) is True
    assert partner_events(app) == ["dispute.opened"]
    thread = ok(client.get(f"/api/v1/vendor-orders/{part['id']}/messages",
                           headers=market.shawl_vendor["owner"]["headers"]))
    assert f"Dispute #{dispute['id']} was opened." in [m["body"] for m in thread["items"]]


def test_a_dispute_shipped_to_india_follows_the_e_commerce_rules_48_hours_and_one_month(market, client):
    address = {**ADDRESS, "city": "Kochi", "region": "KL", "postal_code": "682001", "country": "IN"}
    part = delivered(client, market, address=address)["part"]
    dispute = opened(client, market.shopper, part)
    assert dispute["rule"] == {"id": "IN-CPER-2020-R4-5", "effective_from": "2020-07-23",
                               "source": deadlines.rule_for("IN").source}
    assert "rule 4(5)" in dispute["rule"]["source"]
    created = datetime.fromisoformat(dispute["created_at"])
    assert datetime.fromisoformat(dispute["acknowledge_by"]) - created == timedelta(hours=48)
    assert datetime.fromisoformat(dispute["resolve_by"]) == deadlines.add_months(created, 1)


def test_opening_needs_an_idempotency_key_and_a_retry_gets_the_same_dispute(market, client, sale):
    part = sale["part"]
    body = {"vendor_order_id": part["id"], "type": "damaged", "claim": money("10.00"), "description": "Torn."}
    assert_problem(client.post(DISPUTES, json=body, headers=market.shopper["headers"]), 400,
                   "idempotency_key_missing")
    headers = {**market.shopper["headers"], "Idempotency-Key": "open-once"}
    first = client.post(DISPUTES, json=body, headers=headers)
    again = client.post(DISPUTES, json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.get_json()["id"] == again.get_json()["id"]
    listed = ok(client.get(DISPUTES, headers=market.shopper["headers"]))
    assert listed["total"] == 1


def test_one_open_dispute_per_vendor_order(market, client, sale):
    opened(client, market.shopper, sale["part"], "10.00")
    response = open_dispute(client, market.shopper, sale["part"]["id"], money("10.00"))
    assert_problem(response, 409, "dispute_already_open")


def test_two_disputes_opened_at_once_for_one_vendor_order_leave_one(market, client, app, sale):
    claim = money("10.00")
    results = at_once(app, *[lambda c: open_dispute(c, market.shopper, sale["part"]["id"], claim)] * 3)
    assert sorted(r.status_code for r in results) == [201, 409, 409], [r.get_json() for r in results]
    assert {r.get_json()["code"] for r in results if r.status_code == 409} == {"dispute_already_open"}
    assert ok(client.get(DISPUTES, headers=market.shopper["headers"]))["total"] == 1


@pytest.mark.parametrize("body, field", [
    ({"type": "lost_in_space"}, "type"),
    ({"claim": {"amount": 10, "currency": "BRL"}}, "claim.amount"),
    ({"claim": {"amount": "10.00", "currency": "INR"}}, "claim.currency"),
    ({"claim": {"amount": "0.00", "currency": "BRL"}}, "claim.amount"),
    ({"claim": {"amount": "999999.00", "currency": "BRL"}}, "claim.amount"),
    ({"description": ""}, "description"),
    ({"description": "bad\x00byte"}, "description"),
    ({"vendor_order_id": "1"}, "vendor_order_id"),
    ({"refund": {"amount": "1.00", "currency": "BRL"}}, "refund"),
])
def test_bad_input_is_refused_naming_the_field(market, client, sale, body, field):
    full = {"vendor_order_id": sale["part"]["id"], "type": "damaged", "claim": money("10.00"),
            "description": "Torn."}
    full.update(body)
    response = client.post(DISPUTES, json=full, headers={**market.shopper["headers"], "Idempotency-Key": key()})
    assert_problem(response, 422, field=field)


def test_a_claim_above_what_is_still_refundable_names_the_limit(market, client, sale):
    part = sale["part"]
    too_much = str(dec(part["total"]) + Decimal("0.01"))  # what was paid: goods, shipping and duties
    problem = assert_problem(open_dispute(client, market.shopper, part["id"], money(too_much)), 422,
                             "exceeds_refundable", "claim.amount")
    assert problem["refundable"] == part["total"]["amount"]


def test_only_the_buyer_of_a_paid_vendor_order_can_open_a_dispute(market, client, make, sale):
    stranger = make.user("shopper")
    assert_problem(open_dispute(client, stranger, sale["part"]["id"], money("10.00")), 404, "vendor_order_not_found")
    assert_problem(open_dispute(client, market.shawl_vendor["owner"], sale["part"]["id"], money("10.00")), 403)
    assert_problem(open_dispute(client, market.admin, sale["part"]["id"], money("10.00")), 403)
    unpaid = buy(client, market.shopper, [(market.tea, 1)])
    response = open_dispute(client, market.shopper, unpaid["vendor_orders"][0]["id"], money("10.00"))
    body = assert_problem(response, 409, "vendor_order_not_disputable")
    assert body["current_status"] == "awaiting_payment"


# -- who sees what --------------------------------------------------------------------------------------------

def test_parties_and_operators_see_a_dispute_and_nobody_else(market, client, make, sale):
    dispute = opened(client, market.shopper, sale["part"], "10.00")
    for viewer in (market.shopper, market.shawl_vendor["owner"], market.admin):
        assert get(client, viewer, dispute["id"])["id"] == dispute["id"]
    for stranger in (make.user("shopper"), market.tea_vendor["owner"]):
        response = client.get(f"{DISPUTES}/{dispute['id']}", headers=stranger["headers"])
        assert_problem(response, 404, "dispute_not_found")
        assert_problem(post(client, stranger, f"{dispute['id']}/escalate"), 404, "dispute_not_found")
        assert ok(client.get(DISPUTES, headers=stranger["headers"]))["items"] == []
    assert_problem(client.get(f"{DISPUTES}/999999", headers=market.admin["headers"]), 404)
    for viewer in (market.shopper, market.shawl_vendor["owner"], market.admin):
        assert [d["id"] for d in ok(client.get(DISPUTES, headers=viewer["headers"]))["items"]] == [dispute["id"]]


def test_the_operator_queue_filters_by_stage_and_pages(market, client):
    first = opened(client, market.shopper, delivered(client, market)["part"], "10.00")
    second = opened(client, market.shopper, delivered(client, market)["part"], "10.00")
    ok(post(client, market.shopper, f"{second['id']}/escalate", {"reason": "No answer."}))
    queue = ok(client.get(DISPUTES, query_string={"status": "facilitated"}, headers=market.admin["headers"]))
    assert [d["id"] for d in queue["items"]] == [second["id"]]
    page = ok(client.get(DISPUTES, query_string={"status": "open", "per_page": 1, "page": 2},
                         headers=market.admin["headers"]))
    assert page["total"] == 2 and len(page["items"]) == 1 and page["per_page"] == 1
    assert {first["id"], second["id"]} == {d["id"] for d in ok(client.get(
        DISPUTES, query_string={"status": "open"}, headers=market.admin["headers"]))["items"]}
    assert_problem(client.get(DISPUTES, query_string={"status": "lost"}, headers=market.admin["headers"]), 422,
                   field="status")


# -- negotiation ---------------------------------------------------------------------------------------------

def test_negotiation_to_an_accepted_proposal_refunds_once_and_closes(market, client, app, sale):
    part, order = sale["part"], sale["order"]
    dispute = opened(client, market.shopper, part, "150.00")
    vendor = market.shawl_vendor["owner"]

    offer = ok(post(client, vendor, f"{dispute['id']}/proposals", {"refund": money("50.00"),
                                                                   "note": "Half back,\nkeep the shawl."}), 201)
    assert offer["acknowledged_at"] is not None  # the vendor's first act acknowledges the complaint
    (proposal,) = offer["proposals"]
    assert proposal["party"] == "vendor" and proposal["status"] == "open"
    assert proposal["refund"]["formatted"] == "R$50.00"
    # a party cannot answer its own proposal
    assert_problem(post(client, vendor, f"{dispute['id']}/proposals/{proposal['id']}/accept"), 403, "own_proposal")
    declined = ok(post(client, market.shopper, f"{dispute['id']}/proposals/{proposal['id']}/decline",
                       {"reason": "Not enough."}))
    assert declined["proposals"][0]["status"] == "declined" and declined["stage"] == "negotiation"
    assert_problem(post(client, market.shopper, f"{dispute['id']}/proposals/{proposal['id']}/accept"), 409,
                   "invalid_proposal_state")

    counter = ok(post(client, market.shopper, f"{dispute['id']}/proposals", {"refund": money("120.00")}), 201)
    counter_id = counter["proposals"][-1]["id"]
    closed = ok(post(client, vendor, f"{dispute['id']}/proposals/{counter_id}/accept"))

    assert closed["stage"] == "closed" and closed["outcome"] == "settled"
    assert closed["refund"]["amount"] == "120.00" and closed["refund_id"] is not None
    assert [h["action"] for h in closed["history"]] == ["opened", "proposal", "declined", "proposal", "accepted",
                                                          "closed"]
    assert closed["history"][-1]["from_stage"] == "negotiation" and closed["history"][-1]["to_stage"] == "closed"
    shown = order_of(client, market.shopper, order["id"])
    assert shown["status"] == "partially_refunded" and shown["refunded"]["amount"] == "120.00"
    (refund,) = shown["refunds"]
    assert refund["vendor_order_id"] == part["id"] and refund["status"] == "succeeded"
    ledger = ok(client.get(PAYOUTS, headers=vendor["headers"]))
    assert [e["kind"] for e in ledger["items"]] == ["refund", "credit"]
    assert payout_held(app, part["id"]) is False
    # once: a replay of the accept, or any later step, finds the dispute closed
    body = assert_problem(post(client, vendor, f"{dispute['id']}/proposals/{counter_id}/accept"), 409)
    assert body["current_stage"] == "closed"
    assert_problem(post(client, market.shopper, f"{dispute['id']}/escalate"), 409, "invalid_dispute_stage")
    assert len(order_of(client, market.shopper, order["id"])["refunds"]) == 1
    assert partner_events(app) == ["dispute.opened", "dispute.proposal", "dispute.declined", "dispute.proposal",
                                   "dispute.accepted", "dispute.closed"]
    thread = ok(client.get(f"/api/v1/vendor-orders/{part['id']}/messages", headers=market.shopper["headers"]))
    assert f"Dispute #{dispute['id']} was closed." in [m["body"] for m in thread["items"]]
    # the vendor order can be disputed again once this one is closed, for what is left
    left = str(dec(part["total"]) - Decimal("120.00"))
    assert_problem(open_dispute(client, market.shopper, part["id"], money(str(Decimal(left) + 1))), 422,
                   "exceeds_refundable")
    assert open_dispute(client, market.shopper, part["id"], money(left)).status_code == 201


def test_a_proposal_of_no_refund_accepted_closes_without_a_refund(market, client, sale):
    dispute = opened(client, market.shopper, sale["part"], "10.00")
    offer = ok(post(client, market.shawl_vendor["owner"], f"{dispute['id']}/proposals",
                    {"refund": money("0.00"), "note": "A replacement is on its way."}), 201)
    closed = ok(post(client, market.shopper, f"{dispute['id']}/proposals/{offer['proposals'][0]['id']}/accept"))
    assert closed["stage"] == "closed" and closed["refund"] is None
    assert order_of(client, market.shopper, sale["order"]["id"])["refunds"] == []


def test_a_new_proposal_supersedes_the_same_partys_open_one_and_operators_do_not_propose(market, client, sale):
    dispute = opened(client, market.shopper, sale["part"], "10.00")
    vendor = market.shawl_vendor["owner"]
    ok(post(client, vendor, f"{dispute['id']}/proposals", {"refund": money("2.00")}), 201)
    again = ok(post(client, vendor, f"{dispute['id']}/proposals", {"refund": money("3.00")}), 201)
    assert [p["status"] for p in again["proposals"]] == ["superseded", "open"]
    assert_problem(post(client, market.admin, f"{dispute['id']}/proposals", {"refund": money("3.00")}), 403)
    assert_problem(post(client, vendor, f"{dispute['id']}/proposals", {"refund": money("3.00", "INR")}), 422,
                   "wrong_currency", "refund.currency")
    assert_problem(post(client, vendor, f"{dispute['id']}/proposals/999999/accept"), 404, "proposal_not_found")


def test_proposals_honour_an_idempotency_key(market, client, sale):
    dispute = opened(client, market.shopper, sale["part"], "10.00")
    headers = {"Idempotency-Key": "offer-1"}
    vendor = market.shawl_vendor["owner"]
    first = ok(post(client, vendor, f"{dispute['id']}/proposals", {"refund": money("2.00")}, **headers), 201)
    again = ok(post(client, vendor, f"{dispute['id']}/proposals", {"refund": money("2.00")}, **headers), 201)
    assert first == again and len(get(client, vendor, dispute["id"])["proposals"]) == 1


def test_the_shopper_may_withdraw_and_the_payout_is_released(market, client, app, sale):
    dispute = opened(client, market.shopper, sale["part"], "10.00")
    assert_problem(post(client, market.shawl_vendor["owner"], f"{dispute['id']}/withdraw"), 403)
    closed = ok(post(client, market.shopper, f"{dispute['id']}/withdraw", {"reason": "Found it at the neighbours'."}))
    assert closed["stage"] == "closed" and closed["outcome"] == "withdrawn"
    assert closed["outcome_label"] == "Withdrawn by the shopper" and closed["history"][-1]["action"] == "withdrawn"
    assert payout_held(app, sale["part"]["id"]) is False
    assert_problem(post(client, market.shopper, f"{dispute['id']}/withdraw"), 409, "invalid_dispute_stage")


# -- facilitation and decisions ---------------------------------------------------------------------------------

def test_escalation_then_an_operators_decision_refunds_and_closes(market, client, app, sale):
    dispute = opened(client, market.shopper, sale["part"], "80.00")
    assert_problem(post(client, market.admin, f"{dispute['id']}/decision",
                        {"refund": money("80.00"), "reasons": "x"}), 409, "invalid_dispute_stage")
    facilitated = ok(post(client, market.shawl_vendor["owner"], f"{dispute['id']}/escalate",
                          {"reason": "We cannot agree."}))
    assert facilitated["stage"] == "facilitated" and facilitated["stage_label"] == "Facilitated settlement"
    assert_problem(post(client, market.shopper, f"{dispute['id']}/escalate"), 409, "invalid_dispute_stage")
    assert_problem(post(client, market.shopper, f"{dispute['id']}/decision",
                        {"refund": money("80.00"), "reasons": "x"}), 403)
    assert_problem(post(client, market.admin, f"{dispute['id']}/decision", {"refund": money("80.00")}), 422,
                   field="reasons")

    decided = ok(post(client, market.admin, f"{dispute['id']}/decision",
                      {"refund": money("60.00"), "reasons": "The photos show a different fabric."}))

    assert decided["stage"] == "closed" and decided["outcome"] == "decided"
    assert decided["decision"]["refund"]["amount"] == "60.00" and decided["decision"]["decided_by"] == market.admin["id"]
    assert [(h["from_stage"], h["to_stage"]) for h in decided["history"][-2:]] == [("facilitated", "decided"),
                                                                                  ("decided", "closed")]
    shown = order_of(client, market.shopper, sale["order"]["id"])
    assert shown["refunded"]["amount"] == "60.00" and len(shown["refunds"]) == 1
    assert payout_held(app, sale["part"]["id"]) is False
    assert partner_events(app)[-3:] == ["dispute.facilitated", "dispute.decided", "dispute.closed"]


def test_a_decision_of_no_refund_closes_the_dispute(market, client, sale):
    dispute = opened(client, market.shopper, sale["part"], "80.00")
    ok(post(client, market.shopper, f"{dispute['id']}/escalate"))
    decided = ok(post(client, market.admin, f"{dispute['id']}/decision",
                      {"refund": None, "reasons": "Delivered as described."}))
    assert decided["stage"] == "closed" and decided["refund"] is None and decided["decision"]["refund"] is None
    assert order_of(client, market.shopper, sale["order"]["id"])["refunds"] == []


def test_a_decision_racing_an_accepted_proposal_executes_exactly_once(market, client, app, sale):
    dispute = opened(client, market.shopper, sale["part"], "80.00")
    ok(post(client, market.shopper, f"{dispute['id']}/escalate"))
    offer = ok(post(client, market.shawl_vendor["owner"], f"{dispute['id']}/proposals", {"refund": money("40.00")}),
               201)
    proposal_id = offer["proposals"][0]["id"]

    results = at_once(
        app,
        lambda c: post(c, market.shopper, f"{dispute['id']}/proposals/{proposal_id}/accept"),
        lambda c: post(c, market.admin, f"{dispute['id']}/decision", {"refund": money("70.00"), "reasons": "Fair."}),
    )

    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 409], [r.get_json() for r in results]
    loser = next(r for r in results if r.status_code == 409).get_json()
    assert loser["current_stage"] == "closed"
    shown = order_of(client, market.shopper, sale["order"]["id"])
    (refund,) = shown["refunds"]
    winner = next(r for r in results if r.status_code == 200).get_json()
    assert refund["amount"] == winner["refund"] and shown["refunded"] == winner["refund"]


# -- deadlines -----------------------------------------------------------------------------------------------

def move_clock(client, moment: datetime, *users: dict) -> None:
    """Freeze the clock at `moment` and sign `users` in again then (their tokens from before would expire)."""
    clock.freeze(moment)
    for user in users:
        response = client.post("/api/v1/auth/token", json={"email": user["email"], "password": user["password"]})
        assert response.status_code == 200, response.get_json()
        user["headers"] = {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def run_job(app) -> int:
    with database(app) as session:
        return escalate_overdue(session)


def test_the_worker_escalates_an_overdue_negotiation_and_flags_it(market, client, app):
    address = {**ADDRESS, "country": "IN", "city": "Kochi", "postal_code": "682001", "region": "KL"}
    sale = delivered(client, market, address=address)
    dispute = opened(client, market.shopper, sale["part"], "10.00")
    assert run_job(app) == 0

    move_clock(client, datetime.fromisoformat(dispute["acknowledge_by"]) + timedelta(minutes=1), market.admin)
    assert ok(client.get(DISPUTES, query_string={"overdue": "true"}, headers=market.admin["headers"]))["total"] == 1
    assert run_job(app) == 1
    assert run_job(app) == 0  # already handled

    shown = get(client, market.admin, dispute["id"])
    assert shown["stage"] == "facilitated" and shown["overdue"] is True and shown["overdue_at"] is not None
    step = shown["history"][-1]
    assert (step["action"], step["party"], step["from_stage"], step["to_stage"]) == (
        "escalated", "system", "negotiation", "facilitated")
    assert "IN-CPER-2020-R4-5" in step["reason"]
    queue = ok(client.get(DISPUTES, query_string={"overdue": "true"}, headers=market.admin["headers"]))
    assert [d["id"] for d in queue["items"]] == [dispute["id"]]
    assert ok(client.get(DISPUTES, query_string={"overdue": "false"}, headers=market.admin["headers"]))["total"] == 0
    assert "dispute.facilitated" in partner_events(app)


def test_a_vendor_message_in_the_thread_acknowledges_the_dispute_in_time(market, client, app, sale):
    dispute = opened(client, market.shopper, sale["part"], "10.00")
    response = client.post(f"/api/v1/vendor-orders/{sale['part']['id']}/messages",
                           json={"body": "Sorry! Looking into it.", "locale": "en"},
                           headers=market.shawl_vendor["owner"]["headers"])
    assert response.status_code == 201, response.get_json()
    assert run_job(app) == 1  # the worker reads the vendor's answer at once
    assert get(client, market.shopper, dispute["id"])["acknowledged_at"] is not None
    assert run_job(app) == 0
    move_clock(client, datetime.fromisoformat(dispute["acknowledge_by"]) + timedelta(hours=1), market.admin)
    assert run_job(app) == 0
    shown = get(client, market.admin, dispute["id"])
    assert shown["stage"] == "negotiation" and shown["acknowledged_at"] is not None and shown["overdue"] is False

    move_clock(client, datetime.fromisoformat(dispute["resolve_by"]) + timedelta(hours=1), market.admin)
    assert run_job(app) == 1
    assert get(client, market.admin, dispute["id"])["stage"] == "facilitated"


def test_the_worker_command_runs_the_escalation_job(market, client, runner, sale):
    dispute = opened(client, market.shopper, sale["part"], "10.00")
    move_clock(client, datetime.fromisoformat(dispute["resolve_by"]) + timedelta(seconds=1), market.shopper)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert get(client, market.shopper, dispute["id"])["stage"] == "facilitated"


# -- on Stripe: the refund at the provider, once; the payout held until the dispute closes -------------------

@pytest.fixture
def stripe_market(stripe_app, make, client) -> Market:
    return Market(make, client)


def test_on_stripe_a_decision_refunds_at_the_provider_once_and_the_payout_waits_for_the_close(
        stripe_market, client, fake, runner, app):
    m = stripe_market
    order, _pi = stripe_checkout(client, fake, m.shopper, [(m.shawl, 1)], "INR")
    pay(client, fake, order["id"])
    part = order["vendor_orders"][0]
    dispute = opened(client, m.shopper, part, "1000.00")
    connect(client, m.shawl_vendor, "acct_disputed", admin=m.admin)  # connected after the sale
    runner.invoke(args=["worker", "--once"])
    assert fake.transfers == {}  # held while the dispute is open
    ledger = ok(client.get(PAYOUTS, headers=m.shawl_vendor["owner"]["headers"]))
    assert [e["status"] for e in ledger["items"]] == ["pending"]
    ok(post(client, m.shopper, f"{dispute['id']}/escalate", {"reason": "The vendor does not answer."}))

    fake.fail_next(500)  # Stripe is down: nothing of the decision is kept, a retry makes it
    decision = {"refund": money("1000.00", "INR"), "reasons": "Never delivered."}
    assert_problem(post(client, m.admin, f"{dispute['id']}/decision", decision), 502, "payment_provider_error")
    assert get(client, m.admin, dispute["id"])["stage"] == "facilitated"
    decided = ok(post(client, m.admin, f"{dispute['id']}/decision", decision))

    assert decided["stage"] == "closed" and decided["refund"]["formatted"] == "₹1,000.00"
    sent = fake.requests_to("POST", "/v1/refunds")
    assert {r.idempotency_key for r in sent} == {f"dispute-{dispute['id']}-refund"}
    assert sent[-1].params["amount"] == "100000" and len(fake.refunds) == 1
    shown = order_of(client, m.shopper, order["id"])
    assert shown["refunded"]["amount"] == "1000.00" and [r["status"] for r in shown["refunds"]] == ["succeeded"]
    assert_problem(post(client, m.admin, f"{dispute['id']}/decision", decision), 409, "invalid_dispute_stage")

    runner.invoke(args=["worker", "--once"])  # closed: the payout goes out
    assert len(fake.transfers) == 1
    ledger = ok(client.get(PAYOUTS, headers=m.shawl_vendor["owner"]["headers"]))
    assert "transferred" in [e["status"] for e in ledger["items"] if e["kind"] == "credit"]


# -- partners -------------------------------------------------------------------------------------------------

def test_partners_of_the_vendor_hear_each_step_signed_without_personal_data(market, client, make, runner, receiver):
    partner = make.partner(scopes=["orders:read", "webhooks:manage"], vendors=[market.shawl_vendor])
    outsider = make.partner(vendors=[market.tea_vendor])
    steps = ["dispute.opened", "dispute.proposal", "dispute.declined", "dispute.facilitated", "dispute.decided",
             "dispute.closed"]
    mine = subscribe(client, partner, f"{receiver.url}/mine", steps)
    subscribe(client, outsider, f"{receiver.url}/theirs", steps)
    sale = delivered(client, market)
    dispute = opened(client, market.shopper, sale["part"], "20.00")
    offer = ok(post(client, market.shawl_vendor["owner"], f"{dispute['id']}/proposals", {"refund": money("5.00")}), 201)
    ok(post(client, market.shopper, f"{dispute['id']}/proposals/{offer['proposals'][0]['id']}/decline"))
    ok(post(client, market.shopper, f"{dispute['id']}/escalate"))
    ok(post(client, market.admin, f"{dispute['id']}/decision", {"refund": money("20.00"), "reasons": "Fair."}))

    work(runner)

    heard = [verify(r, mine["secret"]) for r in receiver.on("/mine")]
    assert [event["type"] for event in heard] == steps
    assert receiver.on("/theirs") == []
    closed = heard[-1]["data"]
    assert closed["dispute_id"] == dispute["id"] and closed["vendor_order_id"] == sale["part"]["id"]
    assert closed["stage"] == "closed" and closed["outcome"] == "decided" and closed["refund"] == "20.00"
    text = str(heard)
    assert market.shopper["email"] not in text and "São Paulo" not in text and "polyester" not in text
