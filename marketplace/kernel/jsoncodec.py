"""JSON at the storage edge: JSON columns and content hashes.

orjson (fast, compact UTF-8) with the standard library as the fallback for
what orjson refuses (integers beyond 64 bits, `NaN` in rows written before), so
that anything the standard library can store still stores. Python's json
module stays the request/response codec (Flask's provider), behind
`loads_untrusted`'s limits for anything from outside.
"""
from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any, NoReturn

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


# -- untrusted JSON (request bodies, partner job lines) -------------------------

#: Deepest nesting of arrays and objects accepted from outside.
MAX_DEPTH = 64
#: Longest number literal (digits, sign, point and exponent) accepted from outside.
MAX_NUMBER_LENGTH = 40

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DELTA = [0] * 256
for _opener in b"[{":
    _DELTA[_opener] = 1
for _closer in b"]}":
    _DELTA[_closer] = -1


class UntrustedJSONError(json.JSONDecodeError):
    """Text refused as JSON: malformed, nested too deep, or holding a number too long or out of range.

    A `json.JSONDecodeError` (a ValueError), so that code catching those (webargs, Flask's `get_json`)
    treats it as any other malformed body."""


def nesting_depth(data: bytes) -> int:
    """How deep arrays and objects nest in `data`, counted without parsing (so without recursion), in C
    loops (a regular expression, `bytes.translate`, `itertools.accumulate`).

    Strings are skipped, so brackets inside them do not count. For malformed text the count may be
    off past the first error, where a parser stops anyway."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DELTA.__getitem__, brackets)), default=0)


def _too_deep(data: bytes, limit: int) -> bool:
    if data.count(b"[") + data.count(b"{") <= limit:  # the common case: not even that many openers
        return False
    return nesting_depth(data) > limit


def _refuse(reason: str) -> NoReturn:
    raise _Refused(reason)


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_LENGTH:
        _refuse(f"a number longer than {MAX_NUMBER_LENGTH} characters")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_LENGTH:
        _refuse(f"a number longer than {MAX_NUMBER_LENGTH} characters")
    value = float(text)
    if math.isinf(value):
        _refuse("a number out of range")
    return value


def _parse_constant(name: str) -> NoReturn:
    _refuse(f"{name}, which is not JSON")


def loads_untrusted(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON from outside: UTF-8, nesting at most `max_depth` deep, numbers at most
    MAX_NUMBER_LENGTH characters and finite, no NaN/Infinity. Anything else raises
    UntrustedJSONError (a json.JSONDecodeError) whose message says why; the empty text raises it
    with an empty `doc`, as json.loads does."""
    if isinstance(data, str):
        text, raw = data, data.encode("utf-8", "surrogatepass")
    else:
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UntrustedJSONError(f"not UTF-8 ({error.reason})", raw.decode("utf-8", "replace"),
                                     error.start) from None
    if _too_deep(raw, max_depth):
        raise UntrustedJSONError(f"nested deeper than {max_depth} levels", text or " ", 0)
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except _Refused as refused:
        raise UntrustedJSONError(f"holds {refused.reason}", text, 0) from None
    except json.JSONDecodeError as error:
        raise UntrustedJSONError(error.msg, error.doc, error.pos) from None
    except (RecursionError, ValueError) as error:  # pragma: no cover - the depth check comes first
        raise UntrustedJSONError(str(error), text or " ", 0) from None
