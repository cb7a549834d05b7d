"""Locale negotiation and localized names (countries, currencies)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

#: Codes CLDR names as territories that ISO 3166-1 does not assign to a country: exceptionally reserved
#: (AC, CP, DG, EA, IC, TA), groupings (EU, EZ, UN, QO), user-assigned (XA, XB, XK), unknown (ZZ), and CQ.
NOT_ISO_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK",
                               "ZZ"})
#: ISO 3166-1 alpha-2 country codes (the 249 assigned ones), from CLDR's territory names via Babel.
COUNTRY_CODES = frozenset(code for code in Locale.parse("en").territories
                          if len(code) == 2 and code.isascii() and code.isalpha() and code not in NOT_ISO_COUNTRIES)


def is_country_code(value: object) -> bool:
    """Whether `value` is an assigned ISO 3166-1 alpha-2 code, upper case ("BR"; not "br", "ZZ", "EU", "001")."""
    return isinstance(value, str) and value in COUNTRY_CODES


def normalize_locale(value: str | None) -> str | None:
    """'pt-BR' -> 'pt', 'ZH_hans' -> 'zh'; None when it isn't one we serve."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").split("-")[0].lower()
    return tag if tag in current_app.config["SUPPORTED_LOCALES"] else None


def select_locale() -> str:
    supported = current_app.config["SUPPORTED_LOCALES"]
    if has_request_context():
        asked = normalize_locale(request.args.get("locale"))
        if asked:
            return asked
        best = request.accept_languages.best_match(supported)
        if best:
            return best
        for value, _quality in request.accept_languages:
            tag = normalize_locale(value)
            if tag:
                return tag
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    return str(get_locale() or "en")


def country_name(code: str, locale: str | None = None) -> str:
    loc = Locale.parse(locale or current_locale())
    return loc.territories.get(code.upper(), code.upper())


def currency_name(code: str, locale: str | None = None) -> str:
    loc = Locale.parse(locale or current_locale())
    return loc.currencies.get(code, code)


def currency_symbol(code: str, locale: str | None = None) -> str:
    loc = Locale.parse(locale or current_locale())
    return loc.currency_symbols.get(code, code)


def compile_translations(directory: Path = TRANSLATIONS_DIR) -> None:
    """Compile each messages.po to .mo when missing or older, so a fresh clone translates."""
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        # Several processes may start at once on a fresh clone (gunicorn workers, test workers): each writes
        # its own file and swaps it in atomically, so none ever reads or moves a half-written one.
        tmp = mo_path.with_suffix(f".mo.{os.getpid()}.{threading.get_ident()}.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)


def add_content_language(response):
    if has_request_context():
        response.headers.setdefault("Content-Language", current_locale())
    return response


def init_i18n(app: Flask) -> None:
    compile_translations()
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    app.after_request(add_content_language)
