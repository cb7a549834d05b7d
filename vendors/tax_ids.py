"""Validation and normalization of vendor tax identifiers, per country.

Pure module (no Flask, no database). Check digits and formats come from
python-stdnum wherever it has a module for the document; for documents that
stdnum does not know (AE, IR, ET) only the format is checked.

    >>> validate_tax_id('BR', '11.222.333/0001-81')
    TaxId(number='11222333000181', type='cnpj')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from stdnum.br import cnpj, cpf
from stdnum.cn import uscc
from stdnum.eg import tn as eg_tn
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.id import npwp
from stdnum.in_ import gstin, pan
from stdnum.ru import inn
from stdnum.util import clean, isdigits
from stdnum.za import tin as za_tin


@dataclass(frozen=True)
class TaxId:
    number: str  # normalized, compact form (no separators, upper case), as stored
    type: str  # machine name, e.g. 'cnpj'


class InvalidTaxId(ValueError):
    """The tax ID is not valid; ``message`` says precisely why (in English)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _digits(length: int, prefix: str = '') -> Callable[[str], str]:
    """Format-only validator (for documents stdnum has no module for)."""

    def validate(number: str) -> str:
        if not isdigits(number):
            raise InvalidFormat()
        if len(number) != length:
            raise InvalidLength()
        if not number.startswith(prefix):
            raise InvalidComponent()
        return number

    return validate


@dataclass(frozen=True)
class _Kind:
    type: str
    doc: str  # with article, as used in messages: 'a CNPJ'
    lengths: tuple[int, ...]
    validate: Callable[[str], str]  # stdnum-style: returns compact number or raises
    letters: bool = False  # letters allowed besides digits
    bad_format: str = 'it must consist of digits only'
    bad_component: str = 'part of the number is not valid'
    bad_checksum: str = 'the check digit is wrong'

    @property
    def name(self) -> str:
        return self.doc.split(' ', 1)[1]


_TWO_CHECK_DIGITS = 'the check digits are wrong'

# country -> (adjective used in messages, accepted kinds; lengths never overlap)
_COUNTRIES: dict[str, tuple[str, tuple[_Kind, ...]]] = {
    'BR': ('Brazilian', (
        _Kind('cnpj', 'a CNPJ', (14,), cnpj.validate, letters=True,
              bad_format='it must be 12 letters or digits followed by 2 check '
                         'digits, and not all zeros',
              bad_checksum=_TWO_CHECK_DIGITS),
        _Kind('cpf', 'a CPF', (11,), cpf.validate,
              bad_format='it must consist of digits only, not all zeros',
              bad_checksum=_TWO_CHECK_DIGITS),
    )),
    'RU': ('Russian', (
        _Kind('inn', 'an INN', (10, 12), inn.validate,
              bad_checksum='a check digit is wrong'),
    )),
    'IN': ('Indian', (
        _Kind('gstin', 'a GSTIN', (15,), gstin.validate, letters=True,
              bad_format='it must be a 2-digit state code, a 10-character PAN '
                         '(5 letters, 4 digits, 1 letter) and 3 letters or digits',
              bad_component='the state code is unknown, the 13th character is 0, '
                            "the 14th character is not 'Z' or the embedded PAN is "
                            'not valid (unknown holder type or serial number 0000)',
              bad_checksum='the check digit (last character) is wrong'),
        _Kind('pan', 'a PAN', (10,), pan.validate, letters=True,
              bad_format='it must be 5 letters, 4 digits and 1 letter',
              bad_component='the 4th letter is not a known holder type or the '
                            'serial number is 0000'),
    )),
    'CN': ('Chinese', (
        _Kind('uscc', 'a Unified Social Credit Code', (18,), uscc.validate,
              letters=True,
              bad_format='it must be 8 digits followed by 10 digits or letters '
                         '(except I, O, S, V and Z)',
              bad_checksum='the check digit (last character) is wrong'),
    )),
    'ZA': ('South African', (
        _Kind('za_tin', 'a tax reference number', (10,), za_tin.validate,
              bad_component='it must start with 0, 1, 2, 3 or 9'),
    )),
    'EG': ('Egyptian', (
        _Kind('eg_tn', 'a tax registration number', (9,), eg_tn.validate),
    )),
    'ID': ('Indonesian', (
        _Kind('npwp', 'an NPWP', (15, 16), npwp.validate,
              bad_component='a 16-digit NPWP not starting with 0 must be a valid '
                            'NIK (known region code and date of birth)'),
    )),
    'AE': ('Emirati', (
        _Kind('trn', 'a TRN', (15,), _digits(15, prefix='100'),
              bad_component='it must start with 100'),
    )),
    'IR': ('Iranian', (
        _Kind('ir_nid', 'a national ID', (11,), _digits(11)),
        _Kind('ir_economic_code', 'an economic code', (12,), _digits(12)),
    )),
    'ET': ('Ethiopian', (
        _Kind('et_tin', 'a TIN', (10,), _digits(10)),
    )),
}

_ALNUM = re.compile(r'[0-9A-Za-z]*')


def supported_types(country: str) -> tuple[str, ...]:
    """Machine names of the tax IDs accepted for ``country`` (empty if none)."""
    _, kinds = _COUNTRIES.get(_country_code(country), ('', ()))
    return tuple(kind.type for kind in kinds)


def validate_tax_id(country: str, value: str) -> TaxId:
    """Validate ``value`` as a tax ID of ``country`` (ISO 3166 alpha-2).

    Returns the normalized number and its type, or raises InvalidTaxId.
    """
    code = _country_code(country)
    if code not in _COUNTRIES:
        raise InvalidTaxId(f'Tax IDs from {code or "an unknown country"} are not supported.')
    adjective, kinds = _COUNTRIES[code]
    documents = ' or '.join(kind.name for kind in kinds)

    def invalid(what: str, kind: _Kind | None = None) -> InvalidTaxId:
        return InvalidTaxId(
            f'Not a valid {adjective} {kind.name if kind else documents}: {what}.')

    if not isinstance(value, str):
        raise invalid('the value is not text')
    number = _compact(value)
    if not number:
        raise invalid('the value is empty')
    letters = any(kind.letters for kind in kinds)
    if not (_ALNUM.fullmatch(number) if letters else isdigits(number)):
        raise invalid('it contains characters other than digits'
                      + (' and letters' if letters else ''))
    number = number.upper()

    kind = next((k for k in kinds if len(number) in k.lengths), None)
    if kind is None:
        unit = 'digits' if isdigits(number) else 'characters'
        expected = ' and '.join(
            f"{k.doc} has {' or '.join(map(str, k.lengths))}" for k in kinds)
        raise invalid(f'it has {len(number)} {unit}; {expected}')
    try:
        return TaxId(number=kind.validate(number), type=kind.type)
    except InvalidLength:  # not expected: lengths are checked above
        raise invalid(f"{kind.doc} has {' or '.join(map(str, kind.lengths))} characters",
                      kind) from None
    except InvalidFormat:
        raise invalid(kind.bad_format, kind) from None
    except InvalidComponent:
        raise invalid(kind.bad_component, kind) from None
    except InvalidChecksum:
        raise invalid(kind.bad_checksum, kind) from None
    except ValidationError:
        raise invalid('the number is not valid', kind) from None


def _country_code(country: str) -> str:
    return country.strip().upper() if isinstance(country, str) else ''


def _compact(value: str) -> str:
    """Drop whitespace, dots, dashes and slashes (including their Unicode
    look-alikes) and turn any Unicode decimal digit (Arabic-Indic, Persian,
    Devanagari, ...) into its ASCII digit."""
    return ''.join(
        str(unicodedata.decimal(char)) if char.isdecimal() else char
        for char in clean(value, '-./')
        if not char.isspace()
    )
