"""Search through the HTTP API: multilingual matching, filters, sorts, facets, suggest, health,
and that catalog writes show up in search as soon as the request returns."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from marketplace.kernel import clock
from marketplace.kernel.money import Money, minor_units
from marketplace.rates.services import load_table
from tests.api.test_products import PRODUCTS, assert_problem, create_product, product_payload, send_json

SEARCH = "/api/v1/search"
SUGGEST = "/api/v1/search/suggest"
HEALTH = "/api/v1/health"


def search(client, **params: Any) -> dict[str, Any]:
    response = client.get(SEARCH, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["items"]]


def tr(**titles: str) -> dict[str, dict[str, str]]:
    return {locale: {"title": title} for locale, title in titles.items()}


@pytest.fixture
def catalog(client, make) -> dict[str, Any]:
    """A small multilingual catalog from four countries (created in this order, a minute apart)."""
    make.rates()
    vendors = {country: make.vendor(country, display_name=name) for country, name in
               (("IN", "Kashmir Looms"), ("BR", "Couro de Franca"), ("CN", "Yunnan Tea House"),
                ("RU", "Pavlovo Crafts"))}
    specs = {
        "shawl": ("IN", dict(translations=tr(hi="कश्मीरी पश्मीना शॉल", en="Kashmiri pashmina shawl",
                                             ar="شال باشمينا كشميري"),
                             category="shawls-scarves", hs_code="621420",
                             price={"amount": "14500.00", "currency": "INR"},
                             stock=5)),
        "saffron": ("IN", dict(translations=tr(hi="कश्मीरी केसर", en="Kashmiri saffron", fa="زعفران کشمیری"),
                               category="spices", hs_code="091020", price={"amount": "1450.00", "currency": "INR"},
                               stock=0)),
        "assam": ("IN", dict(translations=tr(hi="असम की काली चाय", en="Assam black tea"), category="tea",
                             price={"amount": "650.00", "currency": "INR"}, stock=40)),
        "coffee": ("BR", dict(translations=tr(pt="Café arábica especial torrado em grãos",
                                              en="Speciality arabica coffee, roasted beans"),
                              category="coffee", hs_code="090121", price={"amount": "39.90", "currency": "BRL"},
                              stock=240)),
        "bags": ("BR", dict(translations=tr(pt="Bolsas de couro artesanais", en="Leather bags"), category="bags",
                            hs_code="420221", price={"amount": "420.00", "currency": "BRL"}, stock=15)),
        "puer": ("CN", dict(translations=tr(zh="云南普洱茶饼", en="Yunnan Pu'er tea cake", ru="Юньнаньский чай пуэр, блин"),
                            category="tea", price={"amount": "268.00", "currency": "CNY"}, stock=80)),
        "satchel": ("RU", dict(translations=tr(ru="Кожаная сумка ручной работы", en="Handmade leather satchel"),
                               category="bags", hs_code="420221", price={"amount": "12500.00", "currency": "RUB"},
                               stock=3)),
    }
    start = clock.now() - timedelta(minutes=len(specs))
    products = {}
    for n, (key, (country, fields)) in enumerate(specs.items()):
        clock.freeze(start + timedelta(minutes=n))
        products[key] = create_product(client, vendors[country], **fields)
    clock.freeze(None)
    return {"vendors": vendors, "products": products, "id": {k: p["id"] for k, p in products.items()}}


# -- the answer -----------------------------------------------------------------

def test_an_empty_query_lists_every_public_product_with_facets(client, catalog):
    body = search(client)
    assert body["total"] == 7 and body["page"] == 1 and body["per_page"] == 20
    assert sorted(ids(body)) == sorted(catalog["id"].values())
    assert set(body["facets"]) == {"origin_country", "category", "vendor", "price"}


def test_a_search_item_is_what_the_product_page_shows_localized_and_converted(client, catalog):
    for locale, currency in (("ru", "EUR"), ("hi", "INR"), ("zh", "CNY"), ("en", None)):
        params = {"locale": locale, **({"currency": currency} if currency else {})}
        for item in search(client, **params)["items"]:
            page = client.get(f"{PRODUCTS}/{item['id']}", query_string=params).get_json()
            assert item == page


def test_search_prices_are_money_conversions_through_the_stored_rates(app, client, catalog):
    body = search(client, currency="EUR", q="leather")
    with app.app_context():
        from marketplace.kernel.extensions import db

        table = load_table(db.session)
    for item in body["items"]:
        original = Money(Decimal(item["original_price"]["amount"]), item["original_price"]["currency"])
        assert item["price"]["currency"] == "EUR"
        assert Decimal(item["price"]["amount"]) == table.convert(original, "EUR").amount


def test_items_are_in_the_asked_locale_else_the_original(client, catalog):
    items = {item["id"]: item for item in search(client, locale="ru")["items"]}
    puer, shawl = items[catalog["id"]["puer"]], items[catalog["id"]["shawl"]]
    assert (puer["locale"], puer["title"]) == ("ru", "Юньнаньский чай пуэр, блин")
    assert (shawl["locale"], shawl["title"]) == ("hi", "कश्मीरी पश्मीना शॉल")
    assert puer["category"]["name"] == "Чай"


@pytest.mark.parametrize("params, field", [
    ({"per_page": 101}, "per_page"), ({"per_page": 0}, "per_page"), ({"page": 0}, "page"),
    ({"sort": "cheapest"}, "sort"), ({"currency": "GBP"}, "currency"), ({"price_min": "-1"}, "price_min"),
    ({"price_max": "abc"}, "price_max"), ({"origin_country": "in"}, "origin_country.0"),
    ({"vendor": "x"}, "vendor"), ({"in_stock": "maybe"}, "in_stock"), ({"colour": "red"}, "colour"),
])
def test_invalid_search_parameters_are_refused(client, params, field):
    assert_problem(client.get(SEARCH, query_string=params), 422, "validation_error", field)


def test_per_page_up_to_100_is_allowed(client):
    assert search(client, per_page=100)["per_page"] == 100


def test_pages_partition_the_hits(client, catalog):
    pages = [search(client, per_page=3, page=n, sort="newest") for n in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0]
    assert all(p["total"] == 7 for p in pages)
    seen = [i for p in pages for i in ids(p)]
    assert len(seen) == len(set(seen)) == 7


# -- multilingual matching ---------------------------------------------------------

@pytest.mark.parametrize("q, locale, expected", [
    ("bag", "en", "bags"),
    ("Leather bags", "en", "bags"),
    ("grão", "pt", "coffee"),
    ("grao", "pt", "coffee"),
    ("cafe", "en", "coffee"),
    ("CAFÉ", "en", "coffee"),
    ("普洱", "zh", "puer"),
    ("普洱茶", "zh", "puer"),
    ("चाय", "hi", "assam"),
    ("शॉल", "hi", "shawl"),
    ("شال", "ar", "shawl"),
    ("الشال", "ar", "shawl"),
    ("زعفران", "fa", "saffron"),
    ("сумки", "ru", "satchel"),
    ("сумка", "ru", "satchel"),
    ("пуэр", "ru", "puer"),
    ("leathr", "en", "bags"),
    ("pashmna", "en", "shawl"),
])
def test_a_word_finds_a_product_in_its_language_despite_inflection_accents_or_a_typo(client, catalog, q, locale,
                                                                                     expected):
    found = ids(search(client, q=q, locale=locale))
    assert catalog["id"][expected] in found, (q, found)


@pytest.mark.parametrize("q, locale, absent", [
    ("कला", "hi", "assam"),    # "art" shares its consonants with काली ("black"); vowel signs are part of words
    ("чай", "ru", "satchel"),
    ("grão", "pt", "bags"),
])
def test_a_different_word_does_not_match(client, catalog, q, locale, absent):
    assert catalog["id"][absent] not in ids(search(client, q=q, locale=locale))


def test_a_typo_finds_every_product_with_the_intended_word(client, catalog):
    found = set(ids(search(client, q="leathr", locale="en")))
    assert found == {catalog["id"]["bags"], catalog["id"]["satchel"]}


def test_a_query_finds_only_matching_products(client, catalog):
    assert set(ids(search(client, q="leather", locale="en"))) == {catalog["id"]["bags"], catalog["id"]["satchel"]}
    assert set(ids(search(client, q="tea", locale="en"))) == {catalog["id"]["assam"], catalog["id"]["puer"]}
    assert ids(search(client, q="matryoshka", locale="en")) == []


def test_every_query_word_must_match(client, catalog):
    assert ids(search(client, q="kashmiri saffron", locale="en")) == [catalog["id"]["saffron"]]


def test_a_query_of_only_stopwords_finds_nothing(client, catalog):
    body = search(client, q="the of and", locale="en")
    assert body["total"] == 0 and body["items"] == []


def test_the_shoppers_locale_ranks_first(client, make):
    make.rates()
    vendor = make.vendor("BR")
    portuguese = create_product(client, vendor, category="bags", translations={
        "pt": {"title": "Bolsa Marajoara", "description": "Couro legítimo."},
        "en": {"title": "Handbag", "description": "Genuine leather."}})
    english = create_product(client, vendor, category="bags", translations={
        "en": {"title": "Marajoara handbag", "description": "Genuine leather."},
        "pt": {"title": "Bolsa", "description": "Couro legítimo."}})

    assert ids(search(client, q="marajoara", locale="pt")) == [portuguese["id"], english["id"]]
    assert ids(search(client, q="marajoara", locale="en")) == [english["id"], portuguese["id"]]


def test_a_title_match_ranks_above_a_description_match(client, make):
    make.rates()
    vendor = make.vendor("IN")
    in_description = create_product(client, vendor, translations={
        "en": {"title": "Black tea", "description": "From the Darjeeling hills."}})
    in_title = create_product(client, vendor, translations={
        "en": {"title": "Darjeeling tea", "description": "First flush."}})
    assert ids(search(client, q="darjeeling", locale="en")) == [in_title["id"], in_description["id"]]


# -- filters ----------------------------------------------------------------------------

def test_origin_country_filters_and_may_be_repeated(client, catalog):
    assert set(ids(search(client, origin_country="BR"))) == {catalog["id"]["coffee"], catalog["id"]["bags"]}
    both = client.get(SEARCH, query_string=[("origin_country", "BR"), ("origin_country", "CN")]).get_json()
    assert set(ids(both)) == {catalog["id"]["coffee"], catalog["id"]["bags"], catalog["id"]["puer"]}
    assert ids(search(client, origin_country="ZA")) == []


def test_a_category_includes_its_subcategories(client, catalog):
    food = set(ids(search(client, category="food-beverages")))
    assert food == {catalog["id"][k] for k in ("saffron", "assam", "coffee", "puer")}
    assert set(ids(search(client, category="tea"))) == {catalog["id"]["assam"], catalog["id"]["puer"]}
    assert set(ids(search(client, category="leather-goods"))) == {catalog["id"]["bags"], catalog["id"]["satchel"]}
    assert ids(search(client, category="jewellery")) == []


def test_a_category_filter_does_not_match_a_slug_prefix(client, make):
    """'tea' must not match a 'tea-sets' style slug, nor 'food' match 'food-beverages'."""
    make.rates()
    vendor = make.vendor("IN")
    create_product(client, vendor, category="coffee")
    assert ids(search(client, category="food")) == []
    assert ids(search(client, category="beverages")) == []


def test_vendor_filter(client, catalog):
    vendor_id = catalog["vendors"]["IN"]["id"]
    assert set(ids(search(client, vendor=vendor_id))) == {catalog["id"][k] for k in ("shawl", "saffron", "assam")}


def test_in_stock_filter(client, catalog):
    in_stock = set(ids(search(client, in_stock="true")))
    assert catalog["id"]["saffron"] not in in_stock and len(in_stock) == 6
    assert ids(search(client, in_stock="false")) == [catalog["id"]["saffron"]]


def test_filters_combine_with_a_query(client, catalog):
    body = search(client, q="tea", origin_country="CN", category="food-beverages", in_stock="true")
    assert ids(body) == [catalog["id"]["puer"]] and body["total"] == 1


def _usd(app, amount: str, currency: str) -> Decimal:
    with app.app_context():
        from marketplace.kernel.extensions import db

        return load_table(db.session).convert(Money(Decimal(amount), currency), "USD").amount


def test_price_bounds_are_in_the_asked_currency_across_product_currencies(app, client, make):
    make.rates()
    rupees = create_product(client, make.vendor("IN"), price={"amount": "650.00", "currency": "INR"})
    reais = create_product(client, make.vendor("BR"), price={"amount": "100.00", "currency": "BRL"},
                           category="coffee")
    inr_usd, brl_usd = _usd(app, "650.00", "INR"), _usd(app, "100.00", "BRL")
    assert inr_usd < 10 < brl_usd  # ~7.3 and ~18.8 USD: a bound of 10 USD lies between them

    assert ids(search(client, currency="USD", price_min="10")) == [reais["id"]]
    assert ids(search(client, currency="USD", price_max="10")) == [rupees["id"]]
    assert ids(search(client, currency="USD", price_min="10", price_max="15")) == []
    assert set(ids(search(client, currency="USD", price_min="5", price_max="20"))) == {rupees["id"], reais["id"]}
    # the same bound in reais: ~53 BRL lies between 650 INR (~39 BRL) and 100 BRL
    assert ids(search(client, currency="BRL", price_min="53")) == [reais["id"]]
    assert ids(search(client, currency="INR", price_max="700")) == [rupees["id"]]


@pytest.mark.parametrize("currency", [
    "USD", "EUR", "BRL", "INR", "CNY", "RUB",
    pytest.param("IRR", marks=pytest.mark.xfail(strict=True, reason=(
        "known: filters compare INR->USD against IRR->USD, the page shows INR->IRR; the bundled CBR and manual "
        "quotes disagree by ~1e-6, which is ~15 IRR on a 10.7M IRR price, more than IRR's half minor unit"))),
])
def test_a_price_bound_equal_to_the_shown_price_includes_the_product(client, make, currency):
    make.rates()
    product = create_product(client, make.vendor("IN"), price={"amount": "650.00", "currency": "INR"})
    shown = client.get(f"{PRODUCTS}/{product['id']}", query_string={"currency": currency}).get_json()["price"]
    assert ids(search(client, currency=currency, price_min=shown["amount"])) == [product["id"]]
    assert ids(search(client, currency=currency, price_max=shown["amount"])) == [product["id"]]
    both = search(client, currency=currency, price_min=shown["amount"], price_max=shown["amount"])
    assert ids(both) == [product["id"]]
    step = Decimal(1).scaleb(-minor_units(currency))  # one minor unit beyond the shown price excludes it
    assert ids(search(client, currency=currency, price_min=str(Decimal(shown["amount"]) + step))) == []
    assert ids(search(client, currency=currency, price_max=str(Decimal(shown["amount"]) - step))) == []


def test_price_bounds_without_a_currency_are_in_the_base_currency(app, client, make):
    make.rates()
    product = create_product(client, make.vendor("IN"), price={"amount": "650.00", "currency": "INR"})
    usd = _usd(app, "650.00", "INR")
    assert ids(search(client, price_min=str(usd - 1))) == [product["id"]]
    assert ids(search(client, price_min=str(usd + 1))) == []


# -- sorts ---------------------------------------------------------------------------------

def _base_prices(app, body: dict[str, Any]) -> list[Decimal]:
    with app.app_context():
        from marketplace.kernel.extensions import db

        table = load_table(db.session)
    return [table.convert(Money(Decimal(i["original_price"]["amount"]), i["original_price"]["currency"]), "USD").amount
            for i in body["items"]]


def test_price_sorts_compare_products_priced_in_different_currencies(app, client, catalog):
    ascending = search(client, sort="price_asc", currency="EUR")
    descending = search(client, sort="price_desc", currency="EUR")

    prices = [Decimal(i["price"]["amount"]) for i in ascending["items"]]
    assert prices == sorted(prices) and len(prices) == 7
    assert _base_prices(app, ascending) == sorted(_base_prices(app, ascending))
    assert ids(descending) == ids(ascending)[::-1]
    assert ids(ascending)[0] == catalog["id"]["assam"]  # 650 INR is the cheapest


def test_newest_sort_lists_the_latest_created_first(client, catalog):
    expected = [p["id"] for p in sorted(catalog["products"].values(), key=lambda p: p["created_at"], reverse=True)]
    assert ids(search(client, sort="newest")) == expected


def test_sorting_applies_to_a_query_too(client, catalog):
    body = search(client, q="leather", sort="price_desc", currency="USD")
    prices = [Decimal(i["price"]["amount"]) for i in body["items"]]
    assert prices == sorted(prices, reverse=True) and len(prices) == 2


# -- facets ---------------------------------------------------------------------------------

def facet(body: dict[str, Any], name: str) -> dict[Any, int]:
    return {f["value"]: f["count"] for f in body["facets"][name]}


def test_facets_count_the_hits(client, catalog):
    body = search(client)
    assert facet(body, "origin_country") == {"IN": 3, "BR": 2, "CN": 1, "RU": 1}
    assert facet(body, "vendor") == {catalog["vendors"][c]["id"]: n for c, n in (("IN", 3), ("BR", 2), ("CN", 1),
                                                                                  ("RU", 1))}
    categories = facet(body, "category")
    assert categories["food-beverages"] == 4 and categories["tea"] == 2 and categories["leather-goods"] == 2
    assert categories["bags"] == 2 and categories["shawls-scarves"] == 1 and categories["textiles-apparel"] == 1


def test_facet_labels_are_localized(client, catalog):
    body = search(client, locale="ru")
    countries = {f["value"]: f["label"] for f in body["facets"]["origin_country"]}
    categories = {f["value"]: f["label"] for f in body["facets"]["category"]}
    vendors = {f["value"]: f["label"] for f in body["facets"]["vendor"]}
    assert countries["IN"] == "Индия" and countries["BR"] == "Бразилия"
    assert categories["tea"] == "Чай"
    assert vendors[catalog["vendors"]["CN"]["id"]] == "Yunnan Tea House"


def test_the_country_facet_ignores_the_country_filter_but_other_facets_do_not(client, catalog):
    body = search(client, origin_country="IN")
    assert body["total"] == 3
    assert facet(body, "origin_country") == {"IN": 3, "BR": 2, "CN": 1, "RU": 1}  # multi-select: other choices stay
    assert facet(body, "vendor") == {catalog["vendors"]["IN"]["id"]: 3}
    assert facet(body, "category")["food-beverages"] == 2 and "bags" not in facet(body, "category")


def test_the_country_facet_still_applies_the_other_filters(client, catalog):
    body = search(client, origin_country="IN", category="tea")
    assert ids(body) == [catalog["id"]["assam"]]
    assert facet(body, "origin_country") == {"IN": 1, "CN": 1}


def test_facets_follow_the_query(client, catalog):
    body = search(client, q="leather", locale="en")
    assert facet(body, "origin_country") == {"BR": 1, "RU": 1}
    assert facet(body, "category") == {"leather-goods": 2, "bags": 2}


def test_price_buckets_are_in_the_asked_currency_and_count_every_priced_hit(client, catalog):
    for currency in ("USD", "INR", "BRL", "IRR"):
        body = search(client, currency=currency)
        buckets = body["facets"]["price"]
        assert buckets and all(b["currency"] == currency for b in buckets)
        assert buckets[0]["from"] is None and buckets[-1]["to"] is None
        edges = [Decimal(b["to"]) for b in buckets[:-1]]
        assert edges == sorted(edges) and len(set(edges)) == len(edges)
        assert all(Decimal(b["from"]) == Decimal(prev["to"]) for prev, b in zip(buckets, buckets[1:]))
        assert sum(b["count"] for b in buckets) == body["total"] == 7
        for item in body["items"]:  # each item is counted in the bucket its shown price falls into
            price = Decimal(item["price"]["amount"])
            holder = [b for b in buckets if (b["from"] is None or Decimal(b["from"]) <= price)
                      and (b["to"] is None or price < Decimal(b["to"]))]
            assert len(holder) == 1 and holder[0]["count"] >= 1


def test_price_buckets_follow_the_filters(client, catalog):
    body = search(client, q="leather", currency="USD")
    assert sum(b["count"] for b in body["facets"]["price"]) == 2


def test_a_search_without_hits_has_empty_facets_and_zero_price_buckets(client, catalog):
    body = search(client, q="matryoshka")
    assert body["total"] == 0
    assert body["facets"]["origin_country"] == [] and body["facets"]["category"] == []
    assert all(b["count"] == 0 for b in body["facets"]["price"])


# -- visibility and freshness --------------------------------------------------------------

def test_a_new_active_product_is_searchable_when_the_request_returns(client, make):
    make.rates()
    product = create_product(client, make.vendor("IN"), translations=tr(en="Darjeeling first flush"))
    assert ids(search(client, q="darjeeling")) == [product["id"]]


def test_drafts_are_not_searchable_until_activated(client, make):
    make.rates()
    vendor = make.vendor("IN")
    draft = create_product(client, vendor, status="draft", translations=tr(en="Nilgiri tea"))
    assert ids(search(client, q="nilgiri")) == []
    response = send_json(client, "PATCH", f"{PRODUCTS}/{draft['id']}", {"status": "active"}, vendor["owner"]["headers"])
    assert response.status_code == 200
    assert ids(search(client, q="nilgiri")) == [draft["id"]]


def test_price_and_stock_changes_show_up_in_search_immediately(client, make):
    make.rates()
    vendor = make.vendor("IN")
    product = create_product(client, vendor, stock=5)
    response = send_json(client, "PATCH", f"{PRODUCTS}/{product['id']}",
                         {"price": {"amount": "999.00", "currency": "INR"}, "stock": 0}, vendor["owner"]["headers"])
    assert response.status_code == 200

    item = search(client, currency="INR")["items"][0]
    assert item["price"] == {**item["price"], "amount": "999.00", "currency": "INR"}
    assert item["stock"] == 0 and item["in_stock"] is False and item["version"] == 2
    assert ids(search(client, in_stock="true")) == []
    assert ids(search(client, currency="INR", price_min="990")) == [product["id"]]


def test_a_new_translation_is_searchable_immediately(client, make):
    make.rates()
    vendor = make.vendor("IN")
    product = create_product(client, vendor)
    assert ids(search(client, q="чай", locale="ru")) == []
    send_json(client, "PATCH", f"{PRODUCTS}/{product['id']}", {"translations": {"ru": {"title": "Ассамский чай"}}},
              vendor["owner"]["headers"])
    assert ids(search(client, q="чай", locale="ru")) == [product["id"]]
    send_json(client, "PATCH", f"{PRODUCTS}/{product['id']}", {"translations": {"ru": None}},
              vendor["owner"]["headers"])
    assert ids(search(client, q="чай", locale="ru")) == []


def test_archived_products_leave_search_and_suggestions(client, make):
    make.rates()
    vendor = make.vendor("IN")
    product = create_product(client, vendor, translations=tr(en="Leather wallet"))
    assert client.delete(f"{PRODUCTS}/{product['id']}", headers=vendor["owner"]["headers"]).status_code == 204
    assert ids(search(client, q="wallet")) == []
    assert client.get(SUGGEST, query_string={"q": "wal"}).get_json()["suggestions"] == []


def test_a_suspended_vendors_products_leave_search_and_return_on_approval(client, catalog, make):
    admin = make.user("admin")
    brazil = catalog["vendors"]["BR"]["id"]
    response = client.post(f"/api/v1/vendors/{brazil}/suspend", json={"reason": "Fake leather"},
                           headers=admin["headers"])
    assert response.status_code == 200
    body = search(client)
    assert body["total"] == 5 and "BR" not in facet(body, "origin_country")
    assert ids(search(client, q="leather")) == [catalog["id"]["satchel"]]

    client.post(f"/api/v1/vendors/{brazil}/approve", json={}, headers=admin["headers"])
    assert search(client)["total"] == 7
    assert set(ids(search(client, q="leather"))) == {catalog["id"]["bags"], catalog["id"]["satchel"]}


def test_a_vendor_sent_back_to_review_leaves_search(client, make):
    make.rates()
    vendor = make.vendor("ZA")
    create_product(client, vendor, price={"amount": "89.00", "currency": "ZAR"})
    from tests.factories import tax_id

    response = client.patch(f"/api/v1/vendors/{vendor['id']}", json={"tax_id": tax_id("ZA")},
                            headers=vendor["owner"]["headers"])
    assert response.status_code == 200 and response.get_json()["status"] == "pending_review"
    assert search(client)["total"] == 0


# -- suggest --------------------------------------------------------------------------------

def test_suggest_completes_a_prefix_with_titles(client, catalog):
    response = client.get(SUGGEST, query_string={"q": "lea", "locale": "en"})
    assert response.status_code == 200
    suggestions = response.get_json()["suggestions"]
    assert "Leather bags" in suggestions and "Handmade leather satchel" in suggestions
    assert all("leather" in s.lower() for s in suggestions)


def test_suggest_prefers_titles_in_the_shoppers_locale(client, catalog):
    russian = client.get(SUGGEST, query_string={"q": "кож", "locale": "ru"}).get_json()["suggestions"]
    assert russian[0] == "Кожаная сумка ручной работы"
    chinese = client.get(SUGGEST, query_string={"q": "云南", "locale": "zh"}).get_json()["suggestions"]
    assert chinese[0] == "云南普洱茶饼"


def test_suggest_respects_the_limit(client, catalog):
    suggestions = client.get(SUGGEST, query_string={"q": "k", "limit": 1}).get_json()["suggestions"]
    assert len(suggestions) == 1


def test_suggest_never_offers_hidden_products(client, make):
    make.rates()
    create_product(client, make.vendor("IN"), status="draft", translations=tr(en="Secret leather prototype"))
    assert client.get(SUGGEST, query_string={"q": "secr"}).get_json()["suggestions"] == []


@pytest.mark.parametrize("params, field", [({}, "q"), ({"q": ""}, "q"), ({"q": "lea", "limit": 21}, "limit")])
def test_suggest_needs_a_prefix(client, params, field):
    assert_problem(client.get(SUGGEST, query_string=params), 422, "validation_error", field)


# -- health -----------------------------------------------------------------------------------

def test_health_reports_database_search_documents_and_outbox_backlog(client, catalog, make):
    body = client.get(HEALTH).get_json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["search"]["status"] == "ok" and body["search"]["documents"] == 7
    assert body["outbox"]["backlog"] == 0

    vendor = catalog["vendors"]["IN"]
    send_json(client, "POST", PRODUCTS, product_payload(status="draft"), vendor["owner"]["headers"])
    assert client.get(HEALTH).get_json()["search"]["documents"] == 7  # drafts are not indexed


def test_health_reports_a_search_engine_that_is_down(app, client, monkeypatch):
    from marketplace.storefront.search.engine import EngineUnavailable

    def down():
        raise EngineUnavailable("connection refused")

    monkeypatch.setattr(app.extensions["search_engine"], "health", down)
    body = client.get(HEALTH).get_json()
    assert body["status"] == "degraded" and body["search"]["status"] == "down"
    assert body["database"]["status"] == "ok"


def test_a_search_while_the_engine_is_down_is_503(app, client, monkeypatch):
    from marketplace.storefront.search.engine import EngineUnavailable

    def down(*_args, **_kwargs):
        raise EngineUnavailable("connection refused")

    monkeypatch.setattr(app.extensions["search_engine"], "search", down)
    monkeypatch.setattr(app.extensions["search_engine"], "suggest", down)
    assert_problem(client.get(SEARCH, query_string={"q": "tea"}), 503, "service_unavailable")
    assert_problem(client.get(SUGGEST, query_string={"q": "tea"}), 503, "service_unavailable")


@pytest.mark.parametrize("q", ['"', "*", "bag*", "AND", "leather OR", "NEAR(bag", "col:bag", "-bag", "^bag", "a\"b",
                               "'; DROP TABLE docs; --", "🙂", "\u200b", "x" * 200])
def test_query_syntax_characters_are_plain_text(client, catalog, q):
    response = client.get(SEARCH, query_string={"q": q})
    assert response.status_code == 200, response.get_json()


def test_a_vendor_rename_reaches_search_items_and_facets(client, catalog):
    vendor = catalog["vendors"]["CN"]
    response = client.patch(f"/api/v1/vendors/{vendor['id']}", json={"display_name": "Pu'er Masters"},
                            headers=vendor["owner"]["headers"])
    assert response.status_code == 200 and response.get_json()["status"] == "approved"

    body = search(client, q="普洱", locale="zh")
    page = client.get(f"{PRODUCTS}/{catalog['id']['puer']}", query_string={"locale": "zh"}).get_json()
    assert page["vendor"]["display_name"] == "Pu'er Masters"
    assert body["items"][0]["vendor"] == page["vendor"]
    assert {f["value"]: f["label"] for f in body["facets"]["vendor"]}[vendor["id"]] == "Pu'er Masters"
