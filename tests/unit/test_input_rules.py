"""The rules every input from outside meets, without an app or a database: JSON limits, plain decimals,
text without control characters, country codes, web addresses."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import marshmallow as ma
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.kernel.i18n import COUNTRY_CODES, is_country_code
from marketplace.kernel.jsoncodec import MAX_DEPTH, UntrustedJSONError, loads_untrusted, nesting_depth
from marketplace.kernel.money import parse_plain_decimal
from marketplace.kernel.schemas import BaseSchema, UtcDateTime, text_problems, url_problem

# -- JSON ----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=20,
)


def depth_of(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


@given(json_values)
def test_untrusted_json_parses_what_the_standard_library_does_within_the_limits(value):
    text = json.dumps(value)
    assert loads_untrusted(text) == json.loads(text)
    assert loads_untrusted(text.encode()) == json.loads(text)
    assert nesting_depth(text.encode()) == depth_of(value)


@given(st.integers(min_value=MAX_DEPTH + 1, max_value=5000), st.sampled_from(["[]", "{}", '{"a":}']))
def test_json_nested_beyond_the_limit_is_refused_before_parsing(depth, pair):
    opener, closer = (pair[:-1], pair[-1]) if pair != '{"a":}' else ('{"a":', "}")
    with pytest.raises(UntrustedJSONError, match="nested deeper"):
        loads_untrusted(opener * depth + closer * depth)


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"a": "[" * 1000, "b": ['\\"[[[', "]]]"]})
    assert loads_untrusted(text) == json.loads(text)


@pytest.mark.parametrize("text,reason", [
    ("9" * 41, "longer than 40"), ("-" + "1" * 40, "longer than 40"), ("1e999", "out of range"),
    ("0." + "1" * 40, "longer than 40"), ("NaN", "NaN"), ("[Infinity]", "Infinity"), ("[-Infinity]", "Infinity"),
])
def test_numbers_too_long_or_not_finite_are_refused(text, reason):
    with pytest.raises(UntrustedJSONError, match=reason):
        loads_untrusted(text)


def test_a_40_character_number_is_exact():
    assert loads_untrusted("9" * 40) == int("9" * 40)


def test_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(UntrustedJSONError, match="not UTF-8"):
        loads_untrusted(b'"\xff"')


def test_an_empty_body_is_an_error_with_an_empty_document():
    with pytest.raises(UntrustedJSONError) as caught:
        loads_untrusted(b"")
    assert caught.value.doc == ""


# -- plain decimals ------------------------------------------------------------

@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**15), max_value=10**15))
def test_every_plain_decimal_parses_to_itself(number):
    text = format(number, "f")
    assert parse_plain_decimal(text) == number


@pytest.mark.parametrize("text", ["1_0.00", "١٠", "１０", " 1.00", "1.00 ", "1.00\n", "1e2", "1E2", "+1", "1.", ".5",
                                  "NaN", "Infinity", "-", "", "0x1A", "1,00", "1" * 41, 10, Decimal(1), None])
def test_anything_else_is_not_a_plain_decimal(text):
    assert parse_plain_decimal(text) is None


# -- text ----------------------------------------------------------------------

@given(st.text(alphabet=st.characters(categories=["Cc", "Cs"], exclude_characters="\n\r\t"), min_size=1),
       st.text(max_size=5))
def test_any_control_character_or_lone_surrogate_is_named_by_its_path(bad, good):
    data = {"translations": {"en": {"title": good + bad, "description": good + bad}}, "images": ["x", bad]}
    problems = text_problems(data)
    assert set(problems) == {"translations.en.title", "translations.en.description", "images.1"}


def test_new_lines_and_tabs_only_in_multi_line_fields():
    data = {"title": "a\nb", "description": "a\r\n\tb", "reason": "x\ny", "name": {"en": "a\tb"},
            "shipping_address": {"line1": "a\nb"}}
    assert set(text_problems(data)) == {"title", "name.en", "shipping_address.line1"}


def test_codes_are_ascii_but_free_form_attributes_are_not_codes():
    data = {"hs_code": "١٢٣٤٥٦", "tax_id": "１２３", "origin_countries": ["BR", "ＢＲ"],
            "attributes": {"country": "Россия"}, "title": "Чай"}
    assert set(text_problems(data)) == {"hs_code", "tax_id", "origin_countries.1"}


def test_a_name_with_a_control_character_is_named_by_its_parent():
    assert set(text_problems({"attributes": {"a\x00": 1}})) == {"attributes"}


def test_a_hostile_document_reports_a_bounded_number_of_problems():
    assert len(text_problems({"items": ["\x00"] * 10_000})) == 20


# -- countries, URLs, timestamps ------------------------------------------------

def test_country_codes_are_the_249_iso_3166_1_codes():
    assert len(COUNTRY_CODES) == 249
    assert {"BR", "RU", "IN", "CN", "ZA", "EG", "ET", "IR", "AE", "ID", "AQ", "SS", "CW"} <= COUNTRY_CODES


@pytest.mark.parametrize("code", ["ZZ", "EU", "EZ", "UN", "QO", "XK", "XA", "AC", "IC", "001", "br", "B", "BRA", "", None])
def test_regions_and_made_up_codes_are_not_countries(code):
    assert not is_country_code(code)


@pytest.mark.parametrize("url", ["https://example.com", "https://cdn.example.com:8443/a/b.jpg?x=1#y",
                                 "https://192.0.2.1/a.png", "https://[2001:db8::1]/a.png", "https://xn--80ak6aa92e.com/"])
def test_https_urls_with_a_host_pass(url):
    assert url_problem(url) is None


@pytest.mark.parametrize("url", ["https://", "https:///a", "https://:443/", "https://u:p@example.com/", "http://example.com/",
                                 "https://exa mple.com/", "https://пример.рф/", "https://-a.com/", "https://a..com/",
                                 "https://example.com:70000/", "https://[::1/", "https:example.com", "//example.com/",
                                 "https://example.com/\x00", "https://" + "a" * 2048 + ".com/"])
def test_urls_without_a_valid_host_or_scheme_fail(url):
    assert url_problem(url) is not None


class _When(BaseSchema):
    at = ma.fields.AwareDateTime(format="iso")
    utc = UtcDateTime()


@pytest.mark.parametrize("field", ["at", "utc"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_timestamps_that_overflow_in_utc_are_refused(field, moment):
    with pytest.raises(ma.ValidationError) as caught:
        _When().load({field: moment})
    assert field in caught.value.messages


def test_utc_datetime_gives_the_moment_in_utc():
    loaded = _When().load({"utc": "2030-01-01T05:30:00+05:30"})["utc"]
    assert loaded == datetime(2030, 1, 1, tzinfo=timezone.utc) and loaded.utcoffset() == timedelta(0)
