"""Per-item results of a listing write (sync, update, a job's lines): one per item, in order, each with its
status and, for an error, the code and the messages by field; and the validation that fills in the errors."""
from __future__ import annotations

from collections import Counter
from typing import Any

import marshmallow as ma
from flask_babel import gettext as _

from catalog.errors import CatalogErrorCode
from marketplace.kernel.errors import DomainError, flatten_messages
from marketplace.partners.errors import PartnerErrorCode

STATUSES = ("created", "updated", "unchanged", "stale", "error")


def result(external_id: Any, status: str, product_id: int | None = None, errors: dict | None = None,
           code: str | None = None) -> dict[str, Any]:
    answer = {"external_id": external_id if isinstance(external_id, str) else None, "status": status,
              "product_id": product_id, "errors": errors}
    if code:
        answer["code"] = str(code)
    return answer


def error(external_id: Any, code: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    return result(external_id, "error", errors={k: [str(m) for m in v] for k, v in errors.items()}, code=code)


def domain_error(external_id: Any, failure: DomainError) -> dict[str, Any]:
    return error(external_id, failure.code, failure.errors or {"body": [str(failure.detail)]})


def not_authorized(external_id: Any) -> dict[str, Any]:
    return error(external_id, PartnerErrorCode.VENDOR_NOT_AUTHORIZED,
                 {"vendor_id": [_("This vendor has not authorized your partner account.")]})


def sku_taken(external_id: str) -> dict[str, Any]:
    return error(external_id, CatalogErrorCode.SKU_TAKEN,
                 {"sku": [_("The vendor already has another product with this SKU.")]})


def conflict(external_id: Any) -> dict[str, Any]:
    return error(external_id, "conflict", {
        "body": [_("Another write to this listing or SKU happened at the same time; send it again.")]})


def validate(schema: ma.Schema, items: list[Any]) -> tuple[list[dict | None], list[tuple[int, dict]]]:
    """Per-item validation: (results with errors filled in, [(index, data)] of the valid items)."""
    results: list[dict | None] = [None] * len(items)
    valid: list[tuple[int, dict]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        external_id = item.get("external_id") if isinstance(item, dict) else None
        if not isinstance(item, dict):
            results[index] = error(None, "validation_error", {"body": [_("Each item must be a JSON object.")]})
            continue
        try:
            data = schema.load(item)
        except ma.ValidationError as invalid:
            results[index] = error(external_id, "validation_error", flatten_messages(invalid.messages))
            continue
        if data["external_id"] in seen:
            results[index] = error(external_id, PartnerErrorCode.DUPLICATE_EXTERNAL_ID, {
                "external_id": [_("This external_id appears earlier in the same request.")]})
            continue
        seen.add(data["external_id"])
        valid.append((index, data))
    return results, valid


def summary(results: list[dict]) -> dict[str, int]:
    counts = Counter(r["status"] for r in results)
    return {status: counts.get(status, 0) for status in STATUSES}
