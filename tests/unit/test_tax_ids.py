"""Unit tests for vendors.tax_ids (pure, no app or database needed)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.br import cnpj, cpf
from stdnum.cn import uscc
from stdnum.eg import tn as eg_tn
from stdnum.id import npwp
from stdnum.in_ import gstin, pan
from stdnum.ru import inn
from stdnum.za import tin as za_tin

from vendors.tax_ids import InvalidTaxId, TaxId, supported_types, validate_tax_id

# Valid example numbers (compact form), one or more per type. Seed data reuses these.
VALID = [
    ('BR', '11222333000181', 'cnpj'),
    ('BR', '12ABC34501DE35', 'cnpj'),  # alphanumeric CNPJ (from July 2026)
    ('BR', '39053344705', 'cpf'),
    ('RU', '1234567894', 'inn'),  # legal entity, 10 digits
    ('RU', '123456789047', 'inn'),  # individual entrepreneur, 12 digits
    ('IN', '27AAPFU0939F1ZV', 'gstin'),
    ('IN', 'ACUPA7085R', 'pan'),
    ('CN', '91110000600037341L', 'uscc'),
    ('ZA', '0001339050', 'za_tin'),
    ('EG', '100531385', 'eg_tn'),
    ('ID', '013121660091000', 'npwp'),  # old 15-digit format
    ('ID', '0013121660091000', 'npwp'),  # 16-digit format
    ('AE', '100234567890003', 'trn'),
    ('IR', '10380284790', 'ir_nid'),
    ('IR', '411345678912', 'ir_economic_code'),
    ('ET', '0012345678', 'et_tin'),
]
COUNTRIES = sorted({country for country, _, _ in VALID})


def raises(country, value):
    with pytest.raises(InvalidTaxId) as info:
        validate_tax_id(country, value)
    assert info.value.message == str(info.value)
    return info.value.message


def test_examples_are_valid_according_to_stdnum():
    # check digits computed with stdnum's own functions
    assert '112223330001' + cnpj.calc_check_digits('112223330001') == '11222333000181'
    assert '12ABC34501DE' + cnpj.calc_check_digits('12ABC34501DE') == '12ABC34501DE35'
    assert cpf.is_valid('39053344705')
    assert '123456789' + inn.calc_company_check_digit('123456789') == '1234567894'
    assert '1234567890' + inn.calc_personal_check_digits('1234567890') == '123456789047'
    assert gstin.is_valid('27AAPFU0939F1ZV')
    assert pan.is_valid('ACUPA7085R')
    assert '91110000600037341' + uscc.calc_check_digit('91110000600037341') == '91110000600037341L'
    assert za_tin.is_valid('0001339050')
    assert eg_tn.is_valid('100531385')
    assert '01312166' + luhn.calc_check_digit('01312166') == '013121660'
    assert npwp.is_valid('013121660091000') and npwp.is_valid('0013121660091000')


@pytest.mark.parametrize(('country', 'number', 'type_'), VALID)
def test_valid_numbers(country, number, type_):
    assert validate_tax_id(country, number) == TaxId(number=number, type=type_)
    assert type_ in supported_types(country)


@pytest.mark.parametrize(('country', 'formatted', 'number', 'type_'), [
    ('BR', '11.222.333/0001-81', '11222333000181', 'cnpj'),
    ('BR', '12.abc.345/01de-35', '12ABC34501DE35', 'cnpj'),
    ('BR', '390.533.447-05', '39053344705', 'cpf'),
    ('RU', ' 1234 567 894 ', '1234567894', 'inn'),
    ('IN', '27aapfu0939f1zv', '27AAPFU0939F1ZV', 'gstin'),
    ('IN', 'acupa-7085-r', 'ACUPA7085R', 'pan'),
    ('CN', '9111 0000 6000 3734 1l', '91110000600037341L', 'uscc'),
    ('ZA', '000133905-0', '0001339050', 'za_tin'),
    ('ZA', '0001/339/05/0', '0001339050', 'za_tin'),
    ('EG', '100-531-385', '100531385', 'eg_tn'),
    ('EG', '١٠٠-٥٣١-٣٨٥', '100531385', 'eg_tn'),  # Arabic-Indic digits
    ('ID', '01.312.166.0-091.000', '013121660091000', 'npwp'),
    ('AE', '100-2345-6789-0003', '100234567890003', 'trn'),
    ('IR', '۱۰۳۸۰۲۸۴۷۹۰', '10380284790', 'ir_nid'),  # Persian digits
    ('IR', '4113-4567-8912', '411345678912', 'ir_economic_code'),
    ('ET', '001 234 5678', '0012345678', 'et_tin'),
    ('br', '11\u201322233300\u2013\u20130181', '11222333000181', 'cnpj'),  # en dashes
])
def test_normalizes_formatted_input(country, formatted, number, type_):
    assert validate_tax_id(country, formatted) == TaxId(number=number, type=type_)


def test_supported_types():
    assert supported_types('BR') == ('cnpj', 'cpf')
    assert supported_types('in') == ('gstin', 'pan')
    assert supported_types('IR') == ('ir_nid', 'ir_economic_code')
    assert supported_types('RU') == ('inn',)
    assert supported_types('US') == ()


@pytest.mark.parametrize(('country', 'value', 'expected'), [
    ('BR', '11.222.333/0001-82', 'Not a valid Brazilian CNPJ: the check digits are wrong.'),
    ('BR', '390.533.447-06', 'Not a valid Brazilian CPF: the check digits are wrong.'),
    ('RU', '1234567895', 'Not a valid Russian INN: a check digit is wrong.'),
    ('RU', '123456789037', 'Not a valid Russian INN: a check digit is wrong.'),
    ('IN', '27AAPFU0939F1ZO', 'Not a valid Indian GSTIN: the check digit (last character) is wrong.'),
    ('CN', '91110000600037341M',
     'Not a valid Chinese Unified Social Credit Code: the check digit (last character) is wrong.'),
    ('ZA', '0001339051', 'Not a valid South African tax reference number: the check digit is wrong.'),
    ('ID', '013121661091000', 'Not a valid Indonesian NPWP: the check digit is wrong.'),
    ('ID', '0013121661091000', 'Not a valid Indonesian NPWP: the check digit is wrong.'),
])
def test_wrong_check_digit(country, value, expected):
    assert raises(country, value) == expected


@pytest.mark.parametrize(('country', 'value', 'expected'), [
    # EG, AE, IR, ET numbers and the Indian PAN have no (public) check digit.
    ('AE', '200234567890003', 'Not a valid Emirati TRN: it must start with 100.'),
    ('ZA', '4001339050', 'Not a valid South African tax reference number: it must start with'),
    ('IN', 'ABMXA3211G', 'Not a valid Indian PAN: the 4th letter is not a known holder type'),
    ('IN', 'ACUPA0000R', 'Not a valid Indian PAN:'),
    ('IN', '99AAPFU0939F1ZV', 'Not a valid Indian GSTIN: the state code is unknown'),
    ('IN', '27AAPFU0939F1AA', "the 14th character is not 'Z'"),
    ('ID', '9971011708450001', 'must be a valid NIK'),
    ('BR', '00000000000', 'Not a valid Brazilian CPF: it must consist of digits only, not all zeros.'),
    ('BR', '00000000000000', 'Not a valid Brazilian CNPJ: it must be 12 letters or digits'),
    ('BR', '3905334470A', 'Not a valid Brazilian CPF: it must consist of digits only'),
    ('IN', '27AAPFU09391FZV', 'Not a valid Indian GSTIN: it must be a 2-digit state code'),
    ('IN', 'ACUPA7085', 'Not a valid Indian GSTIN or PAN: it has 9 characters'),
    ('IN', 'ACUPAX085R', 'Not a valid Indian PAN: it must be 5 letters, 4 digits and 1 letter.'),
    ('CN', 'A1110000600037341L', 'Not a valid Chinese Unified Social Credit Code: it must be 8 digits'),
    ('CN', '9111000060003734IL', 'except I, O, S, V and Z'),
])
def test_wrong_component_or_format(country, value, expected):
    assert expected in raises(country, value)


@pytest.mark.parametrize(('country', 'value', 'expected'), [
    ('BR', '123456789',
     'Not a valid Brazilian CNPJ or CPF: it has 9 digits; a CNPJ has 14 and a CPF has 11.'),
    ('BR', '12ABC345', 'it has 8 characters; a CNPJ has 14 and a CPF has 11.'),
    ('RU', '12345678901', 'Not a valid Russian INN: it has 11 digits; an INN has 10 or 12.'),
    ('IN', '27AAPFU0939F1Z', 'it has 14 characters; a GSTIN has 15 and a PAN has 10.'),
    ('CN', '91110000600037341', 'it has 17 digits; a Unified Social Credit Code has 18.'),
    ('ZA', '9125568', 'Not a valid South African tax reference number: it has 7 digits;'
                      ' a tax reference number has 10.'),
    ('EG', '12345', 'Not a valid Egyptian tax registration number: it has 5 digits;'
                    ' a tax registration number has 9.'),
    ('ID', '123456789', 'Not a valid Indonesian NPWP: it has 9 digits; an NPWP has 15 or 16.'),
    ('AE', '1002345678900031', 'Not a valid Emirati TRN: it has 16 digits; a TRN has 15.'),
    ('IR', '1038028479', 'Not a valid Iranian national ID or economic code: it has 10 digits;'
                         ' a national ID has 11 and an economic code has 12.'),
    ('ET', '001234567', 'Not a valid Ethiopian TIN: it has 9 digits; a TIN has 10.'),
])
def test_wrong_length(country, value, expected):
    assert expected in raises(country, value)


@pytest.mark.parametrize('country', COUNTRIES)
@pytest.mark.parametrize('value', ['12345#6789', 'CNPJ: 123', '12_34', '1+1', '١٢٣٤٥٦٧٨٩x!'])
def test_junk_characters(country, value):
    message = raises(country, value)
    assert message.startswith('Not a valid ')
    assert 'contains characters other than digits' in message


@pytest.mark.parametrize(('country', 'value'), [
    ('RU', '123456789O'), ('ZA', 'ABCDEFGHIJ'), ('EG', '10O531385'), ('ID', 'npwp'),
    ('AE', '10023456789000X'), ('IR', '1038O284790'), ('ET', 'TIN0012345'),
])
def test_letters_in_digit_only_numbers(country, value):
    assert raises(country, value).endswith(': it contains characters other than digits.')


@pytest.mark.parametrize('country', COUNTRIES)
@pytest.mark.parametrize('value', ['', '   ', ' - / . '])
def test_empty(country, value):
    assert raises(country, value).endswith(': the value is empty.')


def test_unsupported_country():
    assert raises('US', '123456789') == 'Tax IDs from US are not supported.'
    assert raises('xx', '123') == 'Tax IDs from XX are not supported.'
    assert raises('', '123') == 'Tax IDs from an unknown country are not supported.'


def test_non_text_value():
    assert raises('BR', None) == 'Not a valid Brazilian CNPJ or CPF: the value is not text.'
    assert raises(None, '11222333000181') == 'Tax IDs from an unknown country are not supported.'


def test_invalid_tax_id_is_a_value_error():
    with pytest.raises(ValueError, match='check digits'):
        validate_tax_id('BR', '11222333000182')


SEPARATORS = st.sampled_from(['', ' ', '.', '-', '/', '\u2013', '\u00a0'])


@st.composite
def formatted(draw, number):
    """``number`` with random separators and random letter case."""
    parts = [draw(SEPARATORS)]
    for char in number:
        parts += [draw(st.sampled_from([char, char.lower()])), draw(SEPARATORS)]
    return ''.join(parts)


@pytest.mark.parametrize(('country', 'number', 'type_'), VALID)
@given(data=st.data())
def test_formatting_does_not_matter(country, number, type_, data):
    assert validate_tax_id(country, data.draw(formatted(number))) == TaxId(number, type_)


NEAR_ALPHABET = '0123456789ABCDEFLPUZabcz .-/\u0661\u06f1'


def replace_one(number, index, char):
    index %= len(number)
    return number[:index] + char + number[index + 1:]


def near_numbers():
    """Number-like strings, a good share of them valid, so that the
    idempotence branch of the property test is exercised too."""
    examples = st.sampled_from([number for _, number, _ in VALID])
    return st.one_of(
        st.text(alphabet=NEAR_ALPHABET, max_size=20),
        examples.flatmap(formatted),
        st.builds(replace_one, examples, st.integers(0, 20), st.sampled_from(NEAR_ALPHABET)),
    )


@pytest.mark.parametrize('country', COUNTRIES + ['US'])
@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.text(), near_numbers()))
def test_never_raises_anything_else_and_is_idempotent(country, value):
    try:
        result = validate_tax_id(country, value)
    except InvalidTaxId as exc:
        assert exc.message and exc.message.endswith('.')
        return
    assert result.type in supported_types(country)
    assert result.number.isascii() and result.number.isalnum()
    assert result.number == result.number.upper()
    assert validate_tax_id(country, result.number) == result
