"""Exchange-rate feed parsers: the bundled snapshots, malformed/hostile documents, fetch()."""
from __future__ import annotations

import dataclasses
import http.server
import socket
import threading
import time
from collections import defaultdict, deque
from datetime import date
from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.rates import feeds
from marketplace.rates.feeds import FeedError, Quote

SUPPORTED = {"BRL", "RUB", "INR", "CNY", "ZAR", "EGP", "ETB", "IRR", "AED", "IDR", "USD", "EUR"}


def _snapshot(source: str) -> list[Quote]:
    name = {"ecb": "ecb-eurofxref-daily.xml", "cbr": "cbr-XML_daily.xml", "manual": "manual.json"}[source]
    return feeds.parse(source, feeds.snapshot_path(name).read_bytes())


def _by_code(quotes: list[Quote], *, key: str) -> dict[str, Quote]:
    return {getattr(q, key): q for q in quotes}


def _reachable(quotes: list[Quote], start: str) -> set[str]:
    """Currencies convertible from `start` through chains of quotes (either direction)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for q in quotes:
        graph[q.base].add(q.quote)
        graph[q.quote].add(q.base)
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in graph[todo.popleft()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def _cbr_doc(rows: list[tuple[str, int | str, str, str | None]], date_attr: str | None = "21.11.2026",
             encoding: str = "windows-1251", prolog: bool = True) -> bytes:
    """A CBR XML_daily document; rows are (CharCode, Nominal, Value, VunitRate-or-None)."""
    head = f'<?xml version="1.0" encoding="{encoding}"?>' if prolog else ""
    date_part = f' Date="{date_attr}"' if date_attr is not None else ""
    body = "".join(
        f'<Valute ID="R0{i}"><NumCode>{i:03d}</NumCode><CharCode>{code}</CharCode><Nominal>{nominal}</Nominal>'
        f"<Name>Валюта «{code}» — тест</Name><Value>{value}</Value>"
        + (f"<VunitRate>{vunit}</VunitRate>" if vunit is not None else "")
        + "</Valute>"
        for i, (code, nominal, value, vunit) in enumerate(rows)
    )
    return f'{head}<ValCurs{date_part} name="Foreign Currency Market">{body}</ValCurs>'.encode(encoding)


def _ecb_doc(cubes: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
        'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">'
        "<gesmes:subject>Reference rates</gesmes:subject>"
        "<gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>"
        f"<Cube>{cubes}</Cube></gesmes:Envelope>"
    ).encode("utf-8")


# --------------------------------------------------------------------------- bundled snapshots


def test_ecb_snapshot_values():
    quotes = _snapshot("ecb")
    assert len(quotes) == 29
    assert {q.base for q in quotes} == {"EUR"}
    assert {q.source for q in quotes} == {"ecb"}
    assert {q.as_of for q in quotes} == {date(2026, 11, 20)}
    rates = {q.quote: q.rate for q in quotes}
    assert {"USD", "BRL", "CNY", "INR", "IDR", "ZAR"} <= rates.keys()
    assert "RUB" not in rates  # the ECB suspended RUB in 2022
    assert rates["USD"] == Decimal("1.1552")
    assert rates["IDR"] == Decimal("19289.53")
    assert rates["GBP"] == Decimal("0.87997")
    assert str(rates["CHF"]) == "0.9260"  # exactly as published, trailing zero kept
    assert all(isinstance(r, Decimal) for r in rates.values())


def test_cbr_snapshot_is_really_windows_1251():
    raw = feeds.snapshot_path("cbr-XML_daily.xml").read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="windows-1251"?><ValCurs Date="21.11.2026"')
    assert "<Name>Доллар США</Name>".encode("windows-1251") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_cbr_snapshot_values():
    quotes = _snapshot("cbr")
    assert {q.quote for q in quotes} == {"RUB"}
    assert {q.source for q in quotes} == {"cbr"}
    assert {q.as_of for q in quotes} == {date(2026, 11, 21)}
    rates = {q.base: q.rate for q in quotes}
    assert SUPPORTED - {"RUB"} <= rates.keys()
    assert rates["USD"] == Decimal("79.9517")
    assert rates["EUR"] == Decimal("92.3602")
    assert rates["CNY"] == Decimal("11.2379")
    # Value / Nominal, exactly, from the decimal-comma text
    assert rates["INR"] == Decimal("90.1220") / 100 == Decimal("0.90122")
    assert rates["ZAR"] == Decimal("46.1215") / 10
    assert rates["EGP"] == Decimal("16.8853") / 10
    assert rates["ETB"] == Decimal("51.7319") / 100
    assert rates["IDR"] == Decimal("47.8810") / 10000 == Decimal("0.0047881")
    assert rates["IRR"] == Decimal("54.5745") / 1000000 == Decimal("0.0000545745")  # VunitRate '5,45745E-05'


def test_manual_snapshot_values():
    raw = feeds.snapshot_path("manual.json").read_bytes()
    assert b'"note"' in raw
    quotes = _snapshot("manual")
    assert {q.source for q in quotes} == {"manual"}
    assert {q.as_of for q in quotes} == {date(2026, 11, 20)}
    assert {q.base for q in quotes} == {"USD"}
    rates = {q.quote: q.rate for q in quotes}
    assert rates == {
        "RUB": Decimal("79.9517"),
        "AED": Decimal("3.6725"),
        "EGP": Decimal("47.35"),
        "ETB": Decimal("154.55"),
        "IRR": Decimal("1465000"),
    }


def test_all_supported_currencies_reachable_from_usd():
    everything = _snapshot("ecb") + _snapshot("cbr") + _snapshot("manual")
    assert SUPPORTED <= _reachable(everything, "USD")
    # Each bundled combination that matters on its own:
    assert SUPPORTED <= _reachable(_snapshot("cbr"), "USD")
    assert SUPPORTED <= _reachable(_snapshot("ecb") + _snapshot("manual"), "USD")
    # ...and the ECB alone is not enough (why manual.json exists).
    assert not SUPPORTED <= _reachable(_snapshot("ecb"), "USD")


def test_snapshots_agree_with_each_other():
    """Redundant routes must give (nearly) the same price, or conversions would depend on the path."""
    cbr = {q.base: q.rate for q in _snapshot("cbr")}
    ecb = {q.quote: q.rate for q in _snapshot("ecb")}
    manual = {q.quote: q.rate for q in _snapshot("manual")}
    tolerance = Decimal("0.001")
    for code, usd_rate in manual.items():
        via_cbr = cbr["USD"] if code == "RUB" else cbr["USD"] / cbr[code]
        assert abs(via_cbr - usd_rate) / usd_rate < tolerance, code
    for code in ("USD", "CNY", "INR", "BRL", "ZAR", "IDR"):
        via_cbr = cbr["EUR"] / cbr[code]
        assert abs(via_cbr - ecb[code]) / ecb[code] < tolerance, code


# --------------------------------------------------------------------------- parsing details


def test_quote_is_frozen():
    q = Quote("USD", "RUB", Decimal("80"), date(2026, 11, 21), "cbr")
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.rate = Decimal("1")  # type: ignore[misc]


def test_cbr_windows_1251_bytes_parsed_with_declared_encoding():
    doc = _cbr_doc([("USD", 1, "100,1234", "100,1234"), ("KZT", 100, "16,1108", "0,161108")])
    assert "Валюта".encode("windows-1251") in doc  # not UTF-8 bytes
    quotes = feeds.parse_cbr(doc)
    assert [(q.base, q.quote, q.rate) for q in quotes] == [
        ("USD", "RUB", Decimal("100.1234")),
        ("KZT", "RUB", Decimal("0.161108")),
    ]


def test_cbr_utf8_document_also_accepted():
    doc = _cbr_doc([("USD", 1, "79,8000", None)], encoding="utf-8")
    assert feeds.parse_cbr(doc)[0].rate == Decimal("79.8000")


def test_cbr_windows_1251_bytes_without_declaration_are_refused():
    doc = _cbr_doc([("USD", 1, "79,8000", None)], prolog=False)  # windows-1251 bytes, XML defaults to UTF-8
    with pytest.raises(FeedError, match="not well-formed XML"):
        feeds.parse_cbr(doc)


def test_cbr_without_vunitrate_and_with_scientific_vunitrate():
    quotes = feeds.parse_cbr(_cbr_doc([("IRR", 1000000, "53,3746", "5,33746E-05"), ("USD", 1, "78,2696", None)]))
    assert quotes[0].rate == Decimal("0.0000533746")
    assert quotes[1].rate == Decimal("78.2696")


def test_ecb_history_file_with_several_days():
    quotes = feeds.parse_ecb(_ecb_doc(
        "<Cube time='2026-11-20'><Cube currency='USD' rate='1.1552'/></Cube>"
        "<Cube time='2026-11-19'><Cube currency='USD' rate='1.1540'/></Cube>"
    ))
    assert [(q.as_of, q.rate) for q in quotes] == [
        (date(2026, 11, 20), Decimal("1.1552")),
        (date(2026, 11, 19), Decimal("1.1540")),
    ]


def test_parse_dispatch_and_unknown_source():
    assert feeds.parse("ecb", _ecb_doc("<Cube time='2026-11-20'><Cube currency='USD' rate='1.1'/></Cube>"))
    with pytest.raises(FeedError, match="unknown rate source"):
        feeds.parse("fed", b"<x/>")


def test_parse_requires_bytes():
    with pytest.raises(TypeError):
        feeds.parse_ecb("<not bytes/>")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("source", ["ecb", "cbr"])
@pytest.mark.parametrize("data", [b"", b"   ", b"Not XML at all", b"<ValCurs Date='21.11.2026'>", b"\x00\xff\xfe"])
def test_not_xml(source, data):
    with pytest.raises(FeedError) as info:
        feeds.parse(source, data)
    assert "empty" in str(info.value) or "XML" in str(info.value)


def test_wrong_document_kind():
    ecb = feeds.snapshot_path("ecb-eurofxref-daily.xml").read_bytes()
    cbr = feeds.snapshot_path("cbr-XML_daily.xml").read_bytes()
    with pytest.raises(FeedError, match="not a CBR XML_daily document"):
        feeds.parse_cbr(ecb)
    with pytest.raises(FeedError, match="not an ECB eurofxref document"):
        feeds.parse_ecb(cbr)
    with pytest.raises(FeedError, match="not valid JSON"):
        feeds.parse_manual(ecb)


def test_ecb_cubes_without_the_namespace_are_not_read():
    doc = (b'<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01">'
           b"<Cube><Cube time='2026-11-20'><Cube currency='USD' rate='1.1'/></Cube></Cube></gesmes:Envelope>")
    with pytest.raises(FeedError, match="no <Cube>"):
        feeds.parse_ecb(doc)


def test_ecb_missing_time():
    with pytest.raises(FeedError, match="missing date"):
        feeds.parse_ecb(_ecb_doc("<Cube><Cube currency='USD' rate='1.1552'/></Cube>"))


@pytest.mark.parametrize("time_attr", ["20.11.2026", "2026-13-01", "2026-11-31", "20261120", ""])
def test_ecb_bad_time(time_attr):
    with pytest.raises(FeedError, match="Cube time"):
        feeds.parse_ecb(_ecb_doc(f"<Cube time='{time_attr}'><Cube currency='USD' rate='1.1552'/></Cube>"))


def test_ecb_no_rates():
    with pytest.raises(FeedError, match="no dated"):
        feeds.parse_ecb(_ecb_doc(""))
    with pytest.raises(FeedError, match="holds no rates"):
        feeds.parse_ecb(_ecb_doc("<Cube time='2026-11-20'></Cube>"))


@pytest.mark.parametrize(
    "rate, message",
    [
        ("-1.1552", "not positive"),
        ("0", "not positive"),
        ("0.0000", "not positive"),
        ("abc", "not a number"),
        ("1,1552", "not a number"),
        ("1.1.2", "not a number"),
        ("1_000", "not a number"),
        ("NaN", "not a finite number"),
        ("Infinity", "not a finite number"),
        ("-inf", "not a finite number"),
        ("1E+999", "out of any plausible range"),
        ("", "not a number"),
    ],
)
def test_ecb_bad_rate_names_currency(rate, message):
    with pytest.raises(FeedError, match=message) as info:
        feeds.parse_ecb(_ecb_doc(f"<Cube time='2026-11-20'><Cube currency='BRL' rate='{rate}'/></Cube>"))
    assert "BRL" in str(info.value)


def test_ecb_missing_rate_and_bad_currency():
    with pytest.raises(FeedError, match="BRL: the rate is missing"):
        feeds.parse_ecb(_ecb_doc("<Cube time='2026-11-20'><Cube currency='BRL'/></Cube>"))
    with pytest.raises(FeedError, match="ISO 4217"):
        feeds.parse_ecb(_ecb_doc("<Cube time='2026-11-20'><Cube currency='usd' rate='1.1'/></Cube>"))
    with pytest.raises(FeedError, match="twice"):
        feeds.parse_ecb(_ecb_doc(
            "<Cube time='2026-11-20'><Cube currency='USD' rate='1.1'/><Cube currency='USD' rate='1.2'/></Cube>"
        ))


@pytest.mark.parametrize("date_attr", [None, ""])
def test_cbr_missing_date(date_attr):
    with pytest.raises(FeedError, match="missing date"):
        feeds.parse_cbr(_cbr_doc([("USD", 1, "79,8000", None)], date_attr=date_attr))


@pytest.mark.parametrize("date_attr", ["2026-11-21", "21/11/2026", "31.11.2026", "1.11.2026"])
def test_cbr_bad_date(date_attr):
    with pytest.raises(FeedError, match="ValCurs Date"):
        feeds.parse_cbr(_cbr_doc([("USD", 1, "79,8000", None)], date_attr=date_attr))


@pytest.mark.parametrize(
    "nominal, value, vunit, message",
    [
        (1, "-79,8000", None, "not positive"),
        (1, "0,0000", None, "not positive"),
        (1, "79.8000", None, "not a number"),  # CBR uses a decimal comma
        (1, "79,80,00", None, "not a number"),
        (1, "n/a", None, "not a number"),
        (1, "NaN", None, "not a finite number"),
        (0, "79,8000", None, "Nominal"),
        (-10, "79,8000", None, "Nominal"),
        ("1,5", "79,8000", None, "Nominal"),
        ("", "79,8000", None, "Nominal"),
        (10, "79,8000", "79,8000", "VunitRate .* disagrees"),  # Nominal 10 => per-unit 7,98
        (1, "79,8000", "junk", "VunitRate 'junk' is not a number"),
    ],
)
def test_cbr_bad_numbers_name_currency(nominal, value, vunit, message):
    with pytest.raises(FeedError, match=message) as info:
        feeds.parse_cbr(_cbr_doc([("USD", nominal, value, vunit)]))
    assert "USD" in str(info.value)


def test_cbr_structural_errors():
    with pytest.raises(FeedError, match="no <Valute>"):
        feeds.parse_cbr(_cbr_doc([]))
    with pytest.raises(FeedError, match="twice"):
        feeds.parse_cbr(_cbr_doc([("USD", 1, "79,8000", None), ("USD", 1, "79,9000", None)]))
    with pytest.raises(FeedError, match="ISO 4217"):
        feeds.parse_cbr(_cbr_doc([("US", 1, "79,8000", None)]))
    missing_value = _cbr_doc([("USD", 1, "79,8000", None)]).replace(b"<Value>79,8000</Value>", b"")
    with pytest.raises(FeedError, match="USD: the Value is missing"):
        feeds.parse_cbr(missing_value)


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="windows-1251"?>
<!DOCTYPE ValCurs [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ValCurs Date="21.11.2026" name="&lol9;"><Valute ID="R01235"><CharCode>USD</CharCode><Nominal>1</Nominal><Value>79,8000</Value></Valute></ValCurs>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE ValCurs [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ValCurs Date="21.11.2026"><Valute><CharCode>USD</CharCode><Nominal>1</Nominal><Value>&xxe;</Value></Valute></ValCurs>"""

DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE ValCurs SYSTEM "http://127.0.0.1:9/evil.dtd">
<ValCurs Date="21.11.2026"><Valute><CharCode>USD</CharCode><Nominal>1</Nominal><Value>1,0</Value></Valute></ValCurs>"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL_ENTITY, DTD_ONLY], ids=["bomb", "xxe", "dtd"])
@pytest.mark.parametrize("source", ["cbr", "ecb"])
def test_hostile_xml_is_refused(doc, source):
    started = time.monotonic()
    with pytest.raises(FeedError, match="refused an unsafe XML document"):
        feeds.parse(source, doc)
    assert time.monotonic() - started < 2


def test_oversized_document_refused(monkeypatch):
    monkeypatch.setattr(feeds, "MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(FeedError, match="over the 100-byte limit"):
        feeds.parse_cbr(feeds.snapshot_path("cbr-XML_daily.xml").read_bytes())


@pytest.mark.parametrize(
    "data, message",
    [
        (b'{"as_of": "2026-11-20", "rates": [{"base": "USD", "quote": "IRR", "rate": 42000}]}', "not a JSON number"),
        (b'{"as_of": "2026-11-20", "rates": [{"base": "USD", "quote": "IRR", "rate": 42000.5}]}', "not a JSON number"),
        (b'{"as_of": "2026-11-20", "rates": [{"base": "USD", "quote": "IRR", "rate": "-42000"}]}', "USD/IRR.*not positive"),
        (b'{"as_of": "2026-11-20", "rates": [{"base": "USD", "quote": "IRR", "rate": "lots"}]}', "USD/IRR.*not a number"),
        (b'{"as_of": "2026-11-20", "rates": [{"base": "USD", "quote": "IRR", "rate": "NaN"}]}', "USD/IRR.*not a finite"),
        (b'{"as_of": "2026-11-20", "rates": [{"base": "USD", "quote": "IRR"}]}', "USD/IRR: the rate is missing"),
        (b'{"as_of": "2026-11-20", "rates": [{"base": "USD", "quote": "USD", "rate": "1"}]}', "against itself"),
        (b'{"as_of": "2026-11-20", "rates": [{"base": "usd", "quote": "IRR", "rate": "1"}]}', "ISO 4217"),
        (b'{"as_of": "2026-11-20", "rates": [{"base": "USD", "quote": "IRR", "rate": "1"},'
         b' {"base": "IRR", "quote": "USD", "rate": "1"}]}', "given twice"),
        (b'{"rates": []}', "missing 'as_of'"),
        (b'{"as_of": "20261120", "rates": []}', "YYYY-MM-DD"),
        (b'{"as_of": "2026-02-30", "rates": []}', "not a valid calendar date"),
        (b'{"as_of": "2026-11-20", "rates": {}}', "'rates' must be a list"),
        (b'{"as_of": "2026-11-20", "rates": ["USD"]}', "must be an object"),
        (b'[1, 2]', "JSON object"),
        (b'{"as_of": ', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_manual_errors(data, message):
    with pytest.raises(FeedError, match=message):
        feeds.parse_manual(data)


def test_manual_minimal_and_extra_keys():
    quotes = feeds.parse_manual(
        '{"note": "тест", "as_of": "2026-11-20", "rates": [{"base": "USD", "quote": "IRR", "rate": "42000"}]}'.encode()
    )
    assert quotes == [Quote("USD", "IRR", Decimal("42000"), date(2026, 11, 20), "manual")]


def test_snapshot_path():
    path = feeds.snapshot_path("manual.json")
    assert path.is_file() and path.parent.name == "data"
    for bad in ["../feeds.py", "data/manual.json", "..", "", "/etc/passwd"]:
        with pytest.raises(ValueError):
            feeds.snapshot_path(bad)
    with pytest.raises(FileNotFoundError):
        feeds.snapshot_path("nope.xml")


# --------------------------------------------------------------------------- fetch() against a local server


class _Handler(http.server.BaseHTTPRequestHandler):
    body = feeds.snapshot_path("cbr-XML_daily.xml").read_bytes()

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path == "/ok":
            self.send_response(200)
            self.send_header("Content-Type", "application/xml; charset=windows-1251")
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)
        elif self.path == "/empty":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(1.5)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            code = 500 if self.path == "/fail" else 404
            self.send_response(code)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"oops!")

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture()
def local_server(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_fetch_ok(local_server, monkeypatch):
    monkeypatch.setitem(feeds.SOURCES, "cbr", f"{local_server}/ok")
    data = feeds.fetch("cbr", timeout=5)
    assert data == _Handler.body  # raw bytes, not re-decoded
    assert feeds.parse("cbr", data)[0].as_of == date(2026, 11, 21)


@pytest.mark.parametrize("path, status", [("/fail", "500"), ("/missing", "404")])
def test_fetch_http_error(local_server, monkeypatch, path, status):
    monkeypatch.setitem(feeds.SOURCES, "ecb", f"{local_server}{path}")
    with pytest.raises(FeedError, match=f"HTTP {status}"):
        feeds.fetch("ecb", timeout=5)


def test_fetch_empty_body(local_server, monkeypatch):
    monkeypatch.setitem(feeds.SOURCES, "ecb", f"{local_server}/empty")
    with pytest.raises(FeedError, match="empty body"):
        feeds.fetch("ecb", timeout=5)


def test_fetch_timeout(local_server, monkeypatch):
    monkeypatch.setitem(feeds.SOURCES, "ecb", f"{local_server}/slow")
    with pytest.raises(FeedError, match="failed"):
        feeds.fetch("ecb", timeout=0.3)


def test_fetch_too_large(local_server, monkeypatch):
    monkeypatch.setitem(feeds.SOURCES, "cbr", f"{local_server}/ok")
    monkeypatch.setattr(feeds, "MAX_DOCUMENT_BYTES", 1000)
    with pytest.raises(FeedError, match="more than 1000 bytes"):
        feeds.fetch("cbr", timeout=5)


def test_fetch_connection_refused(monkeypatch):
    with socket.socket() as s:  # grab a free port, then close it so nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setitem(feeds.SOURCES, "ecb", f"http://127.0.0.1:{port}/eurofxref-daily.xml")
    with pytest.raises(FeedError, match="failed"):
        feeds.fetch("ecb", timeout=2)


def test_fetch_unknown_source():
    with pytest.raises(FeedError, match="no public URL"):
        feeds.fetch("manual")


def test_sources_are_the_public_urls():
    assert feeds.SOURCES == {
        "ecb": "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
        "cbr": "https://www.cbr.ru/scripts/XML_daily.asp",
    }


# --------------------------------------------------------------------------- property


def _dotnet_vunit(rate: Decimal) -> str:
    """VunitRate roughly as CBR prints it (.NET double: <=15 significant digits, E-notation below 1e-4)."""
    with localcontext(Context(prec=15)):
        d = (+rate).normalize()
    if d < Decimal("0.0001"):
        digits = d.as_tuple().digits
        mantissa = Decimal((0, digits, -(len(digits) - 1)))
        return f"{mantissa:f}".replace(".", ",") + f"E-{-d.adjusted():02d}"
    return f"{d:f}".replace(".", ",")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999999.9999"), places=4,
                      allow_nan=False, allow_infinity=False),
    nominal=st.one_of(st.sampled_from([1, 10, 100, 1000, 10000, 100000, 1000000]), st.integers(1, 10**6)),
    with_vunit=st.booleans(),
    encoding=st.sampled_from(["windows-1251", "utf-8"]),
)
def test_cbr_round_trip(value, nominal, with_vunit, encoding):
    with localcontext(Context(prec=34)):
        expected = value / nominal
    text = f"{value:f}".replace(".", ",")
    doc = _cbr_doc([("XAU", nominal, text, _dotnet_vunit(expected) if with_vunit else None)], encoding=encoding)
    (quote,) = feeds.parse_cbr(doc)
    assert quote == Quote("XAU", "RUB", expected, date(2026, 11, 21), "cbr")
    assert isinstance(quote.rate, Decimal)
    if nominal in (1, 10, 100, 1000, 10000, 100000, 1000000):
        assert quote.rate * nominal == value  # exact for CBR's power-of-ten nominals
