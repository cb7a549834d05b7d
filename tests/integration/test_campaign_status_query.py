"""The campaign list filters by status in SQL (promotions.campaigns.status_clause): every campaign a status
filter selects is one whose status, computed by the pure rule (rules.status_at), is that status."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from promotions import rules
from promotions.campaigns import status_clause
from promotions.models import Campaign

AT = datetime(2025, 11, 11, 12, 0, tzinfo=timezone.utc)
EDGES = (timedelta(days=-2), timedelta(days=-1), timedelta(0), timedelta(days=1), timedelta(days=2))


def test_each_status_filter_selects_exactly_the_campaigns_with_that_status(db):
    expected: dict[str, set[str]] = {status: set() for status in rules.STATUSES}
    for state in ("draft", "launched", "paused", "ended"):
        for start in EDGES:
            for end in EDGES:
                if end <= start:
                    continue
                slug = f"{state}-{int(start.total_seconds())}-{int(end.total_seconds())}".replace("--", "-m")
                db.session.add(Campaign(slug=slug, name={"en": slug}, state=state, starts_at=AT + start,
                                        ends_at=AT + end, discount_type="percent", discount_percent=Decimal(10),
                                        budget_spent=Decimal(0), description={}, eligibility={}))
                expected[rules.status_at(state, AT + start, AT + end, AT)].add(slug)
    db.session.commit()

    for status in rules.STATUSES:
        found = set(db.session.scalars(select(Campaign.slug).where(status_clause(status, AT))))
        assert found == expected[status], status
    assert all(expected.values())   # the grid holds campaigns of every status, windows starting or ending at AT
