"""Localized API responses and the health of the translation catalogs."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from marketplace.kernel.i18n import TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("pt", "ru", "hi", "zh", "ar", "fa", "id", "am")
PLURAL_FORMS = {
    "pt": "nplurals=2; plural=(n > 1);",
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    "hi": "nplurals=2; plural=(n > 1);",
    "zh": "nplurals=1; plural=0;",
    "ar": "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);",
    "fa": "nplurals=2; plural=(n > 1);",
    "id": "nplurals=1; plural=0;",
    "am": "nplurals=2; plural=(n > 1);",
}
#: printf-style conversions: %(name)s, %d, %5.2f ...; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<type>[diouxXeEfFgGcrsa%])")


def load_catalog(lang: str):
    with (TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=lang)


def translate(lang: str, msgid: str) -> str:
    """The msgstr we ship for `msgid` in `lang` (so the tests follow the catalogs)."""
    message = load_catalog(lang).get(msgid)
    assert message is not None and message.string, f"{msgid!r} is not translated in {lang}"
    return message.string


def placeholders(text: str) -> Counter:
    return Counter((m["name"], m["type"]) for m in PLACEHOLDER.finditer(text) if m["type"] != "%")


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


# --- negotiated responses ---------------------------------------------------------------------


def test_not_found_title_follows_locale_query(client):
    body = problem(client.get("/api/v1/no-such-endpoint?locale=pt"), 404)
    assert body["title"] == "Não encontrado" == translate("pt", "Not found")
    assert body["code"] == "not_found"


def test_not_found_title_follows_accept_language(client):
    response = client.get("/api/v1/no-such-endpoint", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    body = problem(response, 404)
    assert body["title"] == "Не найдено" == translate("ru", "Not found")
    assert response.headers["Content-Language"] == "ru"


def test_content_language_names_the_served_locale(client):
    assert client.get("/api/v1/no-such-endpoint?locale=pt").headers["Content-Language"] == "pt"
    assert client.get("/api/v1/no-such-endpoint").headers["Content-Language"] == "en"


def test_domain_error_detail_is_translated(client):
    body = problem(client.get("/api/v1/vendors/999999?locale=id"), 404)
    assert body["title"] == "Tidak ditemukan"
    assert body["detail"] == "Penjual tidak ditemukan." == translate("id", "No such vendor.")


def test_validation_problem_in_chinese(client):
    response = client.post("/api/v1/auth/register?locale=zh", json={})
    body = problem(response, 422)
    assert body["title"] == "输入无效" == translate("zh", "Invalid input")
    assert set(body["errors"]) == {"email", "password", "role"}
    expected = translate("zh", "Some fields are invalid: %(fields)s.") % {"fields": "email, password, role"}
    assert body["detail"] == expected == "部分字段无效：email, password, role。"
    assert response.headers["Content-Language"] == "zh"


def test_weak_password_message_in_arabic(client):
    response = client.post("/api/v1/auth/register", json={"email": "a@example.com", "password": "short",
                                                          "role": "shopper"},
                           headers={"Accept-Language": "ar"})
    body = problem(response, 422)
    assert body["code"] == "weak_password"
    expected = translate("ar", "Passwords need at least %(n)d characters.") % {"n": 10}
    assert expected == "يجب أن تتكون كلمة المرور من 10 أحرف على الأقل."
    assert body["detail"] == expected
    assert body["errors"] == {"password": [expected]}
    assert body["title"] == translate("ar", "Invalid input")
    assert response.headers["Content-Language"] == "ar"


def test_english_is_the_source_language(client):
    body = problem(client.post("/api/v1/auth/register", json={"email": "a@example.com", "password": "short",
                                                                "role": "shopper"}), 422)
    assert body["title"] == "Invalid input"
    assert body["detail"] == "Passwords need at least 10 characters."


def test_unsupported_locale_falls_back_to_accept_language(client):
    response = client.get("/api/v1/no-such-endpoint?locale=xx", headers={"Accept-Language": "ru"})
    assert problem(response, 404)["title"] == "Не найдено"
    assert response.headers["Content-Language"] == "ru"


def test_unsupported_locale_and_language_fall_back_to_english(client):
    response = client.get("/api/v1/no-such-endpoint?locale=xx", headers={"Accept-Language": "de-DE,fr;q=0.8"})
    assert problem(response, 404)["title"] == "Not found"
    assert response.headers["Content-Language"] == "en"

    response = client.get("/api/v1/no-such-endpoint?locale=xx")
    assert problem(response, 404)["title"] == "Not found"
    assert response.headers["Content-Language"] == "en"


@pytest.mark.parametrize("how", ["query", "header"])
def test_regional_tag_maps_to_language(client, how):
    if how == "query":
        response = client.get("/api/v1/no-such-endpoint?locale=pt-BR")
    else:
        response = client.get("/api/v1/no-such-endpoint", headers={"Accept-Language": "pt-BR"})
    assert problem(response, 404)["title"] == "Não encontrado"
    assert response.headers["Content-Language"] == "pt"


def test_query_locale_wins_over_accept_language(client):
    response = client.get("/api/v1/no-such-endpoint?locale=hi", headers={"Accept-Language": "ru"})
    assert problem(response, 404)["title"] == translate("hi", "Not found")
    assert response.headers["Content-Language"] == "hi"


@pytest.mark.parametrize("lang", ["en", *LANGUAGES])
def test_currency_names_follow_locale(client, lang):
    response = client.get(f"/api/v1/currencies?locale={lang}")
    assert response.status_code == 200, response.get_json()
    assert response.headers["Content-Language"] == lang
    names = {item["code"]: item["name"] for item in response.get_json()["currencies"]}
    assert names["BRL"] == Locale.parse(lang).currencies["BRL"]


def test_currency_names_exact(client):
    names = {i["code"]: i["name"] for i in client.get("/api/v1/currencies?locale=pt").get_json()["currencies"]}
    assert names["BRL"] == "Real brasileiro"
    names = {i["code"]: i["name"] for i in client.get("/api/v1/currencies",
                                                        headers={"Accept-Language": "ru"}).get_json()["currencies"]}
    assert names["RUB"] == "российский рубль"
    names = {i["code"]: i["name"] for i in client.get("/api/v1/currencies").get_json()["currencies"]}
    assert names["BRL"] == "Brazilian Real"


# --- catalogs -----------------------------------------------------------------------------------


def extracted_msgids() -> set[str]:
    """Every string marked in the code, extracted with babel.cfg exactly as the README says."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
                "lazy_ngettext": (1, 2)}
    ids = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def test_template_is_current():
    with (TRANSLATIONS_DIR / "messages.pot").open("rb") as pot:
        template_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    missing = extracted_msgids() - template_ids
    assert not missing, f"re-run pybabel extract (see marketplace/translations/README.md): {sorted(missing)}"


def test_every_language_has_a_catalog(app):
    on_disk = {p.parent.parent.name for p in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po")}
    assert on_disk == set(LANGUAGES)
    assert set(app.config["SUPPORTED_LOCALES"]) == {"en", *LANGUAGES}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete_and_placeholders_match(lang):
    catalog = load_catalog(lang)
    assert not catalog.fuzzy, f"{lang}: the header is marked fuzzy"
    assert catalog.plural_forms == PLURAL_FORMS[lang]

    with (TRANSLATIONS_DIR / "messages.pot").open("rb") as pot:
        template_ids = {m.id for m in read_po(pot) if m.id}
    catalog_ids = {m.id for m in catalog if m.id}
    assert template_ids - catalog_ids == set(), f"{lang}: run pybabel update"

    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        if isinstance(message.id, (list, tuple)) and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} plural forms instead of {catalog.num_plurals}: {ids[0]!r}")
        expected = placeholders(ids[-1])
        for text in strings:
            if placeholders(text) != expected:
                problems.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
            if text.strip() == ids[0].strip() and any(c.isalpha() for c in text):
                problems.append(f"left in English: {ids[0]!r}")
        for error in message.check(catalog):
            problems.append(f"{error}: {ids[0]!r}")
    assert not problems, f"{lang}:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_formatted_messages_render(lang):
    """Every python-format entry formats with the arguments its msgid takes."""
    for message in load_catalog(lang):
        if not (message.id and message.python_format and isinstance(message.string, str)):
            continue
        args = {name: (10 if kind in "diouxX" else "XX") for name, kind in placeholders(message.id)}
        rendered = message.string % args
        assert "%(" not in rendered
