"""MSME size classification (micro / small / medium / large) per national rule.

Pure module: no Flask, no database, no floats. The rules are data in
``msme_rules.json`` (one entry per legal instrument, thresholds as decimal
strings); this module only interprets two rule kinds:

* ``all_of``  - the class is the first listed band whose every condition holds
  (e.g. India: within BOTH the investment and the turnover limit; China: at or
  above BOTH lower bounds), else the rule's ``otherwise`` class;
* ``max_of``  - each criterion on its own gives the class of the first band
  whose condition on that criterion holds; the result is the largest of them
  (e.g. Russia, 209-FZ art. 4 part 4).

Inputs: ``country`` is an ISO 3166-1 alpha-2 code (case-insensitive); countries
without a coded rule use ``FALLBACK-EMPLOYEES``. ``sector`` must be one of
``SECTORS`` (case-insensitive); anything else raises ``MsmeInputError('sector')``
for every country - callers that cannot map a sector pass ``'other'``.
``turnover``/``investment`` are annual amounts in ``rule_for(country).currency``
(Decimal or int, never float); criteria a rule does not use are ignored.
"""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

__all__ = ['SECTORS', 'CLASSES', 'MsmeResult', 'MsmeRule', 'MsmeInputError',
           'rule_for', 'classify', 'rules']

SECTORS = ('agriculture', 'manufacturing', 'retail', 'wholesale', 'services', 'other')
CLASSES = ('micro', 'small', 'medium', 'large')          # ordered, smallest first
_CRITERIA = ('employees', 'turnover', 'investment')
_OPS = {'<=': operator.le, '<': operator.lt, '>=': operator.ge, '>': operator.gt}
_KINDS = ('all_of', 'max_of')
_RULES_FILE = Path(__file__).with_name('msme_rules.json')


@dataclass(frozen=True)
class MsmeResult:
    msme_class: str              # 'micro' | 'small' | 'medium' | 'large'
    rule: str                    # rule code, e.g. 'IN-UDYAM-2025'
    subtype: str | None = None   # e.g. 'mei' / 'me' / 'epp' for Brazil


@dataclass(frozen=True)
class MsmeRule:
    code: str
    country: str | None          # ISO 3166-1 alpha-2; None for the fallback
    currency: str | None         # ISO 4217 of turnover/investment; None if unused
    source: str                  # legal instrument
    effective_from: str          # ISO date
    notes: str


class MsmeInputError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field       # API field name, e.g. 'investment'
        self.message = message


@dataclass(frozen=True)
class _Band:
    msme_class: str
    subtype: str | None
    when: tuple[tuple[str, str, Decimal], ...]   # (criterion, op, limit)


@dataclass(frozen=True)
class _Spec:
    rule: MsmeRule
    kind: str
    otherwise: str
    required: dict[str, str]
    sector_map: dict[str, str] | None            # None: not sector-based
    tables: dict[str | None, tuple[_Band, ...]]  # table key -> bands


# --------------------------------------------------------------------- loading

def _bad(code: str, what: str) -> ValueError:
    return ValueError(f'{_RULES_FILE.name}: rule {code}: {what}')


def _parse_band(code: str, raw: dict) -> _Band:
    if raw.get('class') not in CLASSES:
        raise _bad(code, f'unknown class {raw.get("class")!r}')
    when = []
    for criterion, (op, limit) in raw['when'].items():
        if criterion not in _CRITERIA or op not in _OPS or not isinstance(limit, str):
            raise _bad(code, f'bad condition {criterion!r}: [{op!r}, {limit!r}] '
                             '(thresholds are decimal strings)')
        when.append((criterion, op, Decimal(limit)))
    if not when:
        raise _bad(code, 'band without conditions')
    return _Band(raw['class'], raw.get('subtype'), tuple(when))


def _parse_rule(raw: dict) -> _Spec:
    code = raw['code']
    rule = MsmeRule(code=code, country=raw['country'], currency=raw['currency'],
                    source=raw['source'].strip(), effective_from=raw['effective_from'],
                    notes=raw['notes'].strip())
    date.fromisoformat(rule.effective_from)  # ValueError if not an ISO date
    if not rule.source or raw['kind'] not in _KINDS or raw['otherwise'] not in CLASSES:
        raise _bad(code, 'needs a source, a known kind and an "otherwise" class')
    if 'sectors' in raw:
        sector_map = dict(raw['sector_map'])
        tables = {key: tuple(_parse_band(code, b) for b in t['bands'])
                  for key, t in raw['sectors'].items()}
        if set(sector_map) != set(SECTORS) or not set(sector_map.values()) <= set(tables):
            raise _bad(code, 'sector_map must map every sector in SECTORS to a table')
    else:
        sector_map, tables = None, {None: tuple(_parse_band(code, b) for b in raw['bands'])}
    return _Spec(rule, raw['kind'], raw['otherwise'], dict(raw.get('required', {})),
                 sector_map, tables)


@cache
def _specs() -> dict[str | None, _Spec]:
    """Rules keyed by country (None = fallback), in file order."""
    data = json.loads(_RULES_FILE.read_text(encoding='utf-8'),
                      parse_float=Decimal, parse_int=Decimal)  # never a float
    specs: dict[str | None, _Spec] = {}
    for raw in data['rules']:
        spec = _parse_rule(raw)
        if spec.rule.country in specs:
            raise _bad(spec.rule.code, f'second rule for country {spec.rule.country!r}')
        specs[spec.rule.country] = spec
    if None not in specs:
        raise ValueError(f'{_RULES_FILE.name}: no fallback rule (country null)')
    return specs


# ------------------------------------------------------------------ public API

def rules() -> list[MsmeRule]:
    """All rules (national ones and the fallback), for documentation endpoints."""
    return [spec.rule for spec in _specs().values()]


def _spec_for(country: str) -> _Spec:
    code = country.strip().upper() if isinstance(country, str) else ''
    if not re.fullmatch(r'[A-Z]{2}', code):
        raise MsmeInputError('country', 'country must be an ISO 3166-1 alpha-2 code, e.g. "IN".')
    specs = _specs()
    return specs.get(code, specs[None])


def rule_for(country: str) -> MsmeRule:
    """The rule applied to ``country`` (the fallback rule when none is coded).

    Its ``currency`` is the currency turnover/investment must be given in.
    """
    return _spec_for(country).rule


def _amount(field: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise MsmeInputError(field, f'{field} must be a Decimal amount (not {type(value).__name__}).')
    value = Decimal(value)
    if not value.is_finite() or value < 0:
        raise MsmeInputError(field, f'{field} must be a finite amount of at least 0.')
    return value


def classify(country: str, sector: str, employees: int, turnover: Decimal,
             investment: Decimal | None = None) -> MsmeResult:
    """Classify an enterprise under ``rule_for(country)``.

    ``turnover`` and ``investment`` are annual amounts in that rule's currency
    (the caller converts first); ``investment`` is only needed where the rule
    uses it (India), which raises ``MsmeInputError('investment', ...)`` if None.
    """
    spec = _spec_for(country)
    sector_key = sector.strip().lower() if isinstance(sector, str) else None
    if sector_key not in SECTORS:
        raise MsmeInputError('sector', f'sector must be one of: {", ".join(SECTORS)}.')
    if isinstance(employees, bool) or not isinstance(employees, int) or employees < 0:
        raise MsmeInputError('employees', 'employees must be a whole number of at least 0.')
    values = {'employees': Decimal(employees), 'turnover': _amount('turnover', turnover),
              'investment': None if investment is None else _amount('investment', investment)}

    bands = spec.tables[spec.sector_map[sector_key] if spec.sector_map else None]
    for criterion in dict.fromkeys(c for band in bands for c, _, _ in band.when):
        if values[criterion] is None:
            raise MsmeInputError(criterion, spec.required.get(
                criterion, f'{criterion} is required by rule {spec.rule.code}.'))

    def holds(condition: tuple[str, str, Decimal]) -> bool:
        criterion, op, limit = condition
        return _OPS[op](values[criterion], limit)

    if spec.kind == 'all_of':
        band = next((b for b in bands if all(map(holds, b.when))), None)
        if band is None:
            return MsmeResult(spec.otherwise, spec.rule.code)
        return MsmeResult(band.msme_class, spec.rule.code, band.subtype)

    # max_of: the class by each criterion separately, then the largest of them.
    by_criterion = [
        next((b.msme_class for b in bands for cond in b.when
              if cond[0] == criterion and holds(cond)), spec.otherwise)
        for criterion in dict.fromkeys(c for band in bands for c, _, _ in band.when)
    ]
    return MsmeResult(max(by_criterion, key=CLASSES.index), spec.rule.code)
