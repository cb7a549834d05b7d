"""Listing sync through the partner API: PUT (upsert), PATCH (stock and price), DELETE, the delta feed."""
from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from catalog.models import Product
from marketplace.kernel import clock
from marketplace.kernel.events import TOPIC as PARTNER_EVENT_TOPIC
from marketplace.kernel.extensions import db
from marketplace.kernel.idempotency import IdempotencyRecord
from marketplace.kernel.outbox import OutboxEvent
from tests.api.test_products import assert_problem, product_payload, search_ids

LISTINGS = "/api/v1/partner/listings"
_serial = itertools.count(1)


def listing(vendor: dict, external_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid listing for `vendor` (an active Assam tea product plus the partner's keys)."""
    return product_payload(external_id=external_id or f"EXT-{next(_serial)}", vendor_id=vendor["id"], **overrides)


def sync(client, partner: dict, *listings: dict, headers: dict | None = None, expect: int = 200) -> dict[str, Any]:
    response = client.put(LISTINGS, json={"listings": list(listings)}, headers={**partner["headers"], **(headers or {})})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def statuses(answer: dict) -> list[str]:
    return [r["status"] for r in answer["results"]]


def product_row(app, product_id: int) -> dict[str, Any]:
    with app.app_context():
        product = db.session.get(Product, product_id)
        row = {"version": product.version, "updated_at": product.updated_at, "stock": product.stock,
               "status": product.status, "price": str(product.price_amount), "sku": product.sku,
               "vendor_id": product.vendor_id, "translations": product.translations}
        db.session.remove()
    return row


def outbox_count(app, topic: str) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == topic))
        db.session.remove()
    return count


@pytest.fixture
def vendor(make):
    make.rates()
    return make.vendor("IN")


@pytest.fixture
def partner(make, vendor):
    return make.partner(vendors=[vendor])


# -- PUT ---------------------------------------------------------------------

def test_each_listing_gets_its_own_status_and_the_summary_counts_them(app, client, make, vendor, partner):
    first, second = listing(vendor, "A", version=1), listing(vendor, "B", version=5)
    sync(client, partner, first, second)
    changed = {**first, "stock": 7, "version": 2}
    older = {**second, "stock": 1, "version": 4}
    bad = listing(vendor, "C", price={"amount": 12, "currency": "INR"})

    answer = sync(client, partner, changed, second, older | {"external_id": "B"}, bad, listing(vendor, "D"))

    # "B" twice in one request: the second is an error, the first is unchanged
    assert statuses(answer) == ["updated", "unchanged", "error", "error", "created"]
    assert answer["summary"] == {"created": 1, "updated": 1, "unchanged": 1, "stale": 0, "error": 2}
    assert answer["results"][2]["code"] == "duplicate_external_id"
    assert "price.amount" in answer["results"][3]["errors"]
    assert answer["results"][3]["external_id"] == "C" and answer["results"][3]["product_id"] is None
    assert product_row(app, answer["results"][0]["product_id"])["stock"] == 7


def test_a_created_listing_is_a_product_of_the_vendor_that_search_finds(app, client, vendor, partner):
    answer = sync(client, partner, listing(vendor, "tea-1", sku="ASSAM-1"))

    result = answer["results"][0]
    assert result == {"external_id": "tea-1", "status": "created", "product_id": result["product_id"], "errors": None}
    row = product_row(app, result["product_id"])
    assert row["vendor_id"] == vendor["id"] and row["sku"] == "ASSAM-1" and row["status"] == "active"
    assert result["product_id"] in search_ids(client, q="Assam")
    public = client.get(f"/api/v1/products/{result['product_id']}").get_json()
    assert public["title"] == "Assam black tea" and public["vendor"]["id"] == vendor["id"]


def test_every_listing_of_a_batch_reaches_search(client, vendor, partner):
    answer = sync(client, partner, *(listing(vendor, f"many-{n}", sku=f"MANY-{n}") for n in range(4)))
    assert statuses(answer) == ["created"] * 4
    found = search_ids(client, q="Assam")
    assert all(r["product_id"] in found for r in answer["results"])


def test_unchanged_content_writes_nothing_and_records_no_event(app, client, vendor, partner):
    payload = listing(vendor, "same", version=3)
    product_id = sync(client, partner, payload)["results"][0]["product_id"]
    before = product_row(app, product_id)
    events = outbox_count(app, "search.product"), outbox_count(app, PARTNER_EVENT_TOPIC)

    # the same content, spelled differently (amount with more zeros, keys in another order, higher version)
    again = {**payload, "price": {"currency": "INR", "amount": "650.0000"}, "version": 4}
    answer = sync(client, partner, again)

    assert statuses(answer) == ["unchanged"]
    assert product_row(app, product_id) == before
    assert (outbox_count(app, "search.product"), outbox_count(app, PARTNER_EVENT_TOPIC)) == events
    # the higher version was remembered: version 3 is now stale
    assert statuses(sync(client, partner, {**payload, "stock": 1})) == ["stale"]


def test_a_lower_version_is_stale_and_changes_nothing(app, client, vendor, partner):
    payload = listing(vendor, "v", version=10)
    product_id = sync(client, partner, payload)["results"][0]["product_id"]

    answer = sync(client, partner, {**payload, "version": 9, "stock": 1, "sku": "OTHER"})

    assert answer["results"] == [{"external_id": "v", "status": "stale", "product_id": product_id, "errors": None}]
    assert product_row(app, product_id)["stock"] == payload["stock"]
    assert statuses(sync(client, partner, {**payload, "version": 11, "stock": 1})) == ["updated"]
    unversioned = {k: v for k, v in payload.items() if k != "version"}
    assert statuses(sync(client, partner, {**unversioned, "stock": 2})) == ["updated"]  # without a version: applied


def test_an_update_bumps_the_product_version_and_records_search_and_partner_events(app, client, vendor, partner):
    payload = listing(vendor, "u")
    product_id = sync(client, partner, payload)["results"][0]["product_id"]
    before = product_row(app, product_id)
    events = outbox_count(app, "search.product"), outbox_count(app, PARTNER_EVENT_TOPIC)

    changed = {**payload, "translations": {"pt": {"title": "Chá preto de Assam"}}}
    answer = sync(client, partner, changed)

    assert statuses(answer) == ["updated"]
    after = product_row(app, product_id)
    assert after["version"] == before["version"] + 1 and after["updated_at"] > before["updated_at"]
    assert after["translations"] == {"pt": {"title": "Chá preto de Assam", "description": ""}}  # PUT replaces
    assert outbox_count(app, "search.product") == events[0] + 1
    assert outbox_count(app, PARTNER_EVENT_TOPIC) == events[1] + 1


def test_one_bad_listing_never_rejects_the_others(app, client, vendor, partner):
    answer = sync(client, partner,
                  listing(vendor, "ok-1"),
                  listing(vendor, "bad-category", category="no-such-category"),
                  listing(vendor, "bad-field", colour="red"),
                  listing(vendor, "bad-hs", hs_code="12"),
                  listing(vendor, "bad-currency", price={"amount": "1.00", "currency": "XXX"}),
                  "not an object",
                  listing(vendor, "ok-2"))

    assert statuses(answer) == ["created", "error", "error", "error", "error", "error", "created"]
    errors = [r["errors"] for r in answer["results"]]
    assert "category" in errors[1] and answer["results"][1]["code"] == "unknown_category"
    assert errors[2] == {"colour": ["Unknown field."]}
    assert "hs_code" in errors[3] and "price.currency" in errors[4]
    assert answer["results"][5]["external_id"] is None
    assert answer["summary"]["created"] == 2 and answer["summary"]["error"] == 5


def test_a_vendor_that_did_not_authorize_the_partner_gets_an_error_result_and_no_product(app, client, make, vendor,
                                                                                          partner):
    stranger = make.vendor("BR")

    answer = sync(client, partner, listing(stranger, "foreign"), listing(vendor, "own"))

    assert statuses(answer) == ["error", "created"]
    assert answer["results"][0]["code"] == "vendor_not_authorized"
    assert "vendor_id" in answer["results"][0]["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)
                                 .where(Product.vendor_id == stranger["id"])) == 0
        db.session.remove()


def test_after_the_vendor_revokes_the_partner_its_writes_fail_and_the_feed_hides_them(client, vendor, partner):
    payload = listing(vendor, "gone")
    sync(client, partner, payload)
    response = client.delete(f"/api/v1/vendors/{vendor['id']}/partners/{partner['id']}",
                             headers=vendor["owner"]["headers"])
    assert response.status_code == 204

    answer = sync(client, partner, {**payload, "stock": 1})

    assert answer["results"][0]["code"] == "vendor_not_authorized"
    assert client.get(LISTINGS, headers=partner["headers"]).get_json()["items"] == []
    patch = client.patch(LISTINGS, json={"updates": [{"external_id": "gone", "stock": 2}]},
                         headers=partner["headers"]).get_json()
    assert patch["results"][0]["code"] == "vendor_not_authorized"
    assert_problem(client.delete(f"{LISTINGS}/gone", headers=partner["headers"]), 403, "vendor_not_authorized")


def test_a_listing_cannot_move_to_another_vendor(client, make, vendor, partner):
    other = make.vendor("CN")
    client.post(f"/api/v1/vendors/{other['id']}/partners", json={"partner_id": partner["id"]},
                headers=other["owner"]["headers"])
    payload = listing(vendor, "stay")
    sync(client, partner, payload)

    answer = sync(client, partner, {**payload, "vendor_id": other["id"]})

    assert answer["results"][0]["code"] == "listing_vendor_mismatch" and "vendor_id" in answer["results"][0]["errors"]


def test_a_sku_the_vendor_already_uses_is_an_error_for_that_listing_only(client, vendor, partner):
    response = client.post("/api/v1/products", json=product_payload(sku="TAKEN"), headers=vendor["owner"]["headers"])
    assert response.status_code == 201

    answer = sync(client, partner, listing(vendor, "x1", sku="TAKEN"), listing(vendor, "x2", sku="FREE"),
                  listing(vendor, "x3", sku="FREE"))

    assert statuses(answer) == ["error", "created", "error"]
    assert answer["results"][0]["code"] == answer["results"][2]["code"] == "sku_taken"
    assert "sku" in answer["results"][0]["errors"]


def test_two_partners_may_use_the_same_external_id_independently(make, client, vendor, partner):
    other = make.partner(vendors=[vendor])
    mine = sync(client, partner, listing(vendor, "shared-id", sku="P1"))["results"][0]
    theirs = sync(client, other, listing(vendor, "shared-id", sku="P2"))["results"][0]
    assert mine["status"] == theirs["status"] == "created"
    assert mine["product_id"] != theirs["product_id"]


def test_more_than_1000_listings_are_refused_naming_the_field(client, vendor, partner):
    payload = {"listings": [listing(vendor) for _ in range(1001)]}
    assert_problem(client.put(LISTINGS, json=payload, headers=partner["headers"]), 422, "validation_error",
                   field="listings")
    assert_problem(client.put(LISTINGS, json={"listings": []}, headers=partner["headers"]), 422, field="listings")
    assert_problem(client.put(LISTINGS, json={"items": []}, headers=partner["headers"]), 422, field="items")


def test_a_full_batch_of_1000_listings_bigger_than_the_usual_body_limit_is_accepted(app, client, vendor, partner):
    description = "Strong malty tea from Assam, second flush. " * 30
    listings = [listing(vendor, f"bulk-{i}", translations={"en": {"title": f"Assam tea {i}",
                                                                  "description": description}})
                for i in range(1000)]
    payload_size = len(str(listings))
    assert payload_size > app.config["MAX_CONTENT_LENGTH"]

    answer = sync(client, partner, *listings)

    assert answer["summary"]["created"] == 1000


def test_the_same_idempotency_key_and_body_replays_the_first_answer(app, client, vendor, partner):
    payload = listing(vendor, "idem")
    first = sync(client, partner, payload, headers={"Idempotency-Key": "sync-1"})
    second = sync(client, partner, payload, headers={"Idempotency-Key": "sync-1"})

    assert first == second and statuses(first) == ["created"]  # replayed, not "unchanged"
    with app.app_context():
        scopes = list(db.session.scalars(select(IdempotencyRecord.scope)))
        db.session.remove()
    assert scopes == [f"partner:{partner['id']}"]
    other_body = client.put(LISTINGS, json={"listings": [{**payload, "stock": 3}]},
                            headers={**partner["headers"], "Idempotency-Key": "sync-1"})
    assert_problem(other_body, 422, "idempotency_key_reused", field="Idempotency-Key")
    assert statuses(sync(client, partner, payload)) == ["unchanged"]  # without a key: processed again


# -- PATCH -------------------------------------------------------------------

def test_patch_changes_stock_and_price_with_per_item_results(app, client, vendor, partner):
    ids = {r["external_id"]: r["product_id"] for r in sync(client, partner, listing(vendor, "p1", version=1),
                                                            listing(vendor, "p2", version=1))["results"]}
    updates = [
        {"external_id": "p1", "stock": 3, "price": {"amount": "700.00", "currency": "INR"}, "version": 2},
        {"external_id": "p2", "stock": 40},                        # the same stock: unchanged
        {"external_id": "p2", "stock": 5, "version": 0},           # a duplicate in one request
        {"external_id": "nope", "stock": 1},
        {"external_id": "p1"},                                     # nothing to change
        {"external_id": "p1", "price": {"amount": "1.00", "currency": "XXX"}},
    ]

    response = client.patch(LISTINGS, json={"updates": updates}, headers=partner["headers"])

    assert response.status_code == 200
    answer = response.get_json()
    assert statuses(answer) == ["updated", "unchanged", "error", "error", "error", "error"]
    assert answer["results"][2]["code"] == "duplicate_external_id"
    assert answer["results"][3]["code"] == "listing_not_found" and "external_id" in answer["results"][3]["errors"]
    assert "body" in answer["results"][4]["errors"] and "price.currency" in answer["results"][5]["errors"]
    row = product_row(app, ids["p1"])
    assert row["stock"] == 3 and row["price"].startswith("700")
    stale = client.patch(LISTINGS, json={"updates": [{"external_id": "p1", "stock": 9, "version": 1}]},
                         headers=partner["headers"]).get_json()
    assert statuses(stale) == ["stale"] and product_row(app, ids["p1"])["stock"] == 3


def test_a_put_after_a_patch_sees_the_patched_content(client, vendor, partner):
    payload = listing(vendor, "pp")
    sync(client, partner, payload)
    client.patch(LISTINGS, json={"updates": [{"external_id": "pp", "stock": 1}]}, headers=partner["headers"])
    assert statuses(sync(client, partner, payload)) == ["updated"]       # stock back to 40
    assert statuses(sync(client, partner, payload)) == ["unchanged"]


# -- DELETE ------------------------------------------------------------------

def test_delete_archives_the_product_and_it_leaves_search(app, client, make, vendor, partner):
    product_id = sync(client, partner, listing(vendor, "to-archive"))["results"][0]["product_id"]
    assert product_id in search_ids(client, q="Assam")

    response = client.delete(f"{LISTINGS}/to-archive", headers=partner["headers"])

    assert response.status_code == 204
    assert product_row(app, product_id)["status"] == "archived"
    assert product_id not in search_ids(client, q="Assam")
    other = make.partner(vendors=[vendor])
    assert_problem(client.delete(f"{LISTINGS}/to-archive", headers=other["headers"]), 404, "listing_not_found")
    assert client.delete(f"{LISTINGS}/to-archive", headers=partner["headers"]).status_code == 204  # idempotent


def test_every_partner_write_reaches_search_before_its_answer(client, runner, vendor, partner):
    """PUT, PATCH, DELETE and jobs record their search events in their own transaction; the embedded default
    delivers them before the request answers (a job's, once the worker ran it)."""
    title = {"en": {"title": "Darjeeling muscatel second flush"}}
    product_id = sync(client, partner, listing(vendor, "srch", translations=title))["results"][0]["product_id"]
    assert search_ids(client, q="Darjeeling muscatel second flush") == [product_id]

    renamed = {"en": {"title": "Nilgiri frost tea"}}
    assert statuses(sync(client, partner, listing(vendor, "srch", translations=renamed))) == ["updated"]
    assert search_ids(client, q="Nilgiri frost") == [product_id]
    assert product_id not in search_ids(client, q="Darjeeling muscatel")

    patched = client.patch(LISTINGS, json={"updates": [{"external_id": "srch", "price": {"amount": "1234.00",
                                                                                         "currency": "INR"}}]},
                           headers=partner["headers"])
    assert patched.status_code == 200 and statuses(patched.get_json()) == ["updated"]
    [hit] = client.get("/api/v1/search", query_string={"q": "Nilgiri frost", "currency": "INR"}).get_json()["items"]
    assert hit["price"]["amount"] == "1234.00"

    assert client.delete(f"{LISTINGS}/srch", headers=partner["headers"]).status_code == 204
    assert search_ids(client, q="Nilgiri frost") == []

    body = json.dumps(listing(vendor, "from-job", sku="JOB-1",
                              translations={"en": {"title": "Kangra oolong"}})).encode() + b"\n"
    response = client.post(f"{LISTINGS}/jobs", data=body, content_type="application/x-ndjson",
                           headers=partner["headers"])
    assert response.status_code == 202
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert len(search_ids(client, q="Kangra oolong")) == 1


def test_concurrent_syncs_of_the_same_new_listings_make_each_product_once_and_never_500(app, vendor, partner):
    payloads = [listing(vendor, f"race-{n}", sku=f"RACE-{n}") for n in range(8)]
    answers: list[Any] = []
    barrier = threading.Barrier(6)

    def put(order: list[dict]) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.put(LISTINGS, json={"listings": order}, headers=partner["headers"])
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=put, args=(payloads if n % 2 else payloads[::-1],)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert [status for status, _body in answers] == [200] * 6, answers
    for _status, body in answers:  # the losers find what the winner made: unchanged, never an error
        assert {result["status"] for result in body["results"]} <= {"created", "unchanged"}, body
    created = [r["external_id"] for _s, body in answers for r in body["results"] if r["status"] == "created"]
    assert sorted(created) == sorted(p["external_id"] for p in payloads)  # each made once, by one of them
    with app.app_context():
        skus = db.session.scalars(select(Product.sku).where(Product.vendor_id == vendor["id"])).all()
        db.session.remove()
    assert sorted(skus) == sorted(p["sku"] for p in payloads)


def test_external_ids_with_slashes_work_in_the_path(client, vendor, partner):
    sync(client, partner, listing(vendor, "shop/42/tea"))
    assert client.delete(f"{LISTINGS}/shop/42/tea", headers=partner["headers"]).status_code == 204


# -- the feed ----------------------------------------------------------------

def feed(client, partner: dict, **params: Any) -> dict[str, Any]:
    response = client.get(LISTINGS, query_string=params, headers=partner["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_feed_shows_the_listings_as_the_marketplace_holds_them(client, vendor, partner):
    payload = listing(vendor, "feed-1", version=4, attributes={"grade": "FTGFOP"})
    product_id = sync(client, partner, payload)["results"][0]["product_id"]
    # the vendor edits the product directly: the feed shows the marketplace's copy
    client.patch(f"/api/v1/products/{product_id}", json={"stock": 12}, headers=vendor["owner"]["headers"])

    page = feed(client, partner)

    assert page["has_more"] is False and page["next_cursor"]
    [item] = page["items"]
    assert item["external_id"] == "feed-1" and item["product_id"] == product_id and item["version"] == 4
    assert item["stock"] == 12 and item["price"] == {"amount": "650.00", "currency": "INR"}
    assert item["attributes"] == {"grade": "FTGFOP"} and item["category"] == "tea"
    assert item["vendor_id"] == vendor["id"] and item["updated_at"]
    # the content changed behind the partner's back, so the same PUT is an update again
    assert statuses(sync(client, partner, {**payload, "version": 5})) == ["updated"]


def test_feed_pages_neither_skip_nor_repeat_while_listings_change(client, vendor, partner):
    sync(client, partner, *[listing(vendor, f"f{i:02d}") for i in range(10)])
    seen: list[str] = []

    page = feed(client, partner, limit=3)
    seen += [i["external_id"] for i in page["items"]]
    # meanwhile: one listing already seen and one not yet seen change
    sync(client, partner, listing(vendor, "f01", stock=1), listing(vendor, "f07", stock=1))
    while page["has_more"]:
        page = feed(client, partner, limit=3, cursor=page["next_cursor"])
        seen += [i["external_id"] for i in page["items"]]

    # every listing exactly once, except f01 which changed after it was seen and so comes again, last
    assert sorted(seen) == sorted([f"f{i:02d}" for i in range(10)] + ["f01"])
    assert seen[-2:] in (["f01", "f07"], ["f07", "f01"])
    assert seen.count("f07") == 1
    later = feed(client, partner, cursor=page["next_cursor"])
    assert later["items"] == [] and later["next_cursor"] == page["next_cursor"]  # poll again later from here


def test_feed_filters_by_updated_since_and_checks_its_arguments(client, vendor, partner):
    sync(client, partner, listing(vendor, "old"))
    all_items = feed(client, partner)["items"]
    since = all_items[-1]["updated_at"]
    sync(client, partner, listing(vendor, "new"))

    assert [i["external_id"] for i in feed(client, partner, updated_since=since)["items"]] == ["old", "new"]
    headers = partner["headers"]
    assert_problem(client.get(LISTINGS, query_string={"cursor": "garbage"}, headers=headers), 422, "invalid_cursor",
                   field="cursor")
    assert_problem(client.get(LISTINGS, query_string={"limit": 1001}, headers=headers), 422, field="limit")
    assert_problem(client.get(LISTINGS, query_string={"updated_since": "2026-01-01T00:00:00"}, headers=headers), 422,
                   field="updated_since")
    assert_problem(client.get(LISTINGS, query_string={"colour": "red"}, headers=headers), 422, field="colour")


def test_a_partner_never_sees_another_partners_listings(client, make, vendor, partner):
    other = make.partner(vendors=[vendor])
    sync(client, partner, listing(vendor, "mine"))

    assert feed(client, other)["items"] == []
    patch = client.patch(LISTINGS, json={"updates": [{"external_id": "mine", "stock": 0}]},
                         headers=other["headers"]).get_json()
    assert patch["results"][0]["code"] == "listing_not_found"


def test_a_change_shows_in_the_feed_once_it_has_settled(app, client, vendor, partner):
    """Writers stamp updated_at before they commit; the settle window keeps the cursor behind them."""
    moment = datetime.now(UTC).replace(microsecond=0)
    clock.freeze(moment)
    sync(client, partner, listing(vendor, "fresh"))
    saved = app.config["PARTNER_FEED_SETTLE_SECONDS"]
    app.config["PARTNER_FEED_SETTLE_SECONDS"] = 30
    try:
        clock.freeze(moment + timedelta(seconds=29))
        assert feed(client, partner)["items"] == []
        clock.freeze(moment + timedelta(seconds=30))
        assert [i["external_id"] for i in feed(client, partner)["items"]] == ["fresh"]
    finally:
        app.config["PARTNER_FEED_SETTLE_SECONDS"] = saved


def test_a_listing_carries_the_products_customs_data_and_resending_it_changes_nothing(client, vendor, partner):
    body = listing(vendor, "customs-1", weight_g=420, dimensions={"length_mm": 200, "width_mm": 150, "height_mm": 40},
                   customs={"description": "Black tea, loose leaf"})
    (result,) = sync(client, partner, body)["results"]
    assert result["status"] == "created", result
    product = client.get(f"/api/v1/products/{result['product_id']}").get_json()
    assert product["weight_g"] == 420 and product["customs"] == {"description": "Black tea, loose leaf"}
    assert product["dimensions"] == {"length_mm": 200, "width_mm": 150, "height_mm": 40}
    assert sync(client, partner, body)["results"][0]["status"] == "unchanged"
    (changed,) = sync(client, partner, {**body, "weight_g": 450})["results"]
    assert changed["status"] == "updated"
    assert client.get(f"/api/v1/products/{result['product_id']}").get_json()["weight_g"] == 450
    (vague,) = sync(client, partner, {**body, "customs": {"description": "gift"}})["results"]
    assert vague["status"] == "error" and "customs.description" in vague["errors"]
