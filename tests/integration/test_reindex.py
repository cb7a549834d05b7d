"""`flask search reindex`: a full rebuild beside the live index, then a swap, without losing
writes made while it runs, and with searches answered throughout.

Writes "during" a reindex are made through the service layer on their own
database session and delivered by `outbox.drain`, as another web process would
(its inline drain indexes into the index that is live at that moment: the old one).
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy.orm import Session

from catalog import services as catalog
from marketplace.storefront.search import indexing
from marketplace.storefront.search.engine import SearchQuery
from marketplace.kernel import clock, outbox
from marketplace.accounts.models import User
from marketplace.kernel.extensions import db
from marketplace.kernel.money import Money
from tests.api.test_products import PRODUCTS, create_product, product_payload
from vendors.services import caller_vendor

SEARCH = "/api/v1/search"


def search_ids(client, **params: Any) -> list[int]:
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 200, response.get_json()
    return sorted(item["id"] for item in response.get_json()["items"])


def indexed(app) -> dict[int, int]:
    """{product id: version} of the live documents, straight from the engine."""
    with app.app_context():
        hits = app.extensions["search_engine"].search(SearchQuery(per_page=100)).hits
    return {doc["id"]: doc["version"] for doc in hits}


def service_data(title: str, **overrides: Any) -> dict[str, Any]:
    """What ProductCreateSchema would load for a product titled `title`."""
    data = product_payload(translations={"en": {"title": title, "description": ""}}, **overrides)
    data["price"] = Money(Decimal(data["price"]["amount"]), data["price"]["currency"])
    return data


class OtherProcess:
    """A second "web process": its own database session, writes through the service layer,
    then delivers its outbox events at once (the inline drain)."""

    def __init__(self, app, owner_id: int) -> None:
        self.app, self.owner_id = app, owner_id

    def _run(self, work: Callable[[Session, User], Any]) -> Any:
        session = Session(bind=db.engine)
        try:
            result = work(session, session.get(User, self.owner_id))
            result = getattr(result, "id", result)
            outbox.drain(session)
            return result
        finally:
            session.close()

    def create(self, title: str, **overrides: Any) -> int:
        return self._run(lambda s, user: catalog.create_product(s, user, service_data(title, **overrides)))

    def update(self, product_id: int, data: dict[str, Any]) -> None:
        self._run(lambda s, user: catalog.update_product(s, user, product_id, data))

    def archive(self, product_id: int) -> None:
        self._run(lambda s, user: catalog.archive_product(s, user, product_id))


@pytest.fixture
def vendor(make):
    make.rates()
    return make.vendor("IN")


@pytest.fixture
def other_process(app, vendor):
    return OtherProcess(app, vendor["owner"]["id"])


def wipe_index(app) -> None:
    with app.app_context():
        app.extensions["search_engine"].reindex([])


# -- the command ---------------------------------------------------------------------------

def test_the_reindex_command_rebuilds_a_lost_index_and_reports_the_count(app, client, runner, vendor):
    products = [create_product(client, vendor, translations={"en": {"title": f"Tea number {n}"}}) for n in range(3)]
    create_product(client, vendor, status="draft")
    wipe_index(app)
    assert search_ids(client) == []

    result = runner.invoke(args=["search", "reindex"])

    assert result.exit_code == 0, result.output
    assert "reindexed 3 products" in result.output and "embedded" in result.output
    assert search_ids(client) == sorted(p["id"] for p in products)
    assert search_ids(client, q="number") == sorted(p["id"] for p in products)
    assert client.get("/api/v1/health").get_json()["search"]["documents"] == 3


def test_the_reindex_command_on_an_empty_catalog_reports_zero(runner):
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "reindexed 0 products" in result.output


def test_a_reindex_indexes_only_public_products_and_drops_stray_documents(app, client, runner, make, vendor):
    public = create_product(client, vendor)
    create_product(client, vendor, status="draft")
    suspended = make.vendor("CN")
    hidden = create_product(client, suspended, price={"amount": "50.00", "currency": "CNY"})
    admin = make.user("admin")
    client.post(f"/api/v1/vendors/{suspended['id']}/suspend", json={"reason": "Audit"}, headers=admin["headers"])
    with app.app_context():  # a document the engine should not have (say, left over from a lost event)
        engine = app.extensions["search_engine"]
        stray = engine.search(SearchQuery()).hits[0]
        engine.index([{**stray, "id": 999_999, "version": 1}])
    assert set(indexed(app)) == {public["id"], 999_999}

    result = runner.invoke(args=["search", "reindex"])

    assert result.exit_code == 0 and "reindexed 1 products" in result.output
    assert indexed(app) == {public["id"]: 1}
    assert hidden["id"] not in search_ids(client)


def test_a_reindex_keeps_versions_so_older_documents_stay_ignored(app, client, runner, vendor):
    product = create_product(client, vendor)
    client.patch(f"{PRODUCTS}/{product['id']}", json={"stock": 1}, headers=vendor["owner"]["headers"])
    assert runner.invoke(args=["search", "reindex"]).exit_code == 0
    with app.app_context():
        engine = app.extensions["search_engine"]
        current = engine.search(SearchQuery()).hits[0]
        engine.index([{**current, "version": 1, "stock": 40}])
    assert indexed(app) == {product["id"]: 2}


# -- writes while a reindex runs ------------------------------------------------------------

def test_a_product_created_while_the_documents_are_read_is_not_lost(app, client, vendor, other_process, monkeypatch):
    existing = [create_product(client, vendor)["id"] for _ in range(3)]
    created: list[int] = []
    original = indexing.public_documents

    def documents_with_a_write_in_the_middle(session, table, batch: int = 1000) -> Iterator[dict[str, Any]]:
        for n, doc in enumerate(original(session, table, batch)):
            if n == 1:
                created.append(other_process.create("Written mid-scan"))
            yield doc

    monkeypatch.setattr(indexing, "public_documents", documents_with_a_write_in_the_middle)
    with app.app_context():
        count = indexing.reindex(db.session)
        db.session.remove()

    assert count >= 3
    assert len(created) == 1
    assert set(indexed(app)) == set(existing) | set(created)
    assert search_ids(client, q="mid-scan") == created


def test_a_product_created_before_the_swap_is_not_lost(app, client, vendor, other_process):
    existing = create_product(client, vendor)["id"]
    created: list[int] = []

    def write_before_swap(_count: int) -> None:  # called after the new index is filled, before it goes live
        created.append(other_process.create("Written before the swap"))

    with app.app_context():
        indexing.reindex(db.session, progress=write_before_swap)
        db.session.remove()

    assert created and set(indexed(app)) == {existing, created[0]}
    assert search_ids(client, q="swap") == created


def test_changes_and_removals_during_a_reindex_end_in_the_latest_state(app, client, vendor, other_process):
    changed = create_product(client, vendor, stock=10)["id"]
    archived = create_product(client, vendor)["id"]

    def write_before_swap(_count: int) -> None:
        other_process.update(changed, {"stock": 0,
                                       "translations": {"pt": {"title": "Chá de Assam", "description": ""}}})
        other_process.archive(archived)

    with app.app_context():
        indexing.reindex(db.session, progress=write_before_swap)
        db.session.remove()

    assert indexed(app) == {changed: 2}
    item = client.get(SEARCH, query_string={"q": "chá", "locale": "pt"}).get_json()["items"][0]
    assert item["id"] == changed and item["stock"] == 0 and item["locale"] == "pt"


def test_a_write_whose_transaction_began_before_the_reindex_is_not_lost(app, client, vendor):
    """A request that flushed its product and event just before the reindex started, but commits only
    after the reindex read the catalog: its inline drain feeds the old index, so the reindex must
    replay it after the swap."""
    from catalog.models import Product

    existing = create_product(client, vendor)["id"]
    start = clock.now()
    clock.freeze(start)
    with app.app_context():
        slow = Session(bind=db.engine)  # the slow request's transaction
        product = Product(vendor=caller_vendor(slow, slow.get(User, vendor["owner"]["id"])), sku="SLOW-1",
                          translations={"en": {"title": "Slow request", "description": ""}}, original_locale="en",
                          price=Money(Decimal("100.00"), "INR"), stock=1, hs_code="090230", status="active",
                          category=catalog.category_by_slug(slow, "tea"), attributes={}, images=[], version=1)
        slow.add(product)
        slow.flush()
        catalog.record_search_change(slow, product)
        slow.flush()  # product and event written (created_at = start), not committed

        clock.freeze(start + timedelta(seconds=1))  # the reindex starts a second later

        def commit_before_swap(_count: int) -> None:  # the slow request commits; its drain feeds the old index
            slow.commit()
            outbox.drain(slow)

        try:
            indexing.reindex(db.session, progress=commit_before_swap)
        finally:
            db.session.remove()
        slow_id = product.id
        slow.close()

    assert set(indexed(app)) == {existing, slow_id}
    assert search_ids(client, q="slow") == [slow_id]


# -- searches during and after ------------------------------------------------------------

def test_searches_answer_from_the_old_index_during_a_reindex_and_the_new_one_after(app, client, vendor,
                                                                                 other_process):
    old = create_product(client, vendor, translations={"en": {"title": "Darjeeling tea"}})["id"]
    during: list[list[int]] = []

    def search_meanwhile(_count: int) -> None:
        hits = app.extensions["search_engine"].search(SearchQuery(q="darjeeling")).hits
        during.append([doc["id"] for doc in hits])

    with app.app_context():
        indexing.reindex(db.session, progress=search_meanwhile)
        db.session.remove()

    assert during == [[old]]
    assert search_ids(client, q="darjeeling") == [old]
    assert client.get("/api/v1/search/suggest", query_string={"q": "darj"}).get_json()["suggestions"] == [
        "Darjeeling tea"]


def test_writes_after_a_reindex_go_to_the_new_index(app, client, runner, vendor):
    create_product(client, vendor)
    assert runner.invoke(args=["search", "reindex"]).exit_code == 0
    later = create_product(client, vendor, translations={"en": {"title": "After the swap"}})["id"]
    assert search_ids(client, q="swap") == [later]
    assert runner.invoke(args=["search", "reindex"]).exit_code == 0  # and again: the index stays whole
    assert len(indexed(app)) == 2
