"""Parsers for central-bank exchange-rate feeds, in the formats the banks publish.

Three sources, each turned into a list of `Quote`s ("1 `base` = `rate` `quote`"):

* ``ecb``    -- the European Central Bank's daily euro reference rates
  (``eurofxref-daily.xml``, a gesmes envelope; base is always EUR).
* ``cbr``    -- the Bank of Russia's ``XML_daily.asp`` (windows-1251 XML; every
  currency is priced in RUB per ``Nominal`` units, with a decimal comma).
* ``manual`` -- our own JSON for rates no bank gives us (see `parse_manual`).

Everything is untrusted input: XML goes through defusedxml (no DTDs, no entity
expansion, no external entities), numbers are parsed from their text into
`Decimal` (never float) and every rate must be finite, positive and of a sane
magnitude. Anything wrong with a document raises `FeedError` saying what.

An offline snapshot of each source ships in ``marketplace/rates/data``; use
`snapshot_path` to find it.
"""
from __future__ import annotations

import json
import pathlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from xml.etree.ElementTree import Element, ParseError

import requests
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

__all__ = [
    "Quote",
    "FeedError",
    "SOURCES",
    "MAX_DOCUMENT_BYTES",
    "parse_ecb",
    "parse_cbr",
    "parse_manual",
    "parse",
    "fetch",
    "snapshot_path",
]

#: Public URL of each fetchable source. ('manual' has none: it is our own file.)
SOURCES: dict[str, str] = {
    "ecb": "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
    "cbr": "https://www.cbr.ru/scripts/XML_daily.asp",
}

#: Refuse documents larger than this (the real feeds are a few kB).
MAX_DOCUMENT_BYTES = 2_000_000

DATA_DIR = pathlib.Path(__file__).resolve().parent / "data"

# Working precision for Value / Nominal (same as marketplace.kernel.money's CONTEXT).
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)
# A rate outside [1e-12, 1e12] is not a real exchange rate; it is a broken document.
_MIN_RATE = Decimal("1e-12")
_MAX_RATE = Decimal("1e12")
# Tolerance for CBR's VunitRate cross-check (relative).
_VUNIT_TOLERANCE = Decimal("0.0001")

_ECB_NS = {
    "gesmes": "http://www.gesmes.org/xml/2002-08-01",
    "eurofxref": "http://www.ecb.int/vocabulary/2002-08-01/eurofxref",
}
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CBR_DATE_RE = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{4}")
# A plain decimal with an optional sign and exponent; the separator is substituted.
_NUMBER_RE = r"[+-]?[0-9]+(?:{sep}[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_NOMINAL_RE = re.compile(r"[0-9]{1,12}")
_DOT_NUMBER = re.compile(_NUMBER_RE.format(sep=r"\."))
_COMMA_NUMBER = re.compile(_NUMBER_RE.format(sep=","))
_NON_FINITE = re.compile(r"[+-]?(?:s?nan\d*|inf|infinity)", re.IGNORECASE)


@dataclass(frozen=True)
class Quote:
    """1 unit of `base` is worth `rate` units of `quote`, per `source` on `as_of`."""

    base: str  # ISO 4217
    quote: str
    rate: Decimal  # units of `quote` for 1 unit of `base`
    as_of: date  # the bank's date for the rate
    source: str  # 'ecb' | 'cbr' | 'manual'


class FeedError(Exception):
    """A feed document could not be fetched or is not what it should be."""


# --------------------------------------------------------------------------- helpers


def _require_bytes(data: object, label: str) -> bytes:
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"{label}: expected the raw document as bytes, got {type(data).__name__}")
    if not data.strip():
        raise FeedError(f"{label}: the document is empty")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise FeedError(f"{label}: the document is {len(data)} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit")
    return data


def _parse_xml(data: bytes, label: str) -> Element:
    """Parse untrusted XML from bytes so the encoding in its prolog is honoured."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FeedError(
            f"{label}: refused an unsafe XML document (DTD / entity declarations are not allowed): {exc}"
        ) from None
    except ParseError as exc:
        raise FeedError(f"{label}: not well-formed XML ({exc})") from None
    except (LookupError, ValueError) as exc:  # e.g. an unknown encoding in the prolog
        raise FeedError(f"{label}: cannot decode the XML document ({exc})") from None


def _check_currency(code: object, label: str, where: str) -> str:
    if not isinstance(code, str) or not _CURRENCY_RE.fullmatch(code.strip()):
        raise FeedError(f"{label}: {where}: {code!r} is not an ISO 4217 currency code")
    return code.strip()


def _to_rate(text: object, *, label: str, currency: str, decimal_comma: bool = False, what: str = "rate") -> Decimal:
    """Decimal from a number's text; refuses non-numbers, non-finite and non-positive values."""
    if text is None:
        raise FeedError(f"{label}: {currency}: the {what} is missing")
    if not isinstance(text, str):
        raise FeedError(f"{label}: {currency}: the {what} must be given as text, got {text!r}")
    raw = text.strip()
    if _NON_FINITE.fullmatch(raw):
        raise FeedError(f"{label}: {currency}: the {what} {text!r} is not a finite number")
    pattern = _COMMA_NUMBER if decimal_comma else _DOT_NUMBER
    if not pattern.fullmatch(raw):
        sep = "a decimal comma" if decimal_comma else "a decimal point"
        raise FeedError(f"{label}: {currency}: the {what} {text!r} is not a number (expected digits with {sep})")
    try:
        value = Decimal(raw.replace(",", ".") if decimal_comma else raw)
    except InvalidOperation:  # pragma: no cover - the regex already guarantees a valid literal
        raise FeedError(f"{label}: {currency}: the {what} {text!r} is not a number") from None
    if value <= 0:
        raise FeedError(f"{label}: {currency}: the {what} {text!r} is not positive")
    if not (_MIN_RATE <= value <= _MAX_RATE):
        raise FeedError(f"{label}: {currency}: the {what} {text!r} is out of any plausible range")
    return value


def _iso_date(text: object, label: str, where: str) -> date:
    if not isinstance(text, str) or not _ISO_DATE_RE.fullmatch(text.strip()):
        raise FeedError(f"{label}: {where} {text!r} is not a date in YYYY-MM-DD form")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FeedError(f"{label}: {where} {text!r} is not a valid calendar date") from None


# --------------------------------------------------------------------------- ECB


def parse_ecb(data: bytes) -> list[Quote]:
    """The ECB's eurofxref XML: one `Quote` EUR -> currency per ``<Cube currency= rate=>``.

    Accepts the daily file and also the multi-day history files (several
    ``<Cube time=...>``); each rate gets the date of the Cube that holds it.
    """
    label = "ECB feed"
    root = _parse_xml(_require_bytes(data, label), label)
    if root.tag != f"{{{_ECB_NS['gesmes']}}}Envelope":
        raise FeedError(f"{label}: not an ECB eurofxref document (root element is {root.tag!r}, expected gesmes:Envelope)")
    outer = root.find("eurofxref:Cube", _ECB_NS)
    if outer is None:
        raise FeedError(f"{label}: no <Cube> element in the eurofxref namespace")
    days = outer.findall("eurofxref:Cube", _ECB_NS)
    if not days:
        raise FeedError(f"{label}: no dated <Cube time='...'> element")
    quotes: list[Quote] = []
    seen: set[tuple[date, str]] = set()
    for day in days:
        time = day.get("time")
        if time is None:
            raise FeedError(f"{label}: a dated <Cube> has no 'time' attribute (missing date)")
        as_of = _iso_date(time, label, "Cube time")
        rows = day.findall("eurofxref:Cube", _ECB_NS)
        if not rows:
            raise FeedError(f"{label}: the Cube for {as_of.isoformat()} holds no rates")
        for row in rows:
            currency = _check_currency(row.get("currency"), label, f"Cube of {as_of.isoformat()}")
            if (as_of, currency) in seen:
                raise FeedError(f"{label}: {currency} appears twice for {as_of.isoformat()}")
            seen.add((as_of, currency))
            rate = _to_rate(row.get("rate"), label=label, currency=currency)
            quotes.append(Quote("EUR", currency, rate, as_of, "ecb"))
    return quotes


# --------------------------------------------------------------------------- CBR


def _child_text(valute: Element, tag: str) -> str | None:
    child = valute.find(tag)
    return None if child is None else (child.text or "")


def parse_cbr(data: bytes) -> list[Quote]:
    """The Bank of Russia's XML_daily: one `Quote` CharCode -> RUB per ``<Valute>``.

    rate = Value / Nominal (Value has a decimal comma; Nominal is 1, 10, 100 ...).
    The date is ``ValCurs/@Date`` (DD.MM.YYYY), the day the rates take effect.
    When ``VunitRate`` (rate per one unit, newer documents) is present it must
    agree with Value / Nominal, or the document is refused.
    """
    label = "CBR feed"
    root = _parse_xml(_require_bytes(data, label), label)
    if root.tag != "ValCurs":
        raise FeedError(f"{label}: not a CBR XML_daily document (root element is {root.tag!r}, expected ValCurs)")
    raw_date = root.get("Date")
    if raw_date is None or not raw_date.strip():
        raise FeedError(f"{label}: ValCurs has no 'Date' attribute (missing date)")
    if not _CBR_DATE_RE.fullmatch(raw_date.strip()):
        raise FeedError(f"{label}: ValCurs Date {raw_date!r} is not in DD.MM.YYYY form")
    try:
        as_of = datetime.strptime(raw_date.strip(), "%d.%m.%Y").date()
    except ValueError:
        raise FeedError(f"{label}: ValCurs Date {raw_date!r} is not a valid calendar date") from None

    valutes = root.findall("Valute")
    if not valutes:
        raise FeedError(f"{label}: the document has no <Valute> entries")
    quotes: list[Quote] = []
    seen: set[str] = set()
    for valute in valutes:
        where = f"Valute {valute.get('ID', '?')}"
        code = _check_currency(_child_text(valute, "CharCode"), label, where)
        if code in seen:
            raise FeedError(f"{label}: {code} appears twice")
        seen.add(code)
        nominal_text = _child_text(valute, "Nominal")
        if nominal_text is None or not _NOMINAL_RE.fullmatch(nominal_text.strip()) or int(nominal_text) <= 0:
            raise FeedError(f"{label}: {code}: Nominal {nominal_text!r} is not a positive whole number")
        nominal = Decimal(int(nominal_text))
        value = _to_rate(_child_text(valute, "Value"), label=label, currency=code, decimal_comma=True, what="Value")
        with localcontext(_CONTEXT):
            rate = value / nominal
        if not (_MIN_RATE <= rate <= _MAX_RATE):
            raise FeedError(f"{label}: {code}: Value/Nominal = {rate} is out of any plausible range")
        vunit_text = _child_text(valute, "VunitRate")
        if vunit_text is not None:
            vunit = _to_rate(vunit_text, label=label, currency=code, decimal_comma=True, what="VunitRate")
            with localcontext(_CONTEXT):
                drift = abs(vunit - rate) / rate
            if drift > _VUNIT_TOLERANCE:
                raise FeedError(
                    f"{label}: {code}: VunitRate {vunit_text!r} disagrees with Value/Nominal "
                    f"({value}/{nominal} = {rate})"
                )
        quotes.append(Quote(code, "RUB", rate, as_of, "cbr"))
    return quotes


# --------------------------------------------------------------------------- manual


def parse_manual(data: bytes) -> list[Quote]:
    """Our JSON for manual rates (UTF-8)::

        {"as_of": "YYYY-MM-DD",
         "note": "optional free text",
         "rates": [{"base": "USD", "quote": "IRR", "rate": "42000"}, ...]}

    Rates must be decimal strings (a JSON number would have gone through float).
    """
    label = "manual rates"
    raw = _require_bytes(data, label)
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FeedError(f"{label}: not UTF-8 text ({exc})") from None
    except json.JSONDecodeError as exc:
        raise FeedError(f"{label}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise FeedError(f"{label}: the document must be a JSON object")
    if "as_of" not in doc:
        raise FeedError(f"{label}: missing 'as_of' date")
    as_of = _iso_date(doc["as_of"], label, "as_of")
    rows = doc.get("rates")
    if not isinstance(rows, list):
        raise FeedError(f"{label}: 'rates' must be a list")
    quotes: list[Quote] = []
    seen: set[frozenset[str]] = set()
    for index, row in enumerate(rows):
        where = f"rates[{index}]"
        if not isinstance(row, dict):
            raise FeedError(f"{label}: {where} must be an object")
        base = _check_currency(row.get("base"), label, f"{where}.base")
        quote = _check_currency(row.get("quote"), label, f"{where}.quote")
        if base == quote:
            raise FeedError(f"{label}: {where} quotes {base} against itself")
        pair = frozenset((base, quote))
        if pair in seen:
            raise FeedError(f"{label}: {where}: the pair {base}/{quote} is given twice")
        seen.add(pair)
        value = row.get("rate")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise FeedError(f"{label}: {base}/{quote}: the rate must be a decimal string such as \"42000\", not a JSON number")
        rate = _to_rate(value, label=label, currency=f"{base}/{quote}")
        quotes.append(Quote(base, quote, rate, as_of, "manual"))
    return quotes


# --------------------------------------------------------------------------- dispatch, network, snapshot

_PARSERS = {"ecb": parse_ecb, "cbr": parse_cbr, "manual": parse_manual}


def parse(source: str, data: bytes) -> list[Quote]:
    """Parse `data` as a document from `source` ('ecb', 'cbr' or 'manual')."""
    try:
        parser = _PARSERS[source]
    except (KeyError, TypeError):
        raise FeedError(f"unknown rate source {source!r}; expected one of {sorted(_PARSERS)}") from None
    return parser(data)


def fetch(source: str, timeout: float = 10.0) -> bytes:
    """GET the published document of `source` (see `SOURCES`) and return its raw bytes.

    Network failures, HTTP errors, empty and oversized bodies raise `FeedError`.
    The bytes are returned undecoded so `parse` can honour the XML's own encoding.
    """
    try:
        url = SOURCES[source]
    except (KeyError, TypeError):
        raise FeedError(f"no public URL for rate source {source!r}; fetchable sources: {sorted(SOURCES)}") from None
    try:
        with requests.get(
            url,
            timeout=timeout,
            stream=True,
            headers={"Accept": "application/xml, text/xml;q=0.9, */*;q=0.1", "User-Agent": "marketplace-rates/1"},
        ) as response:
            if response.status_code != 200:
                raise FeedError(f"{source}: GET {url} answered HTTP {response.status_code} {response.reason or ''}".rstrip())
            body = bytearray()
            for chunk in response.iter_content(chunk_size=65536):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise FeedError(f"{source}: GET {url} returned more than {MAX_DOCUMENT_BYTES} bytes")
    except requests.RequestException as exc:
        raise FeedError(f"{source}: GET {url} failed: {exc}") from None
    if not body.strip():
        raise FeedError(f"{source}: GET {url} returned an empty body")
    return bytes(body)


def snapshot_path(name: str) -> pathlib.Path:
    """Path of a bundled snapshot file in ``marketplace/rates/data`` (e.g. 'ecb-eurofxref-daily.xml')."""
    if not isinstance(name, str) or not name or pathlib.PurePath(name).name != name or name in {".", ".."}:
        raise ValueError(f"{name!r} is not a plain file name")
    path = DATA_DIR / name
    if not path.is_file():
        available = sorted(p.name for p in DATA_DIR.iterdir()) if DATA_DIR.is_dir() else []
        raise FileNotFoundError(f"no bundled rate snapshot {name!r}; available: {available}")
    return path
