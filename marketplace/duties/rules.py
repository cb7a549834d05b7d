"""Destination rules for duties and import taxes, as versioned data (`rules.json`), each version citing its
legal source and the day it took effect.

Pure: no Flask, no database, no floats. `rule_for(country, on)` is the version in force on a day (the latest
`effective_from` on or before it, unless its `effective_to` has passed); countries without a coded rule get
the fallback estimate. `rule(id)` finds a version by id, so an order quoted under one keeps it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "INCOTERMS", "Band", "DutyRule", "rule_for", "rule", "rules"]

KINDS = ("cn_cbec", "br_rts", "flat")
INCOTERMS = ("DDP", "DAP")
_FILE = Path(__file__).with_name("rules.json")


@dataclass(frozen=True)
class Band:
    """A value band of Brazil's import tax: up to `up_to` (threshold currency), `rate` less `deduction`."""

    up_to: Decimal
    rate: Decimal
    deduction: Decimal


@dataclass(frozen=True)
class DutyRule:
    id: str
    country: str | None                 # ISO 3166-1 alpha-2; None for the fallback
    kind: str
    effective_from: date
    effective_to: date | None
    incoterm: str                       # DDP: collected at checkout; DAP: an estimate paid on delivery
    source: str
    notes: str
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def collected(self) -> bool:
        return self.incoterm == "DDP"

    @property
    def estimate(self) -> bool:
        return self.kind == "flat"

    def decimal(self, name: str) -> Decimal:
        return Decimal(self.params[name])

    def rate_by_hs(self, table: str, hs_code: str, default: Decimal) -> Decimal:
        """The rate of the longest HS prefix listed in `table` (e.g. "4901" for books), else `default`."""
        rates = self.params.get(table) or {}
        for length in range(len(hs_code), 1, -1):
            if hs_code[:length] in rates:
                return Decimal(rates[hs_code[:length]])
        return default

    def bands(self) -> list[Band]:
        return [Band(Decimal(b["up_to"]), Decimal(b["rate"]), Decimal(b["deduction"])) for b in self.params["bands"]]

    def state_rate(self, region: str | None) -> Decimal:
        by_state = self.params.get("icms_rates_by_state") or {}
        return Decimal(by_state.get((region or "").strip().upper(), self.params["icms_rate"]))

    @property
    def reference(self) -> dict[str, str]:
        """What an order keeps of the rule it was quoted under."""
        return {"id": self.id, "effective_from": self.effective_from.isoformat(), "source": self.source}


_REQUIRED = {
    "cn_cbec": ("currency", "single_limit", "annual_limit", "tariff_rate", "tax_share", "vat_rate",
                "general_tariff_rate"),
    "br_rts": ("threshold_currency", "max_value", "bands", "icms_rate"),
    "flat": ("threshold_currency", "de_minimis", "duty_rate", "tax_rate"),
}
_COMMON = {"id", "country", "kind", "effective_from", "effective_to", "incoterm", "source", "notes"}


def _parse(raw: dict[str, Any]) -> DutyRule:
    code = raw.get("id", "?")
    if raw.get("kind") not in KINDS or raw.get("incoterm") not in INCOTERMS or not str(raw.get("source", "")).strip():
        raise ValueError(f"{_FILE.name}: rule {code}: needs a known kind, an incoterm and a source")
    params = {k: v for k, v in raw.items() if k not in _COMMON}
    missing = [name for name in _REQUIRED[raw["kind"]] if name not in params]
    if missing:
        raise ValueError(f"{_FILE.name}: rule {code}: missing {', '.join(missing)}")
    for name, value in params.items():
        if isinstance(value, float):
            raise ValueError(f"{_FILE.name}: rule {code}: {name} must be a decimal string, not a float")
    rule = DutyRule(id=code, country=raw["country"], kind=raw["kind"],
                    effective_from=date.fromisoformat(raw["effective_from"]),
                    effective_to=date.fromisoformat(raw["effective_to"]) if raw.get("effective_to") else None,
                    incoterm=raw["incoterm"], source=raw["source"].strip(), notes=raw.get("notes", "").strip(),
                    params=params)
    if rule.kind == "br_rts":
        rule.bands()  # ValueError on a malformed band
    return rule


@cache
def rules() -> tuple[DutyRule, ...]:
    data = json.loads(_FILE.read_text(encoding="utf-8"), parse_float=str)  # a float would be a mistake
    parsed = tuple(_parse(raw) for raw in data["rules"])
    ids = [r.id for r in parsed]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{_FILE.name}: rule ids must be unique")
    return parsed


def rule(rule_id: str) -> DutyRule:
    for candidate in rules():
        if candidate.id == rule_id:
            return candidate
    raise KeyError(rule_id)


def rule_for(country: str, on: date) -> DutyRule:
    """The version of `country`'s rule in force on `on`; the fallback's when the country has none."""
    country = country.strip().upper()
    for key in (country, None):
        versions = [r for r in rules() if r.country == key and r.effective_from <= on
                    and (r.effective_to is None or on <= r.effective_to)]
        if versions:
            return max(versions, key=lambda r: r.effective_from)
    raise LookupError(f"no duty rule in force for {country} on {on.isoformat()}")
