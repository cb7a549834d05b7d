"""Search sync without loss: the transactional outbox, an engine that is down, the worker, versions.

Requests are made without an app context held by the test (a held context would
be shared by the requests, and with it `g`); the database and the engine are
inspected in short `app.app_context()` blocks.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from marketplace.storefront.search.engine import EngineUnavailable, SearchQuery
from marketplace.kernel import clock
from marketplace.kernel.extensions import db
from marketplace.kernel.outbox import OutboxEvent
from tests.api.test_products import PRODUCTS, assert_problem, create_product, product_payload, send_json

SEARCH = "/api/v1/search"


def outbox_rows(app) -> list[dict[str, Any]]:
    with app.app_context():
        rows = [{"topic": e.topic, "key": e.key, "attempts": e.attempts, "last_error": e.last_error,
                 "processed": e.processed_at is not None, "available_at": e.available_at}
                for e in db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]
        db.session.remove()
    return rows


def search_ids(client, **params: Any) -> list[int]:
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def indexed_versions(app) -> dict[int, int]:
    """{product id: version} of the live documents the engine holds (straight from the engine)."""
    with app.app_context():
        result = app.extensions["search_engine"].search(SearchQuery(per_page=100))
    return {doc["id"]: doc["version"] for doc in result.hits}


@pytest.fixture
def T0() -> datetime:
    """A moment to freeze the clock at: now (access tokens issued by the factories are valid for an hour)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def vendor(make):
    make.rates()
    return make.vendor("IN")


@pytest.fixture
def engine_down(app, monkeypatch):
    """The app's engine refuses every write until `restore()`; searches still answer (stale)."""
    engine = app.extensions["search_engine"]
    calls = {"index": 0, "delete": 0}

    def refuse(name):
        def method(*_args, **_kwargs):
            calls[name] += 1
            raise EngineUnavailable("connection refused (test)")
        return method

    monkeypatch.setattr(engine, "index", refuse("index"))
    monkeypatch.setattr(engine, "delete", refuse("delete"))

    class Switch:
        attempts = calls

        @staticmethod
        def restore() -> None:
            monkeypatch.delattr(engine, "index")
            monkeypatch.delattr(engine, "delete")

    return Switch


# -- every write records an event in its own transaction ------------------------------

def test_creating_a_product_records_a_search_event_delivered_before_the_response(app, client, vendor):
    product = create_product(client, vendor)
    last = outbox_rows(app)[-1]
    assert (last["topic"], last["key"]) == ("search.product", str(product["id"]))
    assert last["processed"] and last["attempts"] == 0 and last["last_error"] is None
    assert search_ids(client) == [product["id"]]


def test_every_product_write_records_one_event_and_a_no_op_records_none(app, client, vendor):
    product = create_product(client, vendor)
    url, headers = f"{PRODUCTS}/{product['id']}", vendor["owner"]["headers"]

    def product_events() -> list[dict[str, Any]]:
        return [r for r in outbox_rows(app) if r["topic"] == "search.product" and r["key"] == str(product["id"])]

    assert len(product_events()) == 1
    send_json(client, "PATCH", url, {"stock": 7}, headers)
    assert len(product_events()) == 2
    send_json(client, "PATCH", url, {"stock": 7}, headers)  # no change, no event
    assert len(product_events()) == 2
    assert client.delete(url, headers=headers).status_code == 204
    assert len(product_events()) == 3
    client.delete(url, headers=headers)  # already archived
    assert len(product_events()) == 3
    assert all(r["processed"] for r in product_events())


def test_vendor_visibility_changes_record_vendor_events(app, client, make, vendor):
    admin = make.user("admin")

    def vendor_events() -> int:
        return sum(1 for r in outbox_rows(app) if r["topic"] == "search.vendor" and r["key"] == str(vendor["id"]))

    before = vendor_events()  # approval by the factory already recorded one
    assert before >= 1
    client.post(f"/api/v1/vendors/{vendor['id']}/suspend", json={"reason": "Audit"}, headers=admin["headers"])
    assert vendor_events() == before + 1
    client.post(f"/api/v1/vendors/{vendor['id']}/approve", json={}, headers=admin["headers"])
    assert vendor_events() == before + 2


def test_a_refused_write_leaves_no_event(app, client, vendor):
    create_product(client, vendor, sku="ONCE")
    count = len(outbox_rows(app))
    response = send_json(client, "POST", PRODUCTS, product_payload(sku="ONCE"), vendor["owner"]["headers"])
    assert_problem(response, 409, "sku_taken")
    response = send_json(client, "POST", PRODUCTS, product_payload(category="nope"), vendor["owner"]["headers"])
    assert_problem(response, 422, "unknown_category")
    assert len(outbox_rows(app)) == count


def test_a_sku_race_lost_at_the_database_is_a_409_without_a_product_or_an_event(app, client, vendor, monkeypatch):
    """Two requests may both pass the SKU pre-check; the unique constraint decides, and the loser gets 409."""
    from catalog import services

    create_product(client, vendor, sku="RACE")
    count = len(outbox_rows(app))
    monkeypatch.setattr(services, "_sku_free", lambda *args, **kwargs: None)  # the other request's check passed

    response = send_json(client, "POST", PRODUCTS, product_payload(sku="RACE"), vendor["owner"]["headers"])

    assert_problem(response, 409, "sku_taken", "sku")
    assert len(outbox_rows(app)) == count
    listing = client.get(f"/api/v1/vendors/{vendor['id']}/products", headers=vendor["owner"]["headers"]).get_json()
    assert listing["total"] == 1


def test_an_event_rolls_back_with_its_write(app, vendor):
    """The event is in the caller's transaction: when the commit fails, neither the product nor the event stays."""
    from decimal import Decimal

    from sqlalchemy import event

    from catalog import services
    from catalog.models import Product
    from marketplace.accounts.models import User
    from marketplace.kernel.money import Money

    seen = []

    def fail_before_commit(session):
        seen.append([o.topic for o in [*session.new, *session.identity_map.values()] if isinstance(o, OutboxEvent)])
        raise RuntimeError("connection lost before COMMIT")

    with app.app_context():
        session = db.session()
        event.listen(session, "before_commit", fail_before_commit)
        try:
            owner = session.get(User, vendor["owner"]["id"])
            data = {**product_payload(), "price": Money(Decimal("650.00"), "INR")}
            with pytest.raises(RuntimeError):
                services.create_product(session, owner, data)
        finally:
            event.remove(session, "before_commit", fail_before_commit)
        assert seen == [["search.product"]]  # the event was in the transaction ...
        session.rollback()  # ... and leaves with it
        assert session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "search.product")) is None
        assert session.scalar(select(Product)) is None
        db.session.remove()


# -- the engine is down: writes succeed, nothing is lost ------------------------------------

def test_writes_succeed_while_the_engine_is_down_and_events_wait_with_the_error(app, client, vendor, engine_down, T0):
    clock.freeze(T0)
    response = send_json(client, "POST", PRODUCTS, product_payload(translations={"en": {"title": "Nilgiri tea"}}),
                         vendor["owner"]["headers"])
    assert response.status_code == 201
    product = response.get_json()
    patched = send_json(client, "PATCH", f"{PRODUCTS}/{product['id']}", {"stock": 1}, vendor["owner"]["headers"])
    assert patched.status_code == 200 and patched.get_json()["version"] == 2

    pending = [r for r in outbox_rows(app) if not r["processed"]]
    assert [r["key"] for r in pending] == [str(product["id"])] * 2
    assert all(r["attempts"] >= 1 and "EngineUnavailable" in r["last_error"] for r in pending)
    assert all(r["available_at"] > T0 for r in pending)  # backed off
    assert engine_down.attempts["index"] >= 1
    assert search_ids(client, q="nilgiri") == []
    health = client.get("/api/v1/health").get_json()
    assert health["outbox"]["backlog"] == 2


def test_the_worker_delivers_what_waited_once_the_engine_is_back(app, client, runner, vendor, engine_down, T0):
    clock.freeze(T0)
    product = create_product(client, vendor, translations={"en": {"title": "Nilgiri tea"}})
    send_json(client, "PATCH", f"{PRODUCTS}/{product['id']}", {"stock": 2}, vendor["owner"]["headers"])
    engine_down.restore()

    early = runner.invoke(args=["worker", "--once"])  # the backoff has not passed yet
    assert early.exit_code == 0, early.output
    assert "backlog 2" in early.output
    assert search_ids(client, q="nilgiri") == []

    clock.freeze(T0 + timedelta(minutes=11))  # past the longest backoff
    result = runner.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "2 items processed" in result.output and "backlog 0" in result.output
    assert all(r["processed"] for r in outbox_rows(app))
    assert search_ids(client, q="nilgiri") == [product["id"]]
    assert indexed_versions(app) == {product["id"]: 2}
    assert client.get("/api/v1/health").get_json()["outbox"]["backlog"] == 0


def test_retries_back_off_exponentially_while_the_engine_stays_down(app, client, runner, vendor, engine_down, T0):
    clock.freeze(T0)
    create_product(client, vendor)
    first = outbox_rows(app)[-1]
    assert first["attempts"] == 1 and first["available_at"] == T0 + timedelta(seconds=2)

    clock.freeze(T0 + timedelta(seconds=3))
    runner.invoke(args=["worker", "--once"])
    second = outbox_rows(app)[-1]
    assert second["attempts"] == 2 and second["available_at"] == T0 + timedelta(seconds=3 + 4)
    assert not second["processed"]


def test_the_final_state_wins_after_an_outage(app, client, runner, make, vendor, engine_down, T0):
    """Changes made during an outage are replayed as the current database state, not as history."""
    admin = make.user("admin")
    clock.freeze(T0)
    kept = create_product(client, vendor, translations={"en": {"title": "Kept tea"}})
    archived = create_product(client, vendor, translations={"en": {"title": "Archived tea"}})
    client.delete(f"{PRODUCTS}/{archived['id']}", headers=vendor["owner"]["headers"])
    other = make.vendor("CN")
    hidden = create_product(client, other, translations={"en": {"title": "Suspended tea"}},
                            price={"amount": "20.00", "currency": "CNY"})
    client.post(f"/api/v1/vendors/{other['id']}/suspend", json={"reason": "Audit"}, headers=admin["headers"])
    assert hidden["id"] not in indexed_versions(app)  # never reached the engine
    engine_down.restore()

    clock.freeze(T0 + timedelta(minutes=11))
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0

    assert indexed_versions(app) == {kept["id"]: 1}
    assert search_ids(client, q="tea") == [kept["id"]]


def test_an_outage_during_a_removal_keeps_the_product_until_the_worker_runs(app, client, runner, vendor, monkeypatch,
                                                                           T0):
    product = create_product(client, vendor)
    engine = app.extensions["search_engine"]

    def refuse(*_args, **_kwargs):
        raise EngineUnavailable("connection refused (test)")

    monkeypatch.setattr(engine, "delete", refuse)
    clock.freeze(T0)
    assert client.delete(f"{PRODUCTS}/{product['id']}", headers=vendor["owner"]["headers"]).status_code == 204
    assert search_ids(client) == [product["id"]]  # stale until delivered
    monkeypatch.delattr(engine, "delete")

    clock.freeze(T0 + timedelta(minutes=11))
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert search_ids(client) == []


# -- external versioning ---------------------------------------------------------------

def test_an_older_document_indexed_after_a_newer_one_is_ignored(app, client, vendor):
    product = create_product(client, vendor, translations={"en": {"title": "Version one"}})
    send_json(client, "PATCH", f"{PRODUCTS}/{product['id']}", {"translations": {"en": {"title": "Version two"}}},
              vendor["owner"]["headers"])
    engine = app.extensions["search_engine"]
    with app.app_context():
        current = engine.search(SearchQuery()).hits[0]
        assert current["version"] == 2
        engine.index([{**current, "version": 1, "translations": {"en": {"title": "Version one"}}}])
        engine.delete({product["id"]: 1})  # a stale removal is ignored too

    assert indexed_versions(app) == {product["id"]: 2}
    assert search_ids(client, q="two") == [product["id"]]
    assert search_ids(client, q="one") == []


def test_a_late_replay_of_an_old_event_does_not_resurrect_an_archived_product(app, client, runner, vendor):
    product = create_product(client, vendor)
    client.delete(f"{PRODUCTS}/{product['id']}", headers=vendor["owner"]["headers"])
    with app.app_context():  # the creation event delivered again (e.g. a worker that crashed before marking it)
        from marketplace.kernel import outbox

        event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "search.product")
                                   .order_by(OutboxEvent.id)).first()
        event.processed_at = None
        db.session.commit()
        assert outbox.drain(db.session) == 1
        db.session.remove()
    assert search_ids(client) == []
    assert indexed_versions(app) == {}
