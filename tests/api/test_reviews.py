"""Verified reviews through the HTTP API: only the buyer of a delivered line reviews it, once; operators
moderate; the vendor replies once; reports; the product's rating on its page, in search and its sort; the
vendor's public record."""
from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from marketplace.aftersale.reviews.services import initials
from marketplace.kernel import clock, events
from marketplace.kernel.outbox import OutboxEvent
from tests.api.test_checkout import ADDRESS, buy, confirm_payment, database
from tests.api.test_products import assert_problem, create_product

SEARCH = "/api/v1/search"


def review_url(order: dict, line: dict) -> str:
    return f"/api/v1/orders/{order['id']}/lines/{line['id']}/review"


class Shop:
    """A vendor in India with two active products, a shopper whose order of both was delivered, an admin."""

    def __init__(self, make, client) -> None:
        make.rates()
        self.make, self.client = make, client
        self.vendor = make.vendor("IN")
        self.tea = create_product(client, self.vendor, translations={"en": {"title": "Assam tea"}})
        self.shawl = create_product(client, self.vendor, translations={"en": {"title": "Kashmir shawl"}},
                                    category="shawls-scarves", hs_code="621410")
        self.shopper = make.user("shopper")
        self.admin = make.user("admin")
        self.order = self.delivered_order(self.shopper, [(self.tea, 1), (self.shawl, 1)])

    def vendor_order_action(self, vendor_order_id: int, action: str, body: dict | None = None) -> None:
        response = self.client.post(f"/api/v1/vendor/orders/{vendor_order_id}/{action}", json=body or {},
                                    headers=self.vendor["owner"]["headers"])
        assert response.status_code == 200, response.get_json()

    def delivered_order(self, shopper: dict, items: list[tuple[dict, int]], deliver: bool = True) -> dict:
        order = buy(self.client, shopper, items, currency="INR")
        confirm_payment(self.client, shopper, order["id"])
        for part in order["vendor_orders"]:
            self.vendor_order_action(part["id"], "ship", {"carrier": "India Post", "tracking_number": "IP1"})
            if deliver:
                self.vendor_order_action(part["id"], "deliver")
        return order

    def line(self, product: dict, order: dict | None = None) -> dict:
        return next(line for line in (order or self.order)["lines"] if line["product_id"] == product["id"])

    def review(self, product: dict, shopper: dict | None = None, order: dict | None = None, **body: Any):
        payload = {"rating": 5, "title": "Lovely", "body": "Arrived quickly.", "locale": "en", **body}
        return self.client.post(review_url(order or self.order, self.line(product, order)), json=payload,
                                headers=(shopper or self.shopper)["headers"])

    def created(self, product: dict, **body: Any) -> dict:
        response = self.review(product, **body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def moderate(self, review: dict, action: str, **body: Any):
        return self.client.post(f"/api/v1/reviews/{review['id']}/{action}", json=body, headers=self.admin["headers"])

    def published(self, product: dict, **body: Any) -> dict:
        response = self.moderate(self.created(product, **body), "publish")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def product_reviews(self, product: dict, **params: Any) -> dict:
        response = self.client.get(f"/api/v1/products/{product['id']}/reviews", query_string=params)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def rating(self, product: dict) -> dict:
        response = self.client.get(f"/api/v1/products/{product['id']}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["rating"]


@pytest.fixture
def shop(make, client) -> Shop:
    return Shop(make, client)


# -- a verified purchase, once -------------------------------------------------------------------

def test_the_buyer_reviews_a_delivered_line_and_it_waits_for_moderation(shop, client):
    review = shop.created(shop.tea, rating=4, title="Malty", body="Strong and fresh.")

    assert review["status"] == "pending" and review["rating"] == 4 and review["verified_purchase"] is True
    assert (review["title"], review["body"], review["locale"]) == ("Malty", "Strong and fresh.", "en")
    assert review["reviewer"] == "A. S." and review["reply"] is None  # Ana Souza, from the shipping address
    assert shop.product_reviews(shop.tea)["items"] == []  # not published yet
    assert shop.rating(shop.tea) == {"average": None, "count": 0}


def test_a_line_not_yet_delivered_cannot_be_reviewed(shop, client):
    order = shop.delivered_order(shop.shopper, [(shop.tea, 1)], deliver=False)

    body = assert_problem(shop.review(shop.tea, order=order), 409, "not_delivered")
    assert body["current_status"] == "shipped"


def test_a_line_is_reviewed_once(shop, client):
    shop.created(shop.tea)
    assert_problem(shop.review(shop.tea, rating=1), 409, "already_reviewed")
    shop.created(shop.shawl)  # the order's other line is its own purchase


def test_only_the_buyer_may_review_the_line(shop, client, make):
    stranger = make.user("shopper")
    assert_problem(shop.review(shop.tea, shopper=stranger), 404, "order_line_not_found")
    assert_problem(shop.review(shop.tea, shopper=shop.vendor["owner"]), 404, "order_line_not_found")
    assert_problem(shop.review(shop.tea, shopper=shop.admin), 404, "order_line_not_found")
    other_order = shop.delivered_order(stranger, [(shop.tea, 1)])
    # a line of another order under this order's id
    response = client.post(f"/api/v1/orders/{shop.order['id']}/lines/{shop.line(shop.tea, other_order)['id']}/review",
                           json={"rating": 5, "locale": "en"}, headers=shop.shopper["headers"])
    assert_problem(response, 404, "order_line_not_found")
    response = client.post(review_url(shop.order, shop.line(shop.tea)), json={"rating": 5, "locale": "en"})
    assert_problem(response, 401)


@pytest.mark.parametrize("body, field", [
    ({"rating": 6}, "rating"),
    ({"rating": 0}, "rating"),
    ({"rating": "5"}, "rating"),
    ({"rating": 4.5}, "rating"),
    ({"locale": "xx"}, "locale"),
    ({"locale": None}, "locale"),
    ({"title": "t" * 121}, "title"),
    ({"title": "two\nlines"}, "title"),
    ({"body": "b" * 5001}, "body"),
    ({"body": "   "}, "body"),
    ({"body": "bell\x07"}, "body"),
    ({"stars": 5}, "stars"),
])
def test_bad_reviews_are_refused_naming_the_field(shop, body, field):
    assert_problem(shop.review(shop.tea, **body), 422, field=field)
    shop.created(shop.tea)  # nothing was stored


def test_a_review_missing_its_rating_is_refused(shop, client):
    response = client.post(review_url(shop.order, shop.line(shop.tea)), json={"locale": "en"},
                           headers=shop.shopper["headers"])
    assert_problem(response, 422, field="rating")


def test_contact_details_in_a_review_are_never_published(shop, client):
    review = shop.published(shop.tea, title="Mail ana.souza@example.com",
                            body="Call me on +55 11 91234-5678 or write to ana.souza@example.com.\nThanks!")

    listed = shop.product_reviews(shop.tea)["items"][0]
    for text in (review["title"], review["body"], listed["title"], listed["body"]):
        assert "ana.souza@example.com" not in text and "91234-5678" not in text
    assert "a***@e***.com" in listed["body"] and listed["body"].endswith("\nThanks!")
    assert shop.shopper["email"] not in str(listed)


def test_concurrent_reviews_of_one_line_give_one_201_and_one_409(shop, app):
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def send(rating: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(review_url(shop.order, shop.line(shop.tea)), json={"rating": rating, "locale": "en"},
                               headers=shop.shopper["headers"])
        statuses.append(response.status_code)
        if response.status_code == 409:
            assert response.get_json()["code"] == "already_reviewed"

    threads = [threading.Thread(target=send, args=(r,)) for r in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]
    response = shop.client.get("/api/v1/reviews", query_string={"status": "pending"}, headers=shop.admin["headers"])
    assert response.get_json()["total"] == 1


# -- moderation ------------------------------------------------------------------------------------

def test_publishing_lists_the_review_and_sets_the_products_rating(shop, client):
    review = shop.created(shop.tea, rating=4)
    queue = client.get("/api/v1/reviews", query_string={"status": "pending"}, headers=shop.admin["headers"]).get_json()
    assert [r["id"] for r in queue["items"]] == [review["id"]] and queue["items"][0]["report_count"] == 0

    response = shop.moderate(review, "publish")
    assert response.status_code == 200 and response.get_json()["status"] == "published"
    listed = shop.product_reviews(shop.tea)
    assert listed["total"] == 1 and listed["items"][0]["id"] == review["id"]
    assert shop.rating(shop.tea) == {"average": "4.0", "count": 1}
    assert client.get("/api/v1/reviews", query_string={"status": "pending"},
                      headers=shop.admin["headers"]).get_json()["total"] == 0


def test_moderation_checks_the_state_it_starts_from_and_keeps_a_history(shop, client):
    review = shop.created(shop.tea)
    assert shop.moderate(review, "publish").status_code == 200
    body = assert_problem(shop.moderate(review, "publish"), 409, "invalid_review_state")
    assert body["current_status"] == "published"
    assert_problem(shop.moderate(review, "reject"), 422, field="reason")
    response = shop.moderate(review, "reject", reason="Not about the product.")
    assert response.status_code == 200 and response.get_json()["status"] == "rejected"
    assert_problem(shop.moderate(review, "reject", reason="again"), 409, "invalid_review_state")

    history = client.get(f"/api/v1/reviews/{review['id']}/history", headers=shop.admin["headers"]).get_json()["items"]
    assert [(h["from"], h["to"]) for h in history] == [(None, "pending"), ("pending", "published"),
                                                        ("published", "rejected")]
    assert history[-1]["reason"] == "Not about the product." and history[-1]["actor_id"] == shop.admin["id"]
    assert all(h["at"] for h in history)


def test_un_publishing_takes_the_review_out_of_the_rating(shop, client):
    five = shop.published(shop.tea, rating=5)
    second = shop.make.user("shopper")
    order = shop.delivered_order(second, [(shop.tea, 1)])
    response = shop.moderate(shop.created(shop.tea, shopper=second, order=order, rating=2), "publish")
    assert response.status_code == 200
    assert shop.rating(shop.tea) == {"average": "3.5", "count": 2}

    assert shop.moderate(five, "reject", reason="Paid review.").status_code == 200
    assert shop.rating(shop.tea) == {"average": "2.0", "count": 1}
    assert [r["rating"] for r in shop.product_reviews(shop.tea)["items"]] == [2]


def test_only_admins_moderate(shop, client):
    review = shop.created(shop.tea)
    for user in (shop.shopper, shop.vendor["owner"]):
        response = client.post(f"/api/v1/reviews/{review['id']}/publish", json={}, headers=user["headers"])
        assert_problem(response, 403)
    assert_problem(client.get("/api/v1/reviews", headers=shop.shopper["headers"]), 403)
    assert_problem(shop.moderate({"id": 999999}, "publish"), 404, "review_not_found")


def test_publishing_tells_the_vendors_partners_without_personal_data(shop, app):
    review = shop.published(shop.tea, body="Write me at ana.souza@example.com")
    with database(app) as session:
        payloads = [e.payload for e in session.query(OutboxEvent).filter(OutboxEvent.topic == events.TOPIC)]
    (event,) = [e for e in events.unpack(payloads) if e["type"] == "review.published"]
    assert event["vendor_ids"] == [shop.vendor["id"]]
    assert event["data"]["review_id"] == review["id"] and event["data"]["rating"] == 5
    assert "ana.souza@example.com" not in str(event) and shop.shopper["email"] not in str(event)


# -- who sees what -------------------------------------------------------------------------------

def test_a_pending_review_is_seen_by_its_author_the_vendor_and_admins_only(shop, client, make):
    review = shop.created(shop.tea)
    url = f"/api/v1/reviews/{review['id']}"
    for user in (shop.shopper, shop.vendor["owner"], shop.admin):
        assert client.get(url, headers=user["headers"]).status_code == 200
    assert_problem(client.get(url), 404, "review_not_found")
    assert_problem(client.get(url, headers=make.user("shopper")["headers"]), 404, "review_not_found")
    other_vendor = make.vendor("CN")
    assert_problem(client.get(url, headers=other_vendor["owner"]["headers"]), 404, "review_not_found")
    assert_problem(client.get(f"{url}/history", headers=make.user("shopper")["headers"]), 404)

    shop.moderate(review, "publish")
    response = client.get(url)
    assert response.status_code == 200 and response.get_json()["status"] == "published"


def test_reviews_are_listed_newest_first_and_paginated(shop, client, make):
    ids = [shop.published(shop.tea)["id"]]
    for _ in range(2):
        shopper = make.user("shopper")
        order = shop.delivered_order(shopper, [(shop.tea, 1)])
        response = shop.moderate(shop.created(shop.tea, shopper=shopper, order=order), "publish")
        ids.append(response.get_json()["id"])
    first = shop.product_reviews(shop.tea, per_page=2)
    second = shop.product_reviews(shop.tea, per_page=2, page=2)
    assert first["total"] == 3 and [r["id"] for r in first["items"] + second["items"]] == ids[::-1]
    assert_problem(client.get(f"/api/v1/products/{shop.tea['id']}/reviews", query_string={"per_page": 101}), 422,
                   field="per_page")
    assert_problem(client.get("/api/v1/products/999999/reviews"), 404)


# -- the vendor's reply, reports -----------------------------------------------------------------

def test_the_vendor_replies_once(shop, client, make):
    review = shop.published(shop.tea)
    url = f"/api/v1/reviews/{review['id']}/reply"
    other_vendor = make.vendor("CN")
    assert_problem(client.post(url, json={"body": "Thanks"}, headers=other_vendor["owner"]["headers"]), 403)
    assert_problem(client.post(url, json={"body": "Thanks"}, headers=shop.shopper["headers"]), 403)
    assert_problem(client.post(url, json={"body": ""}, headers=shop.vendor["owner"]["headers"]), 422, field="body")

    response = client.post(url, json={"body": "Thank you! Call +91 98765 43210."},
                           headers=shop.vendor["owner"]["headers"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["reply"]["body"].startswith("Thank you!")
    assert "98765 43210" not in response.get_json()["reply"]["body"]
    assert_problem(client.post(url, json={"body": "Again"}, headers=shop.vendor["owner"]["headers"]), 409,
                   "already_replied")
    listed = shop.product_reviews(shop.tea)["items"][0]
    assert listed["reply"]["body"].startswith("Thank you!") and listed["reply"]["created_at"]


def test_anyone_logged_in_reports_a_review_once(shop, client, make):
    review = shop.published(shop.tea)
    url = f"/api/v1/reviews/{review['id']}/report"
    reader = make.user("shopper")
    assert_problem(client.post(url, json={"reason": "Spam"}), 401)
    assert_problem(client.post(url, json={}, headers=reader["headers"]), 422, field="reason")
    response = client.post(url, json={"reason": "Spam\nand more spam"}, headers=reader["headers"])
    assert response.status_code == 201 and response.get_json()["review_id"] == review["id"]
    assert_problem(client.post(url, json={"reason": "Again"}, headers=reader["headers"]), 409, "already_reported")
    assert client.post(url, json={"reason": "Rude"}, headers=shop.vendor["owner"]["headers"]).status_code == 201
    queue = client.get("/api/v1/reviews", query_string={"status": "published"},
                       headers=shop.admin["headers"]).get_json()
    assert queue["items"][0]["report_count"] == 2
    pending = shop.created(shop.shawl)
    assert_problem(client.post(f"/api/v1/reviews/{pending['id']}/report", json={"reason": "x"},
                               headers=reader["headers"]), 404)


# -- the rating on product pages and in search -----------------------------------------------------

def test_search_items_show_the_rating_and_sort_by_it(shop, client, make):
    third = create_product(client, shop.vendor, translations={"en": {"title": "Darjeeling tea"}})
    shop.published(shop.tea, rating=4)
    shop.published(shop.shawl, rating=5)

    items = {item["id"]: item for item in client.get(SEARCH).get_json()["items"]}
    assert items[shop.tea["id"]]["rating"] == {"average": "4.0", "count": 1}
    assert items[shop.shawl["id"]]["rating"] == {"average": "5.0", "count": 1}
    assert items[third["id"]]["rating"] == {"average": None, "count": 0}
    ranked = [item["id"] for item in client.get(SEARCH, query_string={"sort": "rating"}).get_json()["items"]]
    assert ranked == [shop.shawl["id"], shop.tea["id"], third["id"]]

    # a second shopper's 5 lifts the tea to 4.5 and two reviews: still below the shawl's 5.0
    shopper = make.user("shopper")
    order = shop.delivered_order(shopper, [(shop.tea, 1)])
    shop.moderate(shop.created(shop.tea, shopper=shopper, order=order, rating=5), "publish")
    response = client.get(SEARCH, query_string={"sort": "rating", "q": "tea"})
    assert [(i["id"], i["rating"]["average"]) for i in response.get_json()["items"]] == [
        (shop.tea["id"], "4.5"), (third["id"], None)]
    assert_problem(client.get(SEARCH, query_string={"sort": "stars"}), 422, field="sort")


def test_average_is_rounded_half_up_to_one_decimal(shop, client, make):
    shop.published(shop.tea, rating=5)
    for rating in (4, 4):
        shopper = make.user("shopper")
        order = shop.delivered_order(shopper, [(shop.tea, 1)])
        shop.moderate(shop.created(shop.tea, shopper=shopper, order=order, rating=rating), "publish")
    assert shop.rating(shop.tea) == {"average": "4.3", "count": 3}  # 13 / 3 = 4.333...


# -- the vendor's public record ------------------------------------------------------------------

def test_the_vendors_public_record(shop, client, make):
    shop.published(shop.tea, rating=5)
    shop.published(shop.shawl, rating=4)
    # an order paid and left unshipped past the window counts as late
    late_buyer = make.user("shopper")
    late = buy(client, late_buyer, [(shop.tea, 1)], currency="INR")
    confirm_payment(client, late_buyer, late["id"])
    clock.freeze(clock.now() + timedelta(days=4))

    response = client.get(f"/api/v1/vendors/{shop.vendor['id']}/record")
    assert response.status_code == 200, response.get_json()
    record = response.get_json()
    assert record["rating"] == {"average": "4.5", "count": 2}
    assert record["on_time_shipping"] == {"rate": "0.50", "window_days": 3, "on_time": 1, "due": 2}
    assert record["disputes"] == {"rate": "0.00", "disputes": 0, "delivered_orders": 1}
    assert record["answer_time"] == {"median_hours": None, "answered": 0, "unanswered": 0}
    assert_problem(client.get("/api/v1/vendors/999999/record"), 404)
    unapproved = make.vendor("CN", approved=False)
    assert_problem(client.get(f"/api/v1/vendors/{unapproved['id']}/record"), 404)


def test_initials_never_show_more_than_first_letters():
    assert initials("Ana Maria Souza") == "A. S."
    assert initials("li wei") == "L. W."
    assert initials("Cher") == "C."
    assert initials("") == "—" and initials(None) == "—"
    assert initials("张伟") == "张."
    assert initials("ana@example.com") == "—" and initials("Ana ana@example.com") == "A."
    assert ADDRESS["name"] == "Ana Souza"


def test_the_record_counts_disputes_and_the_vendors_answer_time(shop, client, make):
    (part,) = shop.order["vendor_orders"]
    start = clock.now()
    clock.freeze(start)
    response = client.post(f"/api/v1/vendor-orders/{part['id']}/messages", json={"body": "Is it wool?", "locale": "en"},
                           headers=shop.shopper["headers"])
    assert response.status_code == 201, response.get_json()
    clock.freeze(start + timedelta(minutes=30))
    response = client.post(f"/api/v1/vendor-orders/{part['id']}/messages", json={"body": "Pashmina.", "locale": "en"},
                           headers=shop.vendor["owner"]["headers"])
    assert response.status_code == 201, response.get_json()
    # a second delivered order, whose shopper's question the vendor has not answered
    second_shopper = make.user("shopper")
    (other_part,) = shop.delivered_order(second_shopper, [(shop.tea, 1)])["vendor_orders"]
    response = client.post(f"/api/v1/vendor-orders/{other_part['id']}/messages",
                           json={"body": "Where is the invoice?", "locale": "en"}, headers=second_shopper["headers"])
    assert response.status_code == 201, response.get_json()
    response = client.post("/api/v1/disputes", json={
        "vendor_order_id": part["id"], "type": "not_as_described",
        "claim": {"amount": part["subtotal"]["amount"], "currency": part["subtotal"]["currency"]},
        "description": "Not pashmina."}, headers={**shop.shopper["headers"], "Idempotency-Key": "dispute-record-1"})
    assert response.status_code == 201, response.get_json()

    record = client.get(f"/api/v1/vendors/{shop.vendor['id']}/record").get_json()
    assert record["disputes"] == {"rate": "0.50", "disputes": 1, "delivered_orders": 2}
    assert record["answer_time"] == {"median_hours": "0.5", "answered": 1, "unanswered": 1}


def _at_once(app, calls: list) -> list:
    """Run `calls` ([(method, url, json, headers)]) at once, each from its own test client; the responses."""
    barrier = threading.Barrier(len(calls))
    responses: list = [None] * len(calls)

    def send(index: int, method: str, url: str, body: dict, headers: dict) -> None:
        client = app.test_client()
        barrier.wait()
        responses[index] = client.open(url, method=method, json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_two_admins_publishing_at_once_publish_once(shop, app, make):
    review = shop.created(shop.tea)
    other_admin = make.user("admin")
    url = f"/api/v1/reviews/{review['id']}/publish"
    responses = _at_once(app, [("POST", url, {}, shop.admin["headers"]), ("POST", url, {}, other_admin["headers"])])
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert next(r for r in responses if r.status_code == 409).get_json()["current_status"] == "published"
    history = shop.client.get(f"/api/v1/reviews/{review['id']}/history", headers=shop.admin["headers"]).get_json()
    assert [h["to"] for h in history["items"]] == ["pending", "published"]


def test_reviews_of_one_product_published_at_once_are_both_counted(shop, app, make):
    second = make.user("shopper")
    order = shop.delivered_order(second, [(shop.tea, 1)])
    first = shop.created(shop.tea, rating=5)
    response = shop.review(shop.tea, shopper=second, order=order, rating=2)
    assert response.status_code == 201
    other = response.get_json()
    other_admin = make.user("admin")
    responses = _at_once(app, [("POST", f"/api/v1/reviews/{first['id']}/publish", {}, shop.admin["headers"]),
                               ("POST", f"/api/v1/reviews/{other['id']}/publish", {}, other_admin["headers"])])
    assert [r.status_code for r in responses] == [200, 200]
    assert shop.rating(shop.tea) == {"average": "3.5", "count": 2}


def test_two_replies_at_once_store_one(shop, app):
    review = shop.published(shop.tea)
    url = f"/api/v1/reviews/{review['id']}/reply"
    headers = shop.vendor["owner"]["headers"]
    responses = _at_once(app, [("POST", url, {"body": "First"}, headers), ("POST", url, {"body": "Second"}, headers)])
    assert sorted(r.status_code for r in responses) == [201, 409]
    stored = shop.client.get(f"/api/v1/reviews/{review['id']}").get_json()["reply"]["body"]
    assert stored == next(r for r in responses if r.status_code == 201).get_json()["reply"]["body"]
