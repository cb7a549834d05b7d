"""Verified reviews over HTTP against the running system: a shopper buys a new product of the demo Indian vendor;
before delivery the line cannot be reviewed; once delivered, two reviews of the line sent at once (two gunicorn
workers) give one 201 and one 409; an operator publishes it, the vendor's partner hears `review.published`
through a signed webhook, the product page and search show the rating and sort by it; the vendor replies once;
a stranger reports it; the vendor's public record counts it. The demo data holds published reviews."""
from __future__ import annotations

from tests.journeys.support import assert_problem, ok, parallel, unique, verify_signature, wait_until

ADDRESS = {"name": "Ana Souza", "line1": "Rua Augusta 1500", "city": "São Paulo", "postal_code": "01304-001",
           "country": "BR"}
WORKER_WAIT = 20


def test_a_verified_review_from_delivery_to_search(system, demo):
    india = demo["vendors"]["IN"]
    vendor = system.login(india["contact_email"])
    admin = system.login("admin@buybrics.example")
    shopper = system.new_shopper()
    word = unique("rvw").replace("-", "")  # a word only this product carries
    product = ok(vendor.post("/products", json={
        "sku": unique("RVW").upper()[:40], "translations": {"en": {"title": f"Pashmina stole {word}"}},
        "price": {"amount": "3000.00", "currency": "INR"}, "stock": 5, "category": "shawls-scarves",
        "hs_code": "621410", "status": "active", "weight_g": 300}), 201)
    partner = system.partner(system.demo_partner_key)
    hook = ok(partner.post("/partner/webhooks", json={"url": system.receiver.url("/reviews"),
                                                      "events": ["review.published"]}), 201)

    ok(shopper.post("/cart/items", json={"product_id": product["id"], "quantity": 1}), 201)
    order = ok(shopper.post("/checkout", json={"currency": "BRL", "shipping_address": ADDRESS},
                            headers={"Idempotency-Key": unique("checkout")}), 201)["order"]
    ok(shopper.post(f"/orders/{order['id']}/payment/confirm"))
    (part,) = order["vendor_orders"]
    (line,) = order["lines"]
    url = f"/orders/{order['id']}/lines/{line['id']}/review"
    ok(vendor.post(f"/vendor/orders/{part['id']}/ship", json={"carrier": "India Post", "tracking_number": "IP7"}))

    # not delivered yet: refused, naming the state found; bad input names its field
    body = assert_problem(shopper.post(url, json={"rating": 5, "locale": "en"}), 409, "not_delivered")
    assert body["current_status"] == "shipped"
    ok(vendor.post(f"/vendor/orders/{part['id']}/deliver"))
    assert_problem(shopper.post(url, json={"rating": 9, "locale": "en"}), 422, field="rating")
    assert_problem(system.new_shopper().post(url, json={"rating": 5, "locale": "en"}), 404, "order_line_not_found")

    # two reviews of the line at once: one is stored, the other is told it exists
    answers = parallel([lambda r=r: shopper.post(url, json={"rating": r, "title": "Soft and warm", "locale": "en",
                                                            "body": f"Write to me: {word}@example.com"})
                        for r in (4, 5)])
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    review = next(a.json() for a in answers if a.status_code == 201)
    assert review["status"] == "pending" and review["reviewer"] == "A. S."
    assert f"{word}@example.com" not in review["body"]
    assert_problem(next(a for a in answers if a.status_code == 409), 409, "already_reviewed")
    assert ok(system.client().get(f"/products/{product['id']}/reviews"))["total"] == 0
    assert_problem(system.client().get(f"/reviews/{review['id']}"), 404, "review_not_found")

    # the operator publishes: the product's rating, search, the sort and the partner's webhook follow
    queue = ok(admin.get("/reviews", params={"status": "pending", "per_page": 100}))
    assert review["id"] in [r["id"] for r in queue["items"]]
    published = ok(admin.post(f"/reviews/{review['id']}/publish", json={}))
    assert published["status"] == "published"
    assert_problem(admin.post(f"/reviews/{review['id']}/publish", json={}), 409, "invalid_review_state")
    anyone = system.client()
    rating = {"average": f"{review['rating']}.0", "count": 1}
    assert ok(anyone.get(f"/products/{product['id']}"))["rating"] == rating
    found = ok(anyone.get("/search", params={"q": word}))["items"]
    assert [(item["id"], item["rating"]) for item in found] == [(product["id"], rating)]
    ranked = ok(anyone.get("/search", params={"category": "shawls-scarves", "sort": "rating", "per_page": 100}))
    averages = [item["rating"]["average"] for item in ranked["items"]]
    rated = [a for a in averages if a is not None]
    assert rated == sorted(rated, key=float, reverse=True) and averages[:len(rated)] == rated
    assert product["id"] in [item["id"] for item in ranked["items"][:len(rated)]]

    deliveries = wait_until(lambda: [d for d in system.receiver.received("/reviews", "review.published")
                                     if d.data.get("review_id") == review["id"]], WORKER_WAIT, 0.3,
                            "review.published at the partner")
    assert verify_signature(hook["secret"], deliveries[0].headers, deliveries[0].body)
    assert deliveries[0].data["vendor_id"] == india["id"] and f"{word}@example.com" not in deliveries[0].body.decode()

    # the vendor answers once; a stranger reports it once
    answer = ok(vendor.post(f"/reviews/{review['id']}/reply", json={"body": "Thank you, Ana!"}), 201)
    assert answer["reply"]["body"] == "Thank you, Ana!"
    assert_problem(vendor.post(f"/reviews/{review['id']}/reply", json={"body": "Again"}), 409, "already_replied")
    reader = system.new_shopper()
    ok(reader.post(f"/reviews/{review['id']}/report", json={"reason": "Off topic"}), 201)
    assert_problem(reader.post(f"/reviews/{review['id']}/report", json={"reason": "Off topic"}), 409,
                   "already_reported")
    listed = ok(anyone.get(f"/products/{product['id']}/reviews"))["items"]
    assert [(r["id"], r["reply"]["body"]) for r in listed] == [(review["id"], "Thank you, Ana!")]
    assert "@" not in str(listed[0]["reviewer"])

    record = ok(anyone.get(f"/vendors/{india['id']}/record"))
    assert record["rating"]["count"] >= 1 and record["on_time_shipping"]["window_days"] == 3
    assert record["on_time_shipping"]["on_time"] >= 1 and record["disputes"]["delivered_orders"] >= 1


def test_the_demo_data_holds_published_reviews(system, demo):
    anyone = system.client()
    india = demo["vendors"]["IN"]
    products = ok(anyone.get(f"/vendors/{india['id']}/products", params={"per_page": 100}))["items"]
    reviewed = [p for p in products if ok(anyone.get(f"/products/{p['id']}/reviews"))["total"]]
    assert reviewed, "no demo product has a published review"
    reviews = ok(anyone.get(f"/products/{reviewed[0]['id']}/reviews"))["items"]
    assert all(r["status"] == "published" and r["verified_purchase"] for r in reviews)
    assert ok(anyone.get(f"/products/{reviewed[0]['id']}"))["rating"]["count"] >= 1
