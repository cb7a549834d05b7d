"""JSON at the storage edge: JSON columns and content hashes.

orjson (fast, compact UTF-8) with the standard library as the fallback for
what orjson refuses (integers beyond 64 bits, `NaN` in rows written before), so
that anything the standard library can store still stores. Python's json
module stays the request/response codec (Flask's provider).
"""
from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS
_CANONICAL = orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS


def dumps(value: Any) -> str:
    """Compact JSON text (SQLAlchemy's `json_serializer`)."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """SQLAlchemy's `json_deserializer`."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def canonical(value: Any) -> bytes:
    """One byte string per value (sorted keys, compact, UTF-8): what content hashes are taken of."""
    try:
        return orjson.dumps(value, option=_CANONICAL)
    except orjson.JSONEncodeError:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
