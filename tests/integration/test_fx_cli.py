"""`flask fx refresh` and `flask fx set`: loading rates from files, from the banks' URLs, and by hand."""
from __future__ import annotations

import http.server
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Context, Decimal

import pytest
from sqlalchemy import func, select

from marketplace.kernel import clock
from marketplace.kernel.extensions import db
from marketplace.kernel.money import Money
from marketplace.rates import feeds, services
from marketplace.rates.models import FxRate

ECB_FILE = feeds.snapshot_path("ecb-eurofxref-daily.xml")
CBR_FILE = feeds.snapshot_path("cbr-XML_daily.xml")
NOON = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 22)
C34 = Context(prec=34, rounding=ROUND_HALF_UP)
NO_RATE_FROM_ECB = {"RUB", "AED", "EGP", "ETB", "IRR"}  # the ECB does not publish these


@pytest.fixture(autouse=True)
def _frozen():
    clock.freeze(NOON)


def fx(runner, *args: str):
    return runner.invoke(args=["fx", *args])


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FxRate))


def rows(app) -> list[FxRate]:
    with app.app_context():
        result = list(db.session.scalars(select(FxRate).order_by(FxRate.id)))
        db.session.expunge_all()
        return result


def currencies(client) -> dict[str, dict]:
    response = client.get("/api/v1/currencies")
    assert response.status_code == 200
    return {item["code"]: item for item in response.get_json()["currencies"]}


def convert(app, amount: str, frm: str, to: str) -> Money:
    with app.app_context():
        return services.convert(db.session, Money(amount, frm), to)


def assert_clean_error(result, *needles: str) -> None:
    """A failed command: non-zero exit, one 'Error: ...' line naming the problem, no traceback."""
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: "), result.output
    assert "Traceback" not in result.output and "<class" not in result.output, result.output
    for needle in needles:
        assert needle in result.output, result.output


# --------------------------------------------------------------------------- refresh --file


def test_refresh_ecb_from_file(runner, app, client):
    result = fx(runner, "refresh", "--source", "ecb", "--file", str(ECB_FILE))
    assert result.exit_code == 0, result.output
    assert result.output == "loaded 29 ecb rates dated 2026-11-20\n"

    stored = rows(app)
    assert len(stored) == 29
    assert {(r.base, r.source, r.as_of) for r in stored} == {("EUR", "ecb", date(2026, 11, 20))}
    assert {r.loaded_at for r in stored} == {NOON}  # when it was loaded, apart from the bank's date
    assert next(r.rate for r in stored if r.quote == "USD") == Decimal("1.1552")

    items = currencies(client)
    assert items["EUR"]["rate_to_base"] == "1.1552"
    assert (items["EUR"]["source"], items["EUR"]["as_of"], items["EUR"]["stale"]) == ("ecb", "2026-11-20", False)
    assert Decimal(items["BRL"]["rate_to_base"]) == C34.multiply(C34.divide(1, Decimal("6.1584")), Decimal("1.1552"))
    for code in NO_RATE_FROM_ECB:
        assert (items[code]["rate_to_base"], items[code]["stale"]) == (None, True), code


def test_refresh_cbr_from_file(runner, app, client):
    result = fx(runner, "refresh", "--source", "cbr", "--file", str(CBR_FILE))
    assert result.exit_code == 0, result.output
    assert result.output == "loaded 54 cbr rates dated 2026-11-21\n"

    stored = rows(app)
    assert len(stored) == 54
    assert {(r.quote, r.source, r.as_of) for r in stored} == {("RUB", "cbr", date(2026, 11, 21))}
    by_base = {r.base: r.rate for r in stored}
    assert by_base["INR"] == Decimal("0.90122")  # Value 90,1220 for Nominal 100
    assert by_base["IRR"] == Decimal("0.0000545745")  # Value 54,5745 for Nominal 1000000

    items = currencies(client)
    assert all(item["rate_to_base"] is not None for item in items.values())  # the CBR covers every one
    assert {item["source"] for code, item in items.items() if code != "USD"} == {"cbr"}
    assert Decimal(items["RUB"]["rate_to_base"]) == C34.divide(1, Decimal("79.9517"))
    assert Decimal(items["INR"]["rate_to_base"]) == C34.divide(Decimal("0.90122"), Decimal("79.9517"))
    assert convert(app, "1000", "USD", "RUB") == Money("79951.70", "RUB")


def test_both_feeds_together(runner, app, client):
    assert fx(runner, "refresh", "--source", "ecb", "--file", str(ECB_FILE)).exit_code == 0
    assert fx(runner, "refresh", "--source", "cbr", "--file", str(CBR_FILE)).exit_code == 0
    assert count(app) == 29 + 54
    items = currencies(client)
    assert all(item["rate_to_base"] is not None and not item["stale"] for item in items.values())
    assert items["EUR"]["rate_to_base"] == "1.1552"  # the direct ECB quote, not EUR -> RUB -> USD


def test_refresh_twice_is_idempotent(runner, app):
    assert fx(runner, "refresh", "--source", "ecb", "--file", str(ECB_FILE)).exit_code == 0
    first = rows(app)
    clock.freeze(NOON + timedelta(hours=3))
    result = fx(runner, "refresh", "--source", "ecb", "--file", str(ECB_FILE))
    assert result.exit_code == 0, result.output
    second = rows(app)
    assert len(second) == len(first) == 29
    assert [(r.id, r.base, r.quote, r.rate, r.as_of) for r in second] == [
        (r.id, r.base, r.quote, r.rate, r.as_of) for r in first
    ]
    assert {r.loaded_at for r in second} == {NOON + timedelta(hours=3)}


def test_a_corrected_document_updates_the_day_in_place(runner, app, client, tmp_path):
    assert fx(runner, "refresh", "--source", "ecb", "--file", str(ECB_FILE)).exit_code == 0
    corrected = tmp_path / "corrected.xml"
    corrected.write_bytes(ECB_FILE.read_bytes().replace(b"rate='1.1552'", b"rate='1.1600'"))
    assert fx(runner, "refresh", "--source", "ecb", "--file", str(corrected)).exit_code == 0
    assert count(app) == 29
    assert currencies(client)["EUR"]["rate_to_base"] == "1.16"


def test_a_new_day_adds_rows_and_the_newest_wins(runner, app, client, tmp_path):
    assert fx(runner, "refresh", "--source", "ecb", "--file", str(ECB_FILE)).exit_code == 0
    next_day = tmp_path / "next.xml"
    next_day.write_bytes(ECB_FILE.read_bytes().replace(b"time='2026-11-20'", b"time='2026-11-21'")
                         .replace(b"rate='1.1552'", b"rate='1.1500'"))
    result = fx(runner, "refresh", "--source", "ecb", "--file", str(next_day))
    assert result.output == "loaded 29 ecb rates dated 2026-11-21\n"
    assert count(app) == 58  # history is kept
    eur = currencies(client)["EUR"]
    assert (eur["rate_to_base"], eur["as_of"]) == ("1.15", "2026-11-21")


# --------------------------------------------------------------------------- broken input


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "source, content, message",
    [
        ("ecb", b"this is not xml", "ECB feed: not well-formed XML"),
        ("ecb", b"   \n", "ECB feed: the document is empty"),
        ("ecb", _truncated(ECB_FILE.read_bytes()), "ECB feed: not well-formed XML"),
        ("ecb", CBR_FILE.read_bytes(), "not an ECB eurofxref document"),
        ("ecb", ECB_FILE.read_bytes().replace(b"rate='1.1552'", b"rate='-1.1552'"), "USD: the rate '-1.1552' is not positive"),
        ("cbr", ECB_FILE.read_bytes(), "not a CBR XML_daily document"),
        ("cbr", _truncated(CBR_FILE.read_bytes()), "CBR feed: not well-formed XML"),
        ("cbr", CBR_FILE.read_bytes().replace(b"<Value>51,8494</Value>", b"<Value>51.8494</Value>"),
         "AUD: the Value '51.8494' is not a number"),
        ("cbr", b'<!DOCTYPE x [<!ENTITY a "b">]><ValCurs/>', "unsafe XML"),
    ],
)
def test_broken_file_stores_nothing(runner, app, tmp_path, source, content, message):
    path = tmp_path / "broken.xml"
    path.write_bytes(content)
    result = fx(runner, "refresh", "--source", source, "--file", str(path))
    assert_clean_error(result, message)
    assert count(app) == 0


def test_broken_file_keeps_the_rates_already_loaded(runner, app, client, tmp_path):
    assert fx(runner, "refresh", "--source", "ecb", "--file", str(ECB_FILE)).exit_code == 0
    path = tmp_path / "broken.xml"
    path.write_bytes(ECB_FILE.read_bytes().replace(b"rate='6.1584'", b"rate='NaN'"))  # BRL, after USD
    assert_clean_error(fx(runner, "refresh", "--source", "ecb", "--file", str(path)), "BRL")
    assert count(app) == 29
    assert currencies(client)["EUR"]["rate_to_base"] == "1.1552"


@pytest.mark.parametrize(
    "args, message",
    [
        (["refresh", "--source", "ecb", "--file", "/nonexistent/eurofxref.xml"], "does not exist"),
        (["refresh", "--source", "fed", "--file", str(ECB_FILE)], "'fed' is not one of 'ecb', 'cbr'"),
        (["refresh", "--source", "manual"], "is not one of"),
        (["refresh"], "Missing option '--source'"),
    ],
)
def test_usage_errors(runner, app, args, message):
    result = fx(runner, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert count(app) == 0


# --------------------------------------------------------------------------- refresh from the URL


class _Bank(http.server.BaseHTTPRequestHandler):
    documents = {"/stats/eurofxref/eurofxref-daily.xml": ECB_FILE.read_bytes(),
                 "/scripts/XML_daily.asp": CBR_FILE.read_bytes()}
    requested: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).requested.append(self.path)
        body = self.documents.get(self.path)
        self.send_response(200 if body else 503)
        body = body or b"down for maintenance"
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def bank(monkeypatch):
    """A tiny local stand-in for the banks' servers; feeds.SOURCES points at it."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    _Bank.requested = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Bank)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setitem(feeds.SOURCES, "ecb", f"{root}/stats/eurofxref/eurofxref-daily.xml")
    monkeypatch.setitem(feeds.SOURCES, "cbr", f"{root}/scripts/XML_daily.asp")
    try:
        yield root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("source, summary, path", [
    ("ecb", "loaded 29 ecb rates dated 2026-11-20\n", "/stats/eurofxref/eurofxref-daily.xml"),
    ("cbr", "loaded 54 cbr rates dated 2026-11-21\n", "/scripts/XML_daily.asp"),
])
def test_refresh_without_file_fetches_the_banks_url(runner, app, client, bank, source, summary, path):
    result = fx(runner, "refresh", "--source", source)
    assert result.exit_code == 0, result.output
    assert result.output == summary
    assert _Bank.requested == [path]
    assert count(app) == int(summary.split()[1])
    assert currencies(client)["EUR"]["rate_to_base"] is not None


def test_refresh_reports_an_http_error_and_stores_nothing(runner, app, bank, monkeypatch):
    monkeypatch.setitem(feeds.SOURCES, "ecb", f"{bank}/gone")
    result = fx(runner, "refresh", "--source", "ecb")
    assert_clean_error(result, "ecb: GET", "/gone", "HTTP 503")
    assert count(app) == 0


# --------------------------------------------------------------------------- fx set


def test_set_stores_a_manual_rate(runner, app):
    result = fx(runner, "set", "--base", "USD", "--quote", "CNY", "--rate", "7.1")
    assert result.exit_code == 0, result.output
    assert result.output == "1 USD = 7.1 CNY (manual, 2026-11-22)\n"
    (row,) = rows(app)
    assert (row.base, row.quote, row.rate, row.source, row.as_of, row.loaded_at) == (
        "USD", "CNY", Decimal("7.1"), "manual", TODAY, NOON)
    assert convert(app, "100", "USD", "CNY") == Money("710.00", "CNY")
    assert convert(app, "71", "CNY", "USD") == Money("10.00", "USD")


def test_set_accepts_lower_case_codes(runner, app):
    assert fx(runner, "set", "--base", "usd", "--quote", "inr", "--rate", "84.5").exit_code == 0
    assert [(r.base, r.quote) for r in rows(app)] == [("USD", "INR")]


def test_set_wins_over_a_longer_feed_route(runner, app, client):
    assert fx(runner, "refresh", "--source", "cbr", "--file", str(CBR_FILE)).exit_code == 0
    assert convert(app, "100", "USD", "CNY") == Money("711.45", "CNY")  # 100 * 79.9517 / 11.2379 = 711.4469... via RUB
    assert fx(runner, "set", "--base", "USD", "--quote", "CNY", "--rate", "7.1").exit_code == 0
    assert convert(app, "100", "USD", "CNY") == Money("710.00", "CNY")
    cny = currencies(client)["CNY"]
    assert (Decimal(cny["rate_to_base"]), cny["source"], cny["as_of"]) == (
        C34.divide(1, Decimal("7.1")), "manual", "2026-11-22")


@pytest.mark.parametrize("base, quote, rate, expected", [
    ("EUR", "USD", "1.2", "1.2"),
    ("USD", "EUR", "0.8", "1.25"),  # the same pair the other way round overrides too
])
def test_set_overrides_an_older_feed_rate(runner, app, client, base, quote, rate, expected):
    assert fx(runner, "refresh", "--source", "ecb", "--file", str(ECB_FILE)).exit_code == 0
    assert fx(runner, "set", "--base", base, "--quote", quote, "--rate", rate).exit_code == 0
    eur = currencies(client)["EUR"]
    assert (eur["rate_to_base"], eur["source"], eur["as_of"]) == (expected, "manual", "2026-11-22")
    assert convert(app, "10", "EUR", "USD") == Money(Decimal(expected) * 10, "USD")
    assert count(app) == 30  # the feed's quote is kept, only outranked


def test_a_newer_feed_rate_overrides_an_older_manual_one(runner, app, client):
    clock.freeze(datetime(2026, 11, 19, 9, 0, tzinfo=timezone.utc))
    assert fx(runner, "set", "--base", "EUR", "--quote", "USD", "--rate", "1.2").exit_code == 0
    clock.freeze(NOON)
    assert fx(runner, "refresh", "--source", "ecb", "--file", str(ECB_FILE)).exit_code == 0
    eur = currencies(client)["EUR"]
    assert (eur["rate_to_base"], eur["source"]) == ("1.1552", "ecb")


def test_setting_the_same_pair_again_the_same_day_replaces_it(runner, app):
    assert fx(runner, "set", "--base", "USD", "--quote", "CNY", "--rate", "7.1").exit_code == 0
    assert fx(runner, "set", "--base", "USD", "--quote", "CNY", "--rate", "7.25").exit_code == 0
    assert [(r.base, r.quote, r.rate) for r in rows(app)] == [("USD", "CNY", Decimal("7.25"))]
    assert convert(app, "100", "USD", "CNY") == Money("725.00", "CNY")


@pytest.mark.parametrize(
    "rate, message",
    [
        ("0", "positive"),
        ("-7.1", "positive"),
        ("0.000", "positive"),
        ("abc", "'abc'"),
        ("7,1", "'7,1'"),
        ("", "''"),
        ("nan", "'nan'"),
        ("Infinity", "'Infinity'"),
        ("1e999", "'1e999'"),
        ("10000000000000", "'10000000000000'"),  # 1e13: no real exchange rate
        ("0.0000000000001", "'0.0000000000001'"),  # 1e-13
        ("7.1234567890123456789", "18 decimal places"),  # more than the column keeps
    ],
)
def test_set_refuses_a_bad_rate(runner, app, rate, message):
    result = fx(runner, "set", "--base", "USD", "--quote", "CNY", "--rate", rate)
    assert_clean_error(result, "rate", message)
    assert count(app) == 0


@pytest.mark.parametrize(
    "base, quote, message",
    [("USD", "USD", "different currencies"), ("XYZ", "USD", "ISO 4217"), ("USD", "US", "ISO 4217"),
     ("USD", "", "ISO 4217")],
)
def test_set_refuses_a_bad_pair(runner, app, base, quote, message):
    assert_clean_error(fx(runner, "set", "--base", base, "--quote", quote, "--rate", "7.1"), message)
    assert count(app) == 0


def test_set_requires_every_option(runner, app):
    result = fx(runner, "set", "--base", "USD", "--quote", "CNY")
    assert result.exit_code == 2
    assert "Missing option '--rate'" in result.output
