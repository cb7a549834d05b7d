"""GET /api/v1/currencies: supported currencies, localized, with their rate to the base currency."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Context, Decimal

import pytest

from marketplace.kernel import clock

URL = "/api/v1/currencies"
PROBLEM = "application/problem+json"
SUPPORTED = ["BRL", "RUB", "INR", "CNY", "ZAR", "EGP", "ETB", "IRR", "AED", "IDR", "USD", "EUR"]
PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
C34 = Context(prec=34, rounding=ROUND_HALF_UP)
#: The bundled snapshots: ECB and manual are dated 2026-11-20, CBR 2026-11-21.
ECB_DAY, CBR_DAY = "2026-11-20", "2026-11-21"
SNAPSHOT_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def by_code(body: dict) -> dict[str, dict]:
    return {item["code"]: item for item in body["currencies"]}


def assert_no_floats(value) -> None:
    """Money and rates never pass through a float: not one JSON number in the body is fractional."""
    if isinstance(value, dict):
        for item in value.values():
            assert_no_floats(item)
    elif isinstance(value, list):
        for item in value:
            assert_no_floats(item)
    else:
        assert not isinstance(value, float), value


def get(client, *args, **kwargs) -> dict:
    response = client.get(*args, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert_no_floats(body)
    return body


@pytest.fixture
def rates(make):
    clock.freeze(SNAPSHOT_NOON)
    make.rates()


# --------------------------------------------------------------------------- with the bundled rates


def test_lists_the_supported_currencies_against_usd(client, rates):
    body = get(client, URL)
    assert body["base"] == "USD"
    assert [item["code"] for item in body["currencies"]] == SUPPORTED  # in the configured order
    for item in body["currencies"]:
        assert set(item) == {"code", "name", "symbol", "rate_to_base", "as_of", "source", "stale"}
        assert isinstance(item["rate_to_base"], str), item
        assert PLAIN_DECIMAL.fullmatch(item["rate_to_base"]), item  # no exponent, no sign
        assert Decimal(item["rate_to_base"]) > 0
        assert isinstance(item["name"], str) and item["name"]
        assert isinstance(item["symbol"], str) and item["symbol"]
        assert item["stale"] is False
        if item["code"] != "USD":
            assert item["as_of"] in (ECB_DAY, CBR_DAY), item
            assert set(item["source"].split("+")) <= {"ecb", "cbr", "manual"}, item


def test_rates_are_exact_decimal_strings(client, rates):
    items = by_code(get(client, URL))
    assert items["USD"] | {"name": None} == {"code": "USD", "name": None, "symbol": "$", "rate_to_base": "1",
                                              "as_of": None, "source": "identity", "stale": False}
    # EUR -> USD is the ECB's own quote, as published.
    assert items["EUR"]["rate_to_base"] == "1.1552"
    assert (items["EUR"]["as_of"], items["EUR"]["source"]) == (ECB_DAY, "ecb")
    # RUB: the CBR's USD quote (2026-11-21) is newer than manual.json's (2026-11-20), so it wins.
    assert Decimal(items["RUB"]["rate_to_base"]) == C34.divide(1, Decimal("79.9517"))
    assert (items["RUB"]["as_of"], items["RUB"]["source"]) == (CBR_DAY, "cbr")
    # IRR: manual.json quotes USD -> IRR directly, one hop beats two through RUB.
    assert items["IRR"]["rate_to_base"] == "0.0000006825938566552901023890784982935154"
    assert Decimal(items["IRR"]["rate_to_base"]) == C34.divide(1, Decimal("1465000"))
    assert (items["IRR"]["as_of"], items["IRR"]["source"]) == (ECB_DAY, "manual")
    for code, usd_rate in {"AED": "3.6725", "EGP": "47.35", "ETB": "154.55"}.items():
        assert Decimal(items[code]["rate_to_base"]) == C34.divide(1, Decimal(usd_rate)), code
        assert items[code]["source"] == "manual"
    # Two-hop cross rates (through EUR or RUB) agree with the ECB's cross rate to 0.1 %.
    for code, eur_rate in {"BRL": "6.1584", "CNY": "8.2187", "INR": "102.4836", "ZAR": "20.0254",
                           "IDR": "19289.53"}.items():
        ecb_cross = Decimal("1.1552") / Decimal(eur_rate)
        assert abs(Decimal(items[code]["rate_to_base"]) / ecb_cross - 1) < Decimal("0.001"), code


def test_names_default_to_english(client, rates):
    items = by_code(get(client, URL))
    assert items["BRL"]["name"] == "Brazilian Real"
    assert items["INR"]["symbol"] == "₹"


@pytest.mark.parametrize("query", ["?locale=pt", "?locale=pt-BR", "?locale=pt_BR"])
def test_names_localized_with_locale_parameter(client, rates, query):
    response = client.get(URL + query, headers={"Accept-Language": "ru"})  # the parameter wins
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "pt"
    items = by_code(response.get_json())
    assert items["BRL"]["name"] == "Real brasileiro"
    assert items["USD"]["name"] == "Dólar americano"
    assert items["USD"]["symbol"] == "US$"
    assert items["EUR"]["rate_to_base"] == "1.1552"  # numbers are never localized


def test_names_localized_with_accept_language(client, rates):
    response = client.get(URL, headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert response.headers["Content-Language"] == "ru"
    items = by_code(response.get_json())
    assert items["RUB"]["name"] == "российский рубль"
    assert items["RUB"]["symbol"] == "₽"
    assert items["CNY"]["name"] == "китайский юань"


def test_unserved_locale_falls_back_to_english(client, rates):
    items = by_code(get(client, URL + "?locale=xx"))
    assert items["BRL"]["name"] == "Brazilian Real"


# --------------------------------------------------------------------------- staleness


def test_nothing_is_stale_within_the_limit(client, rates, app):
    assert app.config["FX_STALE_AFTER_HOURS"] == 96
    # The oldest quotes are dated 2026-11-20, taken as 00:00 UTC: stale only after 2026-11-24 00:00.
    clock.freeze(datetime(2026, 11, 24, tzinfo=timezone.utc))
    assert not any(item["stale"] for item in get(client, URL)["currencies"])


def test_stale_flag_flips_past_the_limit(client, rates):
    clock.freeze(datetime(2026, 11, 24, tzinfo=timezone.utc) + timedelta(seconds=1))
    items = by_code(get(client, URL))
    stale = {code for code, item in items.items() if item["stale"]}
    # Everything resting on a 2026-11-20 quote is stale; the CBR's 2026-11-21 quotes are not yet.
    assert stale == {code for code, item in items.items() if item["as_of"] == ECB_DAY}
    assert {"EUR", "IRR", "AED"} <= stale
    assert not items["RUB"]["stale"]
    assert not items["USD"]["stale"]  # the base never is
    assert items["EUR"]["rate_to_base"] == "1.1552"  # a stale rate is still given

    clock.freeze(datetime(2026, 11, 25, tzinfo=timezone.utc) + timedelta(seconds=1))
    items = by_code(get(client, URL))
    assert {code for code, item in items.items() if item["stale"]} == set(SUPPORTED) - {"USD"}


def test_stale_limit_is_configurable(client, rates, app, monkeypatch):
    monkeypatch.setitem(app.config, "FX_STALE_AFTER_HOURS", 24)
    clock.freeze(datetime(2026, 11, 21, 23, 0, tzinfo=timezone.utc))  # 47 h after 11-20, 23 h after 11-21
    items = by_code(get(client, URL))
    assert items["EUR"]["stale"] and not items["RUB"]["stale"]


# --------------------------------------------------------------------------- configuration


def test_base_and_supported_currencies_are_configurable(client, rates, app, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_CURRENCY", "EUR")
    monkeypatch.setitem(app.config, "SUPPORTED_CURRENCIES", ("EUR", "USD", "RUB"))
    body = get(client, URL)
    assert body["base"] == "EUR"
    items = by_code(body)
    assert list(items) == ["EUR", "USD", "RUB"]
    assert (items["EUR"]["rate_to_base"], items["EUR"]["source"], items["EUR"]["stale"]) == ("1", "identity", False)
    assert Decimal(items["USD"]["rate_to_base"]) == C34.divide(1, Decimal("1.1552"))
    assert Decimal(items["RUB"]["rate_to_base"]) == C34.divide(1, Decimal("92.3602"))  # the CBR's EUR quote


# --------------------------------------------------------------------------- without rates


def test_without_rates_only_the_base_has_a_rate(client):
    body = get(client, URL)
    assert body["base"] == "USD"
    items = by_code(body)
    assert list(items) == SUPPORTED
    for code, item in items.items():
        if code == "USD":
            assert (item["rate_to_base"], item["stale"], item["source"]) == ("1", False, "identity")
        else:
            assert item["rate_to_base"] is None, item
            assert item["as_of"] is None and item["source"] is None
            assert item["stale"] is True
        assert item["name"]  # names and symbols need no rates


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("query", ["?foo=1", "?locale=pt&currency=BRL", "?LOCALE=pt"])
def test_unknown_query_parameter_is_a_422_problem(client, query):
    response = client.get(URL + query)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == 422
    assert body["code"] == "validation_error"
    unknown = query.lstrip("?").split("&")[-1].split("=")[0]
    assert unknown in body["errors"], body


def test_not_writable(client):
    response = client.post(URL, json={})
    assert response.status_code == 405
    assert response.mimetype == PROBLEM
