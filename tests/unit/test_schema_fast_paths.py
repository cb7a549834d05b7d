"""The fast paths of MoneyField and Translations load exactly what their schemas load, or step aside.

For any input, `_plain_money` / `_plain_translations` either give None (the
schema then decides, with its messages) or exactly the schema's own result: a
fast path never accepts what the schema refuses, nor loads it differently.
"""
from __future__ import annotations

import marshmallow as ma
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from catalog.schemas import ProductCreateSchema, TranslationSchema, _plain_translations
from marketplace.kernel.schemas import MoneySchema, _plain_money

CURRENCIES = st.sampled_from(["INR", "CNY", "BRL", "IDR", "IRR", "JPY", "XXX", "usd", ""])
AMOUNT_TEXT = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"\A-?[0-9]{0,17}(\.[0-9]{0,5})?([eE][+-]?[0-9]{1,2})?\Z"),
    st.sampled_from(["", " 12.50 ", "1_000.00", "1e15", "999999999999999.99", "0.005", "-0", "NaN", "Infinity"]),
)
#: Text without control characters: those are refused by the outermost load's text check, which runs before
#: any fast path (tests/unit/test_input_rules.py), so a nested load alone is not the answer for them.
PLAIN = st.characters(blacklist_categories=("Cc", "Cs"))
ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(PLAIN, max_size=5))


def schema_load(schema: ma.Schema, value):
    try:
        return schema.load(value)
    except ma.ValidationError:
        return None


@given(st.one_of(
    st.fixed_dictionaries({"amount": AMOUNT_TEXT, "currency": CURRENCIES}),
    st.fixed_dictionaries({"amount": st.one_of(AMOUNT_TEXT, ANY_VALUE), "currency": st.one_of(CURRENCIES, ANY_VALUE)},
                          optional={"formatted": st.text(max_size=3), "extra": ANY_VALUE}),
    ANY_VALUE))
@example({"amount": "12.50", "currency": "INR"})
@example({"amount": "12.505", "currency": "INR"})
@example({"amount": "12.5000", "currency": "INR"})
@example({"amount": "-1", "currency": "INR"})
def test_plain_money_is_the_schemas_answer_or_none(app, value):
    with app.test_request_context():
        fast = _plain_money(value)
        if fast is not None:
            assert schema_load(MoneySchema(), value) == fast


TRANSLATION = st.fixed_dictionaries(
    {"title": st.one_of(st.text(PLAIN, max_size=3), st.text(PLAIN, min_size=198, max_size=202), ANY_VALUE)},
    optional={"description": st.one_of(st.text(PLAIN, max_size=5), st.text(PLAIN, min_size=4999, max_size=5001),
                                       ANY_VALUE),
              "summary": st.text(PLAIN, max_size=3)})


@given(st.one_of(st.dictionaries(st.sampled_from(["en", "pt", "zh", "xx", "EN", ""]),
                                 st.one_of(TRANSLATION, ANY_VALUE), max_size=4),
                 ANY_VALUE))
@example({"en": {"title": "Assam tea"}})
@example({"en": {"title": ""}})
@example({"en": {"title": "Tea", "description": None}})
def test_plain_translations_are_the_schemas_answer_or_none(app, value):
    with app.test_request_context():
        fast = _plain_translations(value)
        if fast is not None:
            field = ProductCreateSchema().fields["translations"]
            expected = {locale: schema_load(TranslationSchema(), text) for locale, text in value.items()}
            assert None not in expected.values() and fast == expected
            if 1 <= len(value) <= 9:
                assert field.deserialize(value) == fast
            else:  # the field's own validators still run after the fast path
                with pytest.raises(ma.ValidationError):
                    field.deserialize(value)


def test_a_plain_listing_and_a_faulty_one_load_as_before(app):
    with app.test_request_context():
        schema = ProductCreateSchema()
        good = {"sku": "A-1", "translations": {"en": {"title": "Tea"}}, "price": {"amount": "10.50", "currency": "INR"},
                "stock": 1, "category": "tea", "hs_code": "090230"}
        loaded = schema.load(good)
        assert loaded["translations"] == {"en": {"title": "Tea", "description": ""}}
        assert str(loaded["price"].amount) == "10.50" and loaded["price"].currency == "INR"
        try:
            schema.load({**good, "translations": {"en": {"title": ""}, "xx": {"title": "T"}},
                         "price": {"amount": "10.505", "currency": "INR"}})
        except ma.ValidationError as error:
            messages = error.messages
        assert "amount" in messages["price"] and "translations" in messages
        assert "xx" in messages["translations"] and "title" in messages["translations"]["en"]["value"]
