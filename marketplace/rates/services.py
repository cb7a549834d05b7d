"""Exchange rates: load central-bank feeds and manual quotes, convert money."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as day_time
from decimal import Decimal
from pathlib import Path

from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.kernel.clock import now
from marketplace.kernel.errors import Invalid
from marketplace.kernel.i18n import currency_name, currency_symbol
from marketplace.kernel.money import Money, check_currency, to_decimal
from marketplace.rates import feeds
from marketplace.rates.conversion import CrossRate, Edge, NoRate, RateTable
from marketplace.rates.errors import RateErrorCode
from marketplace.rates.models import FxRate


def store_quotes(session: Session, quotes: list[feeds.Quote]) -> int:
    """Insert or update quotes (one row per base, quote, source and date); commits."""
    loaded_at = now()
    existing = {
        (row.base, row.quote, row.source, row.as_of): row
        for row in session.scalars(
            select(FxRate).where(FxRate.as_of.in_({q.as_of for q in quotes}),
                                 FxRate.source.in_({q.source for q in quotes}))
        )
    }
    for quote in quotes:
        row = existing.get((quote.base, quote.quote, quote.source, quote.as_of))
        if row is None:
            row = FxRate(base=quote.base, quote=quote.quote, source=quote.source, as_of=quote.as_of)
            session.add(row)
            existing[(quote.base, quote.quote, quote.source, quote.as_of)] = row
        row.rate = quote.rate
        row.loaded_at = loaded_at
    session.commit()
    forget_table()
    return len(quotes)


def refresh(session: Session, source: str, path: Path | None = None) -> list[feeds.Quote]:
    data = path.read_bytes() if path else feeds.fetch(source)
    quotes = feeds.parse(source, data)
    store_quotes(session, quotes)
    return quotes


#: A manual rate must be a plausible exchange rate (as the feeds' are) that the
#: NUMERIC(38, 18) column keeps exactly on every database.
MANUAL_RATE_RANGE = (Decimal("1e-12"), Decimal("1e12"))
RATE_PLACES = 18


def set_manual(session: Session, base: str, quote: str, rate: Decimal | str, as_of: date | None = None) -> feeds.Quote:
    """Store "1 `base` = `rate` `quote`" as a manual quote dated `as_of` (today); ValueError says what is wrong."""
    base, quote = check_currency(base), check_currency(quote)
    if base == quote:
        raise ValueError("a rate must join two different currencies")
    try:
        value = to_decimal(rate)
    except ValueError:
        raise ValueError(f"the rate {rate!r} is not a decimal number such as 7.1") from None
    low, high = MANUAL_RATE_RANGE
    if value <= 0:
        raise ValueError(f"the rate {rate!r} must be positive")
    if not low <= value <= high:
        raise ValueError(f"the rate {rate!r} is outside any plausible range ({low:f} to {high:f})")
    if _canonical(value).as_tuple().exponent < -RATE_PLACES:
        raise ValueError(f"the rate {rate!r} has more than {RATE_PLACES} decimal places")
    item = feeds.Quote(base=base, quote=quote, rate=value, as_of=as_of or now().date(), source="manual")
    store_quotes(session, [item])
    return item


def load_table(session: Session) -> RateTable:
    """The newest quote of each (base, quote, source)."""
    newest = (
        select(FxRate.base, FxRate.quote, FxRate.source, func.max(FxRate.as_of).label("as_of"))
        .group_by(FxRate.base, FxRate.quote, FxRate.source)
        .subquery()
    )
    rows = session.execute(
        select(FxRate).join(
            newest,
            (FxRate.base == newest.c.base) & (FxRate.quote == newest.c.quote)
            & (FxRate.source == newest.c.source) & (FxRate.as_of == newest.c.as_of),
        )
    ).scalars()
    return RateTable(Edge(r.base, r.quote, _canonical(Decimal(r.rate)), r.as_of, r.source) for r in rows)


def _canonical(rate: Decimal) -> Decimal:
    """The rate without trailing fractional zeros, so every database gives the same digits
    (PostgreSQL's NUMERIC(38, 18) pads 1.1552 to 1.155200000000000000; SQLite keeps the text)."""
    sign, digits, exponent = rate.as_tuple()
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return Decimal((sign, digits, exponent))


#: The last table this process built: (rates version, table, when the version was last checked).
_process_table: tuple[tuple, RateTable, float] | None = None
#: How long a process trusts its table before asking the database whether rates changed.
RECHECK_SECONDS = 1.0


def rates_version(session: Session) -> tuple:
    """Changes whenever a quote is added or reloaded (cheap: one aggregate over an indexed table)."""
    count, newest, last_id = session.execute(
        select(func.count(FxRate.id), func.max(FxRate.loaded_at), func.max(FxRate.id))).one()
    return count, str(newest), last_id


def current_table(session: Session) -> RateTable:
    """The rate table, rebuilt only when the stored rates changed; fixed for the rest of the request."""
    global _process_table
    if has_app_context() and "rate_table" in g:
        return g.rate_table
    if _process_table is not None and time.monotonic() - _process_table[2] < RECHECK_SECONDS:
        version = _process_table[0]  # checked a moment ago: rates change daily, not per request
    else:
        version = rates_version(session)
        if _process_table is None or _process_table[0] != version:
            _process_table = (version, load_table(session), time.monotonic())
        else:
            _process_table = (version, _process_table[1], time.monotonic())
    if has_app_context():
        g.rate_table = _process_table[1]
        g.rates_version = version
    return _process_table[1]


def forget_table() -> None:
    """Rates were just stored: rebuild on the next use (this process; others within RECHECK_SECONDS)."""
    global _process_table
    _process_table = None
    if has_app_context():
        g.pop("rate_table", None)


def cross_rate(session: Session, frm: str, to: str, field: str = "currency") -> CrossRate:
    try:
        return current_table(session).rate(frm, to)
    except NoRate:
        raise Invalid(RateErrorCode.NO_RATE, _("No exchange rate converts %(frm)s to %(to)s yet.", frm=frm, to=to),
                      field=field) from None


def convert(session: Session, money: Money, to: str, field: str = "currency") -> Money:
    return money.converted(cross_rate(session, money.currency, to, field).rate, to)


def is_stale(as_of: date | None) -> bool:
    """A quote is stale once its date (taken as 00:00 UTC) is older than FX_STALE_AFTER_HOURS."""
    if as_of is None:
        return False
    age = now() - datetime.combine(as_of, day_time.min, tzinfo=timezone.utc)
    return age > timedelta(hours=current_app.config["FX_STALE_AFTER_HOURS"])


def currency_overview(session: Session, locale: str) -> dict:
    base = current_app.config["BASE_CURRENCY"]
    table = current_table(session)
    items = []
    for code in current_app.config["SUPPORTED_CURRENCIES"]:
        try:
            cross = table.rate(code, base)
            rate, as_of, source, stale = cross.rate, cross.as_of, cross.source, is_stale(cross.as_of)
        except NoRate:
            rate, as_of, source, stale = None, None, None, True
        items.append({
            "code": code,
            "name": currency_name(code, locale),
            "symbol": currency_symbol(code, locale),
            "rate_to_base": rate,
            "as_of": as_of,
            "source": source,
            "stale": stale,
        })
    return {"base": base, "currencies": items}
