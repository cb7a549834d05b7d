"""One way to page through a listing: `?page=&per_page=` in, `{items, total, page, per_page}` out."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def paginate(session: Session, query: Select, page: int, per_page: int) -> dict[str, Any]:
    """Page `page` (from 1) of `query`, which carries its own `order_by`; `total` counts every row."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return {"items": items, "total": total, "page": page, "per_page": per_page}
