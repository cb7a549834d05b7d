"""Order message threads through the HTTP API: one thread per vendor order, readable and writable only by its
shopper, its vendor and operators; contact details masked; system events rendered in the reader's language."""
from __future__ import annotations

import pytest

from marketplace.aftersale.messages.services import post_event
from marketplace.kernel.extensions import db
from tests.api.test_checkout import Market, buy, confirm_payment
from tests.api.test_products import assert_problem


def thread(vendor_order_id: int) -> str:
    return f"/api/v1/vendor-orders/{vendor_order_id}/messages"


@pytest.fixture
def market(make, client) -> Market:
    return Market(make, client)


@pytest.fixture
def order(market, client) -> dict:
    """A paid order in reais with a part from the tea vendor (CN) and one from the shawl vendor (IN)."""
    placed = buy(client, market.shopper, [(market.tea, 1), (market.shawl, 1)], currency="BRL")
    return confirm_payment(client, market.shopper, placed["id"])


def part(order: dict, vendor: dict) -> int:
    return next(p["id"] for p in order["vendor_orders"] if p["vendor_id"] == vendor["id"])


def post(client, user: dict, vendor_order_id: int, body, locale="en"):
    return client.post(thread(vendor_order_id), json={"body": body, "locale": locale}, headers=user["headers"])


def read(client, user: dict, vendor_order_id: int, **query) -> dict:
    response = client.get(thread(vendor_order_id), query_string=query, headers=user["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_shopper_vendor_and_operator_talk_in_one_thread_oldest_first(market, client, order):
    tea_part = part(order, market.tea_vendor)
    first = post(client, market.shopper, tea_part, "Is the tea from 2019?")
    assert first.status_code == 201, first.get_json()
    answer = post(client, market.tea_vendor["owner"], tea_part, "Sim, colheita de 2019.", locale="pt")
    assert answer.status_code == 201
    note = post(client, market.admin, tea_part, "Operator here: all good.")
    assert note.status_code == 201

    for reader in (market.shopper, market.tea_vendor["owner"], market.admin):
        page = read(client, reader, tea_part)
        assert page["total"] == 3 and page["page"] == 1
        assert [(m["author_role"], m["body"], m["locale"]) for m in page["items"]] == [
            ("shopper", "Is the tea from 2019?", "en"), ("vendor", "Sim, colheita de 2019.", "pt"),
            ("operator", "Operator here: all good.", "en")]
        assert all(m["created_at"] and m["vendor_order_id"] == tea_part for m in page["items"])

    newest = read(client, market.shopper, tea_part, order="newest", per_page=2)
    assert newest["total"] == 3 and newest["per_page"] == 2
    assert [m["author_role"] for m in newest["items"]] == ["operator", "vendor"]
    assert [m["author_role"] for m in read(client, market.shopper, tea_part, order="newest", per_page=2,
                                           page=2)["items"]] == ["shopper"]
    # the other vendor's part has its own (empty) thread
    assert read(client, market.shopper, part(order, market.shawl_vendor))["total"] == 0


def test_nobody_else_reads_or_writes_a_thread(market, make, client, order):
    tea_part = part(order, market.tea_vendor)
    assert post(client, market.shopper, tea_part, "hello").status_code == 201
    other_shopper = make.user("shopper")
    for outsider in (other_shopper, market.shawl_vendor["owner"]):
        assert_problem(client.get(thread(tea_part), headers=outsider["headers"]), 404, "message_thread_not_found")
        assert_problem(post(client, outsider, tea_part, "let me in"), 404, "message_thread_not_found")
    assert_problem(client.get(thread(999999), headers=market.admin["headers"]), 404)
    assert_problem(client.get(thread(tea_part)), 401)
    assert read(client, market.shopper, tea_part)["total"] == 1


def test_emails_and_phone_numbers_are_masked_when_stored(market, client, order):
    tea_part = part(order, market.tea_vendor)
    response = post(client, market.shopper, tea_part,
                    "Mail me at ana.souza@example.com or call +55 11 91234-5621 (or (11) 98765-4321).\nThanks!")
    assert response.status_code == 201
    body = response.get_json()["body"]
    assert body == "Mail me at a***@e***.com or call +55 ** *****-**21 (or (**) *****-**21).\nThanks!"
    # the vendor's own national format (CN) is masked too; order numbers are not phone numbers
    reply = post(client, market.tea_vendor["owner"], tea_part, "WeChat 138 0013 8000, order 12345, shop@tea.cn")
    assert reply.get_json()["body"] == "WeChat *** **** **00, order 12345, s***@t***.cn"
    stored = [m["body"] for m in read(client, market.admin, tea_part)["items"]]
    assert "ana.souza" not in " ".join(stored) and "91234" not in " ".join(stored) and "0013" not in " ".join(stored)


@pytest.mark.parametrize("body, field", [
    ({"locale": "en"}, "body"),
    ({"body": "", "locale": "en"}, "body"),
    ({"body": "   ", "locale": "en"}, "body"),
    ({"body": "x" * 4001, "locale": "en"}, "body"),
    ({"body": "bell\x07", "locale": "en"}, "body"),
    ({"body": "hi"}, "locale"),
    ({"body": "hi", "locale": "fr"}, "locale"),
    ({"body": "hi", "locale": "en", "author_role": "operator"}, "author_role"),
])
def test_bad_messages_are_refused_naming_the_field(market, client, order, body, field):
    tea_part = part(order, market.tea_vendor)
    response = client.post(thread(tea_part), json=body, headers=market.shopper["headers"])
    assert_problem(response, 422, field=field)
    assert read(client, market.shopper, tea_part)["total"] == 0


def test_a_long_message_of_4000_characters_is_kept_whole(market, client, order):
    tea_part = part(order, market.tea_vendor)
    response = post(client, market.shopper, tea_part, "a" * 4000)
    assert response.status_code == 201 and len(response.get_json()["body"]) == 4000


def test_bad_listing_arguments_are_refused(market, client, order):
    tea_part = part(order, market.tea_vendor)
    for query, field in (({"order": "random"}, "order"), ({"per_page": 0}, "per_page"), ({"x": 1}, "x")):
        response = client.get(thread(tea_part), query_string=query, headers=market.shopper["headers"])
        assert_problem(response, 422, field=field)


def test_system_events_show_as_sentences_in_the_readers_language(app, market, client, order):
    tea_part = part(order, market.tea_vendor)
    with app.app_context():
        post_event(db.session, tea_part, "return.requested", {"return_id": "7"})
        post_event(db.session, tea_part, "dispute.opened", {"dispute_id": "3"})
        post_event(db.session, tea_part, "something.new")
        db.session.commit()
        db.session.remove()

    items = read(client, market.tea_vendor["owner"], tea_part)["items"]
    assert [m["author_role"] for m in items] == ["system"] * 3
    assert items[0]["body"] == "Return #7 was requested." and items[0]["event"] == "return.requested"
    assert items[0]["params"] == {"return_id": "7"} and items[0]["locale"] == "en"
    assert items[1]["body"] == "Dispute #3 was opened."
    assert "something.new" in items[2]["body"]
    shown = read(client, market.shopper, tea_part, locale="pt")["items"]
    assert shown[0]["locale"] == "pt" and shown[0]["event"] == "return.requested" and "7" in shown[0]["body"]


def test_post_event_is_committed_only_with_the_callers_change(app, market, client, order):
    tea_part = part(order, market.tea_vendor)
    with app.app_context():
        post_event(db.session, tea_part, "return.requested", {"return_id": "9"})
        db.session.rollback()
        db.session.remove()
    assert read(client, market.shopper, tea_part)["total"] == 0


def test_a_retried_message_with_the_same_idempotency_key_is_posted_once(market, client, order):
    tea_part = part(order, market.tea_vendor)
    headers = {**market.shopper["headers"], "Idempotency-Key": "msg-1"}
    first = client.post(thread(tea_part), json={"body": "Where is my tea?", "locale": "en"}, headers=headers)
    again = client.post(thread(tea_part), json={"body": "Where is my tea?", "locale": "en"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    other = client.post(thread(tea_part), json={"body": "Something else", "locale": "en"}, headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")
    assert [m["body"] for m in read(client, market.shopper, tea_part)["items"]] == ["Where is my tea?"]
    # without a key, the same words are a new message
    assert post(client, market.shopper, tea_part, "Where is my tea?").status_code == 201
    assert read(client, market.shopper, tea_part)["total"] == 2
