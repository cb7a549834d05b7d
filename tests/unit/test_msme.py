"""Unit tests for vendors.msme: both sides of every threshold, per rule."""

import json
from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from vendors import msme
from vendors.msme import CLASSES, SECTORS, MsmeInputError, MsmeResult, classify, rule_for, rules

CRORE = D('10000000')
MILLION = D('1000000')
CENT = D('0.01')


def cls(*args, **kwargs) -> str:
    return classify(*args, **kwargs).msme_class


# ---------------------------------------------------------------- rule catalogue

def test_rule_catalogue():
    all_rules = rules()
    assert [r.code for r in all_rules] == [
        'IN-UDYAM-2025', 'BR-LC123-2006', 'RU-209FZ', 'CN-SME-2011', 'ZA-NSBA-2019',
        'EG-LAW152-2020', 'ID-PP7-2021', 'FALLBACK-EMPLOYEES']
    for rule in all_rules:
        assert rule.source.strip() and rule.notes.strip()
        assert date.fromisoformat(rule.effective_from).isoformat() == rule.effective_from
    assert [r.code for r in all_rules if r.country is None] == ['FALLBACK-EMPLOYEES']


@pytest.mark.parametrize('country, code, currency', [
    ('IN', 'IN-UDYAM-2025', 'INR'), ('BR', 'BR-LC123-2006', 'BRL'), ('RU', 'RU-209FZ', 'RUB'),
    ('CN', 'CN-SME-2011', 'CNY'), ('ZA', 'ZA-NSBA-2019', 'ZAR'), ('EG', 'EG-LAW152-2020', 'EGP'),
    ('ID', 'ID-PP7-2021', 'IDR'), ('AE', 'FALLBACK-EMPLOYEES', None),
    ('ET', 'FALLBACK-EMPLOYEES', None), (' in ', 'IN-UDYAM-2025', 'INR'),
])
def test_rule_for(country, code, currency):
    rule = rule_for(country)
    assert (rule.code, rule.currency) == (code, currency)


def test_thresholds_are_decimal_strings_in_data():
    raw = json.loads(Path(msme.__file__).with_name('msme_rules.json').read_text('utf-8'))
    for rule in raw['rules']:
        tables = [t['bands'] for t in rule['sectors'].values()] if 'sectors' in rule else [rule['bands']]
        for band in (b for t in tables for b in t):
            for _op, limit in band['when'].values():
                assert isinstance(limit, str)
                D(limit)


def test_result_is_frozen():
    result = classify('RU', 'retail', 1, D(0))
    assert result == MsmeResult('micro', 'RU-209FZ', None)
    with pytest.raises(FrozenInstanceError):
        result.msme_class = 'large'


# ------------------------------------------------------------------------- India

@pytest.mark.parametrize('investment, turnover, expected', [
    (D(0), D(0), 'micro'),
    (D('2.5') * CRORE, 10 * CRORE, 'micro'),                  # both limits inclusive
    (D('2.5') * CRORE + 1, 10 * CRORE, 'small'),
    (D('2.5') * CRORE, 10 * CRORE + 1, 'small'),
    (D('2.5') * CRORE, 10 * CRORE + CENT, 'small'),
    (25 * CRORE, 100 * CRORE, 'small'),
    (25 * CRORE + 1, 100 * CRORE, 'medium'),
    (25 * CRORE, 100 * CRORE + 1, 'medium'),
    (125 * CRORE, 500 * CRORE, 'medium'),
    (125 * CRORE + 1, 500 * CRORE, 'large'),
    (125 * CRORE, 500 * CRORE + 1, 'large'),
    (D(0), 200 * CRORE, 'medium'),                            # either criterion pushes up
    (100 * CRORE, D(0), 'medium'),
])
def test_india(investment, turnover, expected):
    assert classify('IN', 'manufacturing', 5, turnover, investment) == \
        MsmeResult(expected, 'IN-UDYAM-2025', None)


def test_india_ignores_employees_and_sector():
    for sector in SECTORS:
        assert cls('IN', sector, 100_000, D(1), D(1)) == 'micro'


def test_india_requires_investment():
    with pytest.raises(MsmeInputError) as err:
        classify('IN', 'services', 3, D(1000))
    assert isinstance(err.value, ValueError)
    assert err.value.field == 'investment'
    assert str(err.value) == err.value.message == (
        'Indian MSME classification (Udyam) needs the investment in plant, machinery and equipment.')


# ------------------------------------------------------------------------ Brazil

@pytest.mark.parametrize('employees, revenue, expected, subtype', [
    (0, D(0), 'micro', 'mei'),
    (1, D(81000), 'micro', 'mei'),                            # MEI: <= R$81,000, one employee
    (1, D(81000) + CENT, 'micro', 'me'),
    (2, D(81000), 'micro', 'me'),                             # MEI allows a single employee
    (9, D(360000), 'micro', 'me'),
    (9, D(360000) + CENT, 'small', 'epp'),
    (40, D(4800000), 'small', 'epp'),
    (40, D(4800000) + CENT, 'medium', None),
    (500, 300 * MILLION, 'medium', None),                     # BNDES medium <= R$300m
    (500, 300 * MILLION + CENT, 'large', None),
    (5000, D(100000), 'micro', 'me'),                         # revenue only (besides MEI)
])
def test_brazil(employees, revenue, expected, subtype):
    assert classify('BR', 'retail', employees, revenue) == \
        MsmeResult(expected, 'BR-LC123-2006', subtype)


# ------------------------------------------------------------------------ Russia

@pytest.mark.parametrize('employees, revenue, expected', [
    (15, 120 * MILLION, 'micro'),
    (16, 120 * MILLION, 'small'),
    (15, 120 * MILLION + CENT, 'small'),
    (100, 800 * MILLION, 'small'),
    (101, 800 * MILLION, 'medium'),
    (100, 800 * MILLION + CENT, 'medium'),
    (250, 2000 * MILLION, 'medium'),
    (251, 2000 * MILLION, 'large'),
    (250, 2000 * MILLION + CENT, 'large'),
    (10, 500 * MILLION, 'small'),                             # max_of: revenue decides
    (200, 1 * MILLION, 'medium'),                             # max_of: headcount decides
    (0, 3000 * MILLION, 'large'),
])
def test_russia(employees, revenue, expected):
    assert classify('RU', 'wholesale', employees, revenue) == MsmeResult(expected, 'RU-209FZ')


# ------------------------------------------------------------------------- China
# (employees, revenue) -> class; lower bounds inclusive, large needs both upper bounds.

CN_CASES = {
    'manufacturing': [   # 工业
        (1000, 400 * MILLION, 'large'), (999, 400 * MILLION, 'medium'),
        (1000, 400 * MILLION - CENT, 'medium'), (5000, 20 * MILLION, 'medium'),
        (300, 20 * MILLION, 'medium'), (299, 20 * MILLION, 'small'),
        (300, 20 * MILLION - CENT, 'small'),
        (20, 3 * MILLION, 'small'), (19, 3 * MILLION, 'micro'),
        (20, 3 * MILLION - CENT, 'micro'), (5000, 1 * MILLION, 'micro'),  # below either
    ],
    'retail': [          # 零售业
        (300, 200 * MILLION, 'large'), (299, 200 * MILLION, 'medium'),
        (300, 200 * MILLION - CENT, 'medium'),
        (50, 5 * MILLION, 'medium'), (49, 5 * MILLION, 'small'), (50, 5 * MILLION - CENT, 'small'),
        (10, 1 * MILLION, 'small'), (9, 1 * MILLION, 'micro'), (10, 1 * MILLION - CENT, 'micro'),
    ],
    'wholesale': [       # 批发业
        (200, 400 * MILLION, 'large'), (199, 400 * MILLION, 'medium'),
        (200, 400 * MILLION - CENT, 'medium'),
        (20, 50 * MILLION, 'medium'), (19, 50 * MILLION, 'small'), (20, 50 * MILLION - CENT, 'small'),
        (5, 10 * MILLION, 'small'), (4, 10 * MILLION, 'micro'), (5, 10 * MILLION - CENT, 'micro'),
    ],
    'agriculture': [     # 农、林、牧、渔业: revenue only
        (0, 200 * MILLION, 'large'), (0, 200 * MILLION - CENT, 'medium'),
        (0, 5 * MILLION, 'medium'), (0, 5 * MILLION - CENT, 'small'),
        (0, D(500000), 'small'), (0, D(500000) - CENT, 'micro'), (100_000, D(0), 'micro'),
    ],
    'services': [        # 其他未列明行业: employees only
        (300, D(0), 'large'), (299, 10**9, 'medium'), (100, D(0), 'medium'),
        (99, D(0), 'small'), (10, D(0), 'small'), (9, 10**9, 'micro'),
    ],
}
CN_CASES['other'] = CN_CASES['services']


@pytest.mark.parametrize('sector, employees, revenue, expected', [
    (sector, *case) for sector, cases in CN_CASES.items() for case in cases])
def test_china(sector, employees, revenue, expected):
    assert classify('CN', sector, employees, D(revenue)) == MsmeResult(expected, 'CN-SME-2011')


# ------------------------------------------------------------------ South Africa
# Turnover ceilings (micro, small, medium) in ZAR millions, inclusive.

ZA_TURNOVER = {
    'agriculture': ('7', '17', '35'),
    'manufacturing': ('10', '50', '170'),
    'retail': ('7.5', '25', '80'),
    'wholesale': ('20', '80', '220'),
    'services': ('5', '22', '70'),       # Community, social & personal services row
    'other': ('5', '22', '70'),
}


@pytest.mark.parametrize('sector', SECTORS)
def test_south_africa_turnover(sector):
    micro, small, medium = (D(m) * MILLION for m in ZA_TURNOVER[sector])
    for turnover, expected in [(micro, 'micro'), (micro + CENT, 'small'), (small, 'small'),
                               (small + CENT, 'medium'), (medium, 'medium'), (medium + CENT, 'large')]:
        assert classify('ZA', sector, 0, turnover) == MsmeResult(expected, 'ZA-NSBA-2019'), turnover


@pytest.mark.parametrize('sector', SECTORS)
@pytest.mark.parametrize('employees, expected', [
    (0, 'micro'), (10, 'micro'), (11, 'small'), (50, 'small'), (51, 'medium'), (250, 'medium'),
    (251, 'large')])
def test_south_africa_employees(sector, employees, expected):
    assert cls('ZA', sector, employees, D(0)) == expected


def test_south_africa_larger_of_the_two():
    assert cls('ZA', 'services', 5, 60 * MILLION) == 'medium'
    assert cls('ZA', 'manufacturing', 100, 1 * MILLION) == 'medium'
    assert cls('ZA', 'wholesale', 30, 21 * MILLION) == 'small'


# ---------------------------------------------------------- Egypt and Indonesia

@pytest.mark.parametrize('turnover, expected', [
    (D(0), 'micro'), (MILLION - CENT, 'micro'), (MILLION, 'small'),
    (50 * MILLION - CENT, 'small'), (50 * MILLION, 'medium'),
    (200 * MILLION, 'medium'), (200 * MILLION + CENT, 'large'),
])
def test_egypt(turnover, expected):
    assert classify('EG', 'other', 9999, turnover) == MsmeResult(expected, 'EG-LAW152-2020')


@pytest.mark.parametrize('turnover, expected', [
    (2000 * MILLION, 'micro'), (2000 * MILLION + CENT, 'small'),
    (15000 * MILLION, 'small'), (15000 * MILLION + CENT, 'medium'),
    (50000 * MILLION, 'medium'), (50000 * MILLION + CENT, 'large'),
])
def test_indonesia(turnover, expected):
    assert classify('ID', 'retail', 9999, turnover) == MsmeResult(expected, 'ID-PP7-2021')


# ---------------------------------------------------------------------- fallback

@pytest.mark.parametrize('employees, expected', [
    (0, 'micro'), (9, 'micro'), (10, 'small'), (49, 'small'), (50, 'medium'),
    (249, 'medium'), (250, 'large')])
def test_fallback_employees_only(employees, expected):
    for turnover in (D(0), D(10) ** 15):
        assert classify('AE', 'services', employees, turnover) == \
            MsmeResult(expected, 'FALLBACK-EMPLOYEES')


# ------------------------------------------------------------------ bad inputs

@pytest.mark.parametrize('country', ['IN', 'ZA', 'AE'])
@pytest.mark.parametrize('sector', ['mining', '', None, 'service'])
def test_unknown_sector_is_rejected_for_every_country(country, sector):
    with pytest.raises(MsmeInputError) as err:
        classify(country, sector, 1, D(1), D(1))
    assert err.value.field == 'sector'


def test_sector_is_case_insensitive():
    assert cls('CN', ' Retail ', 300, 200 * MILLION) == 'large'


@pytest.mark.parametrize('kwargs, field', [
    (dict(country='IND'), 'country'), (dict(country=''), 'country'), (dict(country=None), 'country'),
    (dict(employees=-1), 'employees'), (dict(employees=True), 'employees'),
    (dict(employees=1.0), 'employees'), (dict(turnover=1.5), 'turnover'),
    (dict(turnover=D(-1)), 'turnover'), (dict(turnover=D('NaN')), 'turnover'),
    (dict(turnover=D('Infinity')), 'turnover'), (dict(turnover='100'), 'turnover'),
    (dict(investment=0.5), 'investment'), (dict(investment=D(-1)), 'investment'),
])
def test_invalid_inputs(kwargs, field):
    args = dict(country='IN', sector='retail', employees=1, turnover=D(1), investment=D(1)) | kwargs
    with pytest.raises(MsmeInputError) as err:
        classify(**args)
    assert err.value.field == field


def test_int_amounts_are_accepted():
    assert classify('IN', 'retail', 1, 10 * 10**7, 25 * 10**6).msme_class == 'micro'


# ---------------------------------------------------------- monotonicity property

def _limits(criterion):
    raw = json.loads(Path(msme.__file__).with_name('msme_rules.json').read_text('utf-8'))
    found = set()
    for rule in raw['rules']:
        tables = [t['bands'] for t in rule['sectors'].values()] if 'sectors' in rule else [rule['bands']]
        found |= {D(b['when'][criterion][1]) for t in tables for b in t if criterion in b['when']}
    return sorted(found)


def _near(values, step):
    """Values at, just below and just above each threshold (never negative)."""
    return st.sampled_from([v + d for v in values for d in (-step, 0, step) if v + d >= 0])


AMOUNTS = st.one_of(
    _near(_limits('turnover') + _limits('investment'), CENT),
    st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
HEADCOUNT = st.one_of(_near([int(v) for v in _limits('employees')], 1), st.integers(0, 5000))
AMOUNT_STEP = st.one_of(st.just(D(0)), st.just(CENT), AMOUNTS)
HEADCOUNT_STEP = st.one_of(st.just(0), st.just(1), st.integers(0, 2000))
RANK = {c: i for i, c in enumerate(CLASSES)}


@pytest.mark.parametrize('country', [r.country or 'AE' for r in rules()])
@settings(max_examples=300, deadline=None)
@given(sector=st.sampled_from(SECTORS), employees=HEADCOUNT, turnover=AMOUNTS,
       investment=AMOUNTS, more_employees=HEADCOUNT_STEP, more_turnover=AMOUNT_STEP,
       more_investment=AMOUNT_STEP)
def test_classification_is_monotone(country, sector, employees, turnover, investment,
                                    more_employees, more_turnover, more_investment):
    before = classify(country, sector, employees, turnover, investment)
    after = classify(country, sector, employees + more_employees, turnover + more_turnover,
                     investment + more_investment)
    assert before.rule == after.rule == rule_for(country).code
    assert RANK[after.msme_class] >= RANK[before.msme_class]
