"""The partner delta feed under concurrent writes: a change shows as soon as it commits, and paging never
skips a change nor repeats a row that did not change, whichever writer made it (partner sync, the vendor's
own edits, raw SQL) and however long its transaction stays open. Runs on SQLite and on PostgreSQL."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text, update

import config
from marketplace.kernel import clock
from catalog.models import Product
from marketplace.kernel.extensions import db
from marketplace.partners.models import PartnerListing
from tests.api.test_partner_listings import LISTINGS, listing, partner, sync, vendor  # noqa: F401 (fixtures)


def read(client, partner: dict, cursor: str | None, limit: int = 100) -> dict[str, Any]:
    response = client.get(LISTINGS, query_string={"limit": limit, **({"cursor": cursor} if cursor else {})},
                          headers=partner["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def read_to_end(client, partner: dict, cursor: str | None, limit: int = 100) -> tuple[list[dict], str | None]:
    items: list[dict] = []
    while True:
        page = read(client, partner, cursor, limit)
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor


def state(item: dict) -> tuple[int, int]:
    return item["product_version"], item["stock"]


def test_the_default_settle_delay_is_zero():
    assert config.Config.PARTNER_FEED_SETTLE_SECONDS == 0


def test_a_change_shows_in_the_feed_right_after_it_commits(client, vendor, partner):
    sync(client, partner, listing(vendor, "first"))
    items, cursor = read_to_end(client, partner, None)
    assert [i["external_id"] for i in items] == ["first"]

    started = time.monotonic()
    sync(client, partner, listing(vendor, "second"))
    client.patch(LISTINGS, json={"updates": [{"external_id": "first", "stock": 3}]}, headers=partner["headers"])
    items, _cursor = read_to_end(client, partner, cursor)

    assert time.monotonic() - started < 5
    assert [(i["external_id"], i["stock"]) for i in items] == [("second", 40), ("first", 3)]


def test_a_change_committed_late_by_a_long_transaction_is_not_paged_past(app, client, vendor, partner):
    """A writer that started earlier and commits later (its rows stamped before a quicker writer's) still
    reaches a client that paged on meanwhile."""
    answer = sync(client, partner, listing(vendor, "slow"), listing(vendor, "quick"))
    slow_id = answer["results"][0]["product_id"]
    _items, cursor = read_to_end(client, partner, None)

    with app.app_context():
        engine = db.engine
    # no app context is held below: each request gets its own
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(update(Product).where(Product.id == slow_id)
                       .values(stock=7, version=Product.version + 1, updated_at=clock.now()))
    quick = threading.Thread(target=lambda: app.test_client().patch(
        LISTINGS, json={"updates": [{"external_id": "quick", "stock": 9}]}, headers=partner["headers"]))
    quick.start()
    time.sleep(1.0)  # PostgreSQL: the quick write commits; SQLite: it waits for the write lock
    middle, cursor = read_to_end(client, partner, cursor)
    transaction.commit()
    connection.close()
    quick.join(30)
    assert not quick.is_alive()
    later, _cursor = read_to_end(client, partner, cursor)

    # the quick change may only show once nothing older is still running, so the slow one comes too
    assert [i["external_id"] for i in middle] == []
    assert sorted((i["external_id"], i["stock"]) for i in later) == [("quick", 9), ("slow", 7)]


def test_paging_while_writers_run_never_skips_a_change_nor_repeats_an_unchanged_row(app, client, make, vendor,
                                                                                      partner, monkeypatch):
    # the reader pages as fast as it can while the writers run: on a slow machine that is more reads than the
    # partner's rate limit allows, which is not what this test is about
    monkeypatch.setitem(app.config, "PARTNER_RATE_LIMIT", "100000 per minute")
    names = [f"c{i:02d}" for i in range(24)]
    answer = sync(client, partner, *[listing(vendor, name) for name in names])
    product_ids = {r["external_id"]: r["product_id"] for r in answer["results"]}
    stop = threading.Event()
    failures: list[Any] = []

    def partner_writer(offset: int) -> None:
        writer = app.test_client()
        for n in range(30):
            if stop.is_set():
                return
            batch = [{"external_id": names[(offset + 5 * n + k) % len(names)], "stock": 1000 * offset + n}
                     for k in range(3)]
            response = writer.patch(LISTINGS, json={"updates": batch}, headers=partner["headers"])
            if response.status_code != 200:
                failures.append(response.get_json())

    def vendor_writer() -> None:
        writer = app.test_client()
        for n in range(30):
            if stop.is_set():
                return
            product_id = product_ids[names[(7 * n) % len(names)]]
            response = writer.patch(f"/api/v1/products/{product_id}", json={"stock": 500 + n},
                                    headers=vendor["owner"]["headers"])
            if response.status_code != 200:
                failures.append(response.get_json())

    threads = [threading.Thread(target=partner_writer, args=(i,)) for i in range(1, 3)]
    threads.append(threading.Thread(target=vendor_writer))
    for thread in threads:
        thread.start()
    seen: dict[str, tuple[int, int]] = {}
    cursor = None
    try:
        while any(thread.is_alive() for thread in threads):
            page = read(client, partner, cursor, limit=4)
            for item in page["items"]:
                # a row comes again only because it changed: never as it was already seen
                assert state(item) != seen.get(item["external_id"]), item
                seen[item["external_id"]] = state(item)
            cursor = page["next_cursor"]
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    items, cursor = read_to_end(client, partner, cursor, limit=4)
    for item in items:
        assert state(item) != seen.get(item["external_id"]), item
        seen[item["external_id"]] = state(item)

    assert failures == []
    with app.app_context():
        held = {external_id: (version, stock) for external_id, version, stock in db.session.execute(
            select(PartnerListing.external_id, Product.version, Product.stock)
            .join(Product, Product.id == PartnerListing.product_id)).all()}
        db.session.remove()
    # the last state the client saw of each listing is the one the marketplace holds: no change was skipped
    assert seen == held
    assert max(version for version, _stock in held.values()) > 3


def test_a_long_transaction_in_another_database_does_not_hold_the_feed_back(app, client, vendor, partner):
    """PostgreSQL: transaction ids are shared by every database of the server; only this database's count."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    other = create_engine(engine.url.set(database="postgres"))
    try:
        with other.connect() as connection:
            connection.execute(text("SELECT pg_current_xact_id()"))  # holds a transaction id, writes nothing
            sync(client, partner, listing(vendor, "meanwhile"))
            items, _cursor = read_to_end(client, partner, None)
            connection.rollback()
    finally:
        other.dispose()

    assert [i["external_id"] for i in items] == ["meanwhile"]
