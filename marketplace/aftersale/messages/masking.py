"""Contact details are masked in message bodies before they are stored, so the parties keep talking on the
marketplace (where a dispute can later read the thread) instead of taking the deal elsewhere.

- E-mail addresses (a regular expression): the first character of the local part and of the domain stay, the
  rest of each becomes `***`, the top-level domain stays: `ana.souza@example.com` -> `a***@e***.com`.
- Phone numbers (`phonenumbers.PhoneNumberMatcher`, leniency VALID, once per region: the vendor's country and
  the shopper's shipping country, so national formats of either are recognised; numbers written with `+` are
  found whatever the region): every digit but the last two becomes `*`, the separators stay, and so does a
  leading `+` with the country calling code: `+55 11 91234-5621` -> `+55 ** *****-**21`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9][A-Za-z0-9._%+-]*)@([A-Za-z0-9-]+)((?:\.[A-Za-z0-9-]+)*)\.([A-Za-z]{2,63})"
                   r"(?![\w-])")
#: Digits left visible at the end of a phone number.
VISIBLE_DIGITS = 2


def mask_email(match: re.Match[str]) -> str:
    local, domain, _middle, tld = match.groups()
    return f"{local[0]}***@{domain[0]}***.{tld}"


def mask_phone(raw: str, country_code: int | None) -> str:
    """`raw` with every digit but the last two starred; a leading `+` keeps the country calling code."""
    total = sum(ch.isdigit() for ch in raw)
    keep_prefix = ""
    if raw.startswith("+") and country_code is not None and raw[1:].startswith(str(country_code)):
        keep_prefix = "+" + str(country_code)
    out, seen = [keep_prefix], 0
    for ch in raw[len(keep_prefix):]:
        if ch.isdigit():
            seen += 1
            out.append(ch if total - len(keep_prefix.lstrip("+")) - seen < VISIBLE_DIGITS else "*")
        else:
            out.append(ch)
    return "".join(out)


def _mask_phones(text: str, region: str | None) -> str:
    pieces, last = [], 0
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        pieces.append(text[last:match.start])
        pieces.append(mask_phone(match.raw_string, match.number.country_code))
        last = match.end
    pieces.append(text[last:])
    return "".join(pieces)


def mask_contacts(text: str, regions: Iterable[str | None]) -> str:
    """`text` with its e-mail addresses and phone numbers masked; `regions` are the countries whose
    national formats count as phone numbers (ISO codes; None for international `+` numbers only)."""
    text = EMAIL.sub(mask_email, text)
    for region in dict.fromkeys(list(regions) or [None]):
        text = _mask_phones(text, region)
    return text
