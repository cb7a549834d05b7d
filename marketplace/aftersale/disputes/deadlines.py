"""Dispute deadlines per destination, as data (`deadline_rules.json`), each rule citing its legal source.

Pure module: no Flask, no database. `rule_for(country)` picks the rule for the shopper's shipping country
(the documented default for a country without one); `deadlines(rule, opened_at)` gives when the dispute
must be acknowledged and resolved.
"""
from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

_RULES_FILE = Path(__file__).with_name("deadline_rules.json")
_UNITS = ("hours", "days", "months")


@dataclass(frozen=True)
class Duration:
    unit: str      # hours | days | months
    count: int

    def after(self, moment: datetime) -> datetime:
        if self.unit == "hours":
            return moment + timedelta(hours=self.count)
        if self.unit == "days":
            return moment + timedelta(days=self.count)
        return add_months(moment, self.count)


@dataclass(frozen=True)
class DeadlineRule:
    id: str
    countries: tuple[str, ...] | None     # None: the default for every other destination
    source: str
    effective_from: str                   # ISO date
    acknowledge: Duration
    resolve: Duration
    notes: str


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (the month's last day if it has no such day)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def parse_duration(data: dict) -> Duration:
    if len(data) != 1 or next(iter(data)) not in _UNITS:
        raise ValueError(f"a duration is one of {_UNITS}: {data!r}")
    unit, count = next(iter(data.items()))
    if not isinstance(count, int) or count <= 0:
        raise ValueError(f"a duration counts whole units above zero: {data!r}")
    return Duration(unit, count)


@cache
def rules() -> tuple[DeadlineRule, ...]:
    data = json.loads(_RULES_FILE.read_text(encoding="utf-8"))
    loaded = tuple(DeadlineRule(id=r["id"], countries=tuple(r["countries"]) if r["countries"] is not None else None,
                                source=r["source"], effective_from=r["effective_from"],
                                acknowledge=parse_duration(r["acknowledge"]), resolve=parse_duration(r["resolve"]),
                                notes=r.get("notes", "")) for r in data["rules"])
    if sum(1 for r in loaded if r.countries is None) != 1:
        raise ValueError("deadline_rules.json needs exactly one default rule (countries: null)")
    return loaded


def rule_for(country: str | None) -> DeadlineRule:
    """The rule for a destination (ISO 3166-1 alpha-2, any case), else the default."""
    code = (country or "").upper()
    for rule in rules():
        if rule.countries is not None and code in rule.countries:
            return rule
    return next(r for r in rules() if r.countries is None)


def deadlines(rule: DeadlineRule, opened_at: datetime) -> tuple[datetime, datetime]:
    """(acknowledge_by, resolve_by) for a dispute opened at `opened_at`."""
    return rule.acknowledge.after(opened_at), rule.resolve.after(opened_at)
