"""Dispute deadlines as data: every rule cites its source and date, destinations pick their rule (else the
documented default), and periods in hours, days and calendar months are counted from the opening."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from marketplace.aftersale.disputes import deadlines

OPENED = datetime(2027, 1, 31, 9, 30, tzinfo=timezone.utc)


def test_every_rule_cites_its_source_and_the_date_it_took_effect():
    for rule in deadlines.rules():
        assert rule.source.strip() and rule.id.strip()
        assert date.fromisoformat(rule.effective_from)
    assert sum(1 for rule in deadlines.rules() if rule.countries is None) == 1
    assert len({rule.id for rule in deadlines.rules()}) == len(deadlines.rules())


def test_india_acknowledges_within_48_hours_and_resolves_within_one_month():
    rule = deadlines.rule_for("IN")
    assert rule.id == "IN-CPER-2020-R4-5" and "rule 4(5)" in rule.source and rule.effective_from == "2020-07-23"
    acknowledge_by, resolve_by = deadlines.deadlines(rule, OPENED)
    assert acknowledge_by == OPENED + timedelta(hours=48)
    assert resolve_by == datetime(2027, 2, 28, 9, 30, tzinfo=timezone.utc)  # February has no 31st


@pytest.mark.parametrize("country, rule_id", [("BR", "BR-D7962-2013-A4"), ("br", "BR-D7962-2013-A4"),
                                              ("in", "IN-CPER-2020-R4-5"), ("ZA", "DEFAULT-ODR-2026"),
                                              ("", "DEFAULT-ODR-2026"), (None, "DEFAULT-ODR-2026")])
def test_destinations_pick_their_rule_or_the_default(country, rule_id):
    assert deadlines.rule_for(country).id == rule_id


def test_brazil_answers_within_five_days_and_resolves_within_thirty():
    acknowledge_by, resolve_by = deadlines.deadlines(deadlines.rule_for("BR"), OPENED)
    assert (acknowledge_by - OPENED, resolve_by - OPENED) == (timedelta(days=5), timedelta(days=30))


@pytest.mark.parametrize("moment, months, expected", [
    (datetime(2027, 1, 31), 1, datetime(2027, 2, 28)),
    (datetime(2028, 1, 31), 1, datetime(2028, 2, 29)),
    (datetime(2027, 12, 15), 1, datetime(2028, 1, 15)),
    (datetime(2027, 3, 31), 13, datetime(2028, 4, 30)),
])
def test_calendar_months_keep_the_day_or_take_the_months_last(moment, months, expected):
    assert deadlines.add_months(moment, months) == expected


@pytest.mark.parametrize("data", [{"weeks": 2}, {"days": 0}, {"days": "5"}, {"days": 5, "hours": 1}])
def test_a_malformed_period_is_refused(data):
    with pytest.raises(ValueError):
        deadlines.parse_duration(data)
